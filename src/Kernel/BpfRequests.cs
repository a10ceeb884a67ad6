using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Kernel;

/// <summary>Flag values of include/uapi/linux/bpf.h that the bridge uses.</summary>
public static class BpfFlags
{
    /// <summary>BPF_ANY: create or update.</summary>
    public const ulong Any = 0;

    /// <summary>BPF_NOEXIST: create only.</summary>
    public const ulong NoExist = 1;

    /// <summary>BPF_EXIST: update only.</summary>
    public const ulong Exist = 2;

    /// <summary>BPF_F_NO_PREALLOC (map_flags; required by LPM_TRIE).</summary>
    public const uint NoPrealloc = 1u << 0;

    /// <summary>BPF_F_RDONLY_PROG (map_flags).</summary>
    public const uint RdonlyProg = 1u << 7;

    /// <summary>BPF_F_MMAPABLE (map_flags).</summary>
    public const uint Mmapable = 1u << 10;

    /// <summary>BPF_F_XDP_HAS_FRAGS (prog_flags).</summary>
    public const uint XdpHasFrags = 1u << 5;

    /// <summary>BPF_F_TEST_RUN_ON_CPU (test.flags; not for XDP).</summary>
    public const uint TestRunOnCpu = 1u << 0;

    /// <summary>BPF_F_TEST_XDP_LIVE_FRAMES (test.flags).</summary>
    public const uint TestXdpLiveFrames = 1u << 1;

    /// <summary>BPF_XDP_DEVMAP (expected_attach_type).</summary>
    public const uint AttachXdpDevmap = 33;

    /// <summary>BPF_XDP_CPUMAP (expected_attach_type).</summary>
    public const uint AttachXdpCpumap = 35;

    /// <summary>BPF_XDP (expected_attach_type).</summary>
    public const uint AttachXdp = 37;

    /// <summary>BPF_OBJ_NAME_LEN: names are at most 15 characters and a NUL.</summary>
    public const int ObjNameLen = 16;
}

/// <summary>The fields of BPF_MAP_CREATE that we set (BTF fields are always 0).</summary>
public sealed record MapCreateRequest
{
    /// <summary>map_type.</summary>
    public required MapType Type { get; init; }

    /// <summary>key_size.</summary>
    public required uint KeySize { get; init; }

    /// <summary>value_size.</summary>
    public required uint ValueSize { get; init; }

    /// <summary>max_entries.</summary>
    public required uint MaxEntries { get; init; }

    /// <summary>map_flags.</summary>
    public uint Flags { get; init; }

    /// <summary>map_name (made valid for the kernel: at most 15 characters of [A-Za-z0-9_.]).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>inner_map_fd for ARRAY_OF_MAPS and HASH_OF_MAPS.</summary>
    public BpfFd? InnerMap { get; init; }

    /// <summary>btf_fd: the object's BTF, for key and value types (null: none).</summary>
    public BpfFd? Btf { get; init; }

    /// <summary>btf_key_type_id (with <see cref="Btf"/>).</summary>
    public uint BtfKeyTypeId { get; init; }

    /// <summary>btf_value_type_id (with <see cref="Btf"/>; a value holding a bpf_spin_lock or bpf_timer needs it).</summary>
    public uint BtfValueTypeId { get; init; }

    /// <summary>numa_node (used only with BPF_F_NUMA_NODE).</summary>
    public uint NumaNode { get; init; }

    /// <summary>map_extra (bloom filter hash count).</summary>
    public ulong MapExtra { get; init; }
}

/// <summary>The fields of BPF_PROG_LOAD that we set (no line info, no CO-RE: our loader applies relocations).</summary>
public sealed record ProgLoadRequest
{
    /// <summary>prog_type.</summary>
    public required ProgramType Type { get; init; }

    /// <summary>insns: the slots.</summary>
    public required IReadOnlyList<Instruction> Instructions { get; init; }

    /// <summary>license.</summary>
    public string License { get; init; } = "GPL";

    /// <summary>log_level for the first attempt (0: no log; a refused load is retried with level 1 to get the log).</summary>
    public uint LogLevel { get; init; }

    /// <summary>log_size in bytes when a log is asked for (grown once to the kernel's log_true_size on ENOSPC).</summary>
    public int LogSize { get; init; } = 1 << 20;

    /// <summary>kern_version.</summary>
    public uint KernVersion { get; init; }

    /// <summary>prog_flags (BPF_F_XDP_HAS_FRAGS, ...).</summary>
    public uint Flags { get; init; }

    /// <summary>prog_name (made valid for the kernel: at most 15 characters of [A-Za-z0-9_.]).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>expected_attach_type.</summary>
    public uint ExpectedAttachType { get; init; }

    /// <summary>prog_btf_fd: the object's BTF, for <see cref="FuncInfo"/> (null: none).</summary>
    public BpfFd? Btf { get; init; }

    /// <summary>func_info: (first slot, BTF FUNC id) of every function in the program, sorted by slot, the first at
    /// slot 0 (callbacks and global functions need it).</summary>
    public IReadOnlyList<(int InsnOff, uint TypeId)>? FuncInfo { get; init; }

    /// <summary>line_info: (slot, file name offset, line text offset, line &lt;&lt; 10 | column) into <see cref="Btf"/>'s
    /// string table, sorted by slot, with one at the start of every function.</summary>
    public IReadOnlyList<(int InsnOff, uint FileNameOff, uint LineOff, uint LineCol)>? LineInfo { get; init; }

    /// <summary>prog_ifindex: the device a device-bound program is bound to (0: none).</summary>
    public uint Ifindex { get; init; }

    /// <summary>fd_array: the maps that 64-bit loads with src BPF_PSEUDO_MAP_IDX / _IDX_VALUE name by index.</summary>
    public IReadOnlyList<BpfFd>? FdArray { get; init; }
}

/// <summary>What BPF_PROG_LOAD gave back.</summary>
/// <param name="Fd">The program.</param>
/// <param name="Log">The verifier log when one was asked for (<see cref="ProgLoadRequest.LogLevel"/> &gt; 0), else empty.</param>
public sealed record ProgLoadResult(BpfFd Fd, string Log);

/// <summary>The fields of BPF_PROG_TEST_RUN that we set.</summary>
public sealed record TestRunRequest
{
    /// <summary>data_in.</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>Capacity of data_out (data_size_out); 0 gives no data_out.</summary>
    public int DataOutCapacity { get; init; } = 8192;

    /// <summary>ctx_in (for XDP a <c>struct xdp_md</c>), or empty for none.</summary>
    public ReadOnlyMemory<byte> Context { get; init; }

    /// <summary>Capacity of ctx_out; 0 gives no ctx_out.</summary>
    public int ContextOutCapacity { get; init; }

    /// <summary>repeat (0 and 1 both run once).</summary>
    public uint Repeat { get; init; } = 1;

    /// <summary>flags.</summary>
    public uint Flags { get; init; }

    /// <summary>cpu (with BPF_F_TEST_RUN_ON_CPU).</summary>
    public uint Cpu { get; init; }

    /// <summary>batch_size (live XDP frames).</summary>
    public uint BatchSize { get; init; }
}

/// <summary>What BPF_PROG_TEST_RUN gave back.</summary>
/// <param name="Retval">retval: the program's r0, low 32 bits.</param>
/// <param name="Duration">duration: average nanoseconds per run.</param>
/// <param name="DataOut">data_out, cut to data_size_out (for XDP: from data_meta to data_end).</param>
/// <param name="ContextOut">ctx_out, or empty.</param>
public sealed record TestRunResult(uint Retval, uint Duration, byte[] DataOut, byte[] ContextOut);
