namespace VethXdp.Vm.Maps;

/// <summary>A map as an object file defines it (BTF <c>.maps</c>, the legacy <c>maps</c> section, or a
/// global-data section), before it is created.</summary>
/// <remarks>Programs refer to maps by their index in <c>BpfObject.Maps</c>: the loader rewrites every map
/// reference into a 64-bit load with src <c>BPF_PSEUDO_MAP_IDX</c> (imm = index) or
/// <c>BPF_PSEUDO_MAP_IDX_VALUE</c> (imm = index, second imm = offset into the value), as libbpf does with
/// an fd array.</remarks>
public sealed record MapSpec
{
    /// <summary>The map's name (the variable's name, or the section's for global data: ".data", ".rodata.str1.1").</summary>
    public required string Name { get; init; }

    /// <summary>The map type.</summary>
    public required MapType Type { get; init; }

    /// <summary>Key size in bytes.</summary>
    public required uint KeySize { get; init; }

    /// <summary>Value size in bytes (per CPU for per-CPU maps).</summary>
    public required uint ValueSize { get; init; }

    /// <summary>max_entries; 0 means "sized by user space" (--map-size), except PERF_EVENT_ARRAY (one per CPU).</summary>
    public required uint MaxEntries { get; init; }

    /// <summary>map_flags (BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, BPF_F_MMAPABLE, ...).</summary>
    public uint Flags { get; init; }

    /// <summary>numa_node, when the definition gives one.</summary>
    public uint NumaNode { get; init; }

    /// <summary>pinning (LIBBPF_PIN_NONE 0, LIBBPF_PIN_BY_NAME 1).</summary>
    public uint Pinning { get; init; }

    /// <summary>The section the definition came from ("maps", ".maps", ".data", ...).</summary>
    public string SectionName { get; init; } = ".maps";

    /// <summary>The inner map's definition for ARRAY_OF_MAPS and HASH_OF_MAPS.</summary>
    public MapSpec? InnerMap { get; init; }

    /// <summary>Initial contents of a global-data map (.data, .rodata, .kconfig); .bss is all zero.</summary>
    public byte[]? InitialData { get; init; }

    /// <summary>True for .rodata and .kconfig: frozen after loading (BPF_F_RDONLY_PROG).</summary>
    public bool Frozen { get; init; }

    /// <summary>True for maps that hold a section's global data.</summary>
    public bool IsGlobalData { get; init; }

    /// <summary>Initial slots given with <c>__array(values, ...)</c>: key index and the program or map name it holds.</summary>
    public IReadOnlyList<MapSlotInit> InitialSlots { get; init; } = [];

    /// <summary>BTF type id of the key, or 0.</summary>
    public uint BtfKeyTypeId { get; init; }

    /// <summary>BTF type id of the value, or 0.</summary>
    public uint BtfValueTypeId { get; init; }

    /// <summary>map_extra (bloom filters: the number of hash functions in the low 4 bits; 0 elsewhere).</summary>
    public ulong MapExtra { get; init; }

    /// <summary>Offset of the value's <c>struct bpf_spin_lock</c> (from BTF), or -1 when the value has none; needed
    /// for BPF_F_LOCK updates, and never overwritten by value copies, as in the kernel.</summary>
    public int SpinLockOffset { get; init; } = -1;

    /// <summary>Offset of the value's <c>struct bpf_timer</c> (from BTF), or -1 when the value has none. Like the
    /// kernel, copies of a value handed to user space (lookups, dumps) read it as zeros.</summary>
    public int TimerOffset { get; init; } = -1;

    /// <summary>The value's <c>__kptr</c> and <c>__percpu_kptr</c> fields (from BTF), by offset; empty when it has none.
    /// Like the kernel, copies of a value handed to user space read them as zeros, and overwriting or deleting the
    /// element, or freeing the map, frees the objects they hold.</summary>
    public IReadOnlyList<KptrField> KptrFields { get; init; } = [];
}

/// <summary>One initial slot of a program array, devmap or map of maps: <c>[Index] = Target</c>.</summary>
/// <param name="Index">The key.</param>
/// <param name="Target">The program's function name, or the inner map's name.</param>
public sealed record MapSlotInit(uint Index, string Target);
