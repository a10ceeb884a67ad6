using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>A created map with the kernel's semantics, shared by programs (through helpers) and user space.</summary>
/// <remarks>
/// Values live in native memory at stable addresses for the map's lifetime, so a program may keep a
/// pointer from <see cref="Lookup"/>; the checked interpreter allows access to <see cref="ValueRegions"/>.
/// Program-side operations are the helpers' (kernel: map_lookup_elem, map_update_elem, ...), allocate
/// nothing and return 0 or a negative errno. User-side operations are bpf()'s (BPF_MAP_LOOKUP_ELEM, ...):
/// per-CPU maps read and write every CPU's value at once (value size rounded up to 8, times the CPU count).
/// </remarks>
public abstract class BpfMap : IDisposable
{
    /// <summary>Creates the map for <paramref name="spec"/> with <paramref name="possibleCpus"/> CPUs for per-CPU values.</summary>
    protected BpfMap(MapSpec spec, int possibleCpus)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(possibleCpus);
        Spec = spec;
        PossibleCpus = possibleCpus;
    }

    /// <summary>The definition.</summary>
    public MapSpec Spec { get; }

    /// <summary>The name.</summary>
    public string Name => Spec.Name;

    /// <summary>The type.</summary>
    public MapType Type => Spec.Type;

    /// <summary>Number of possible CPUs (per-CPU maps hold one value each).</summary>
    public int PossibleCpus { get; }

    /// <summary>The regions that hold values (and other memory programs may touch), for the checked interpreter.</summary>
    public abstract IReadOnlyList<MemoryRegion> ValueRegions { get; }

    // ---- program side (helpers); errors are negative errno values, as the kernel returns them ----

    /// <summary>bpf_map_lookup_elem: the value's address for <paramref name="cpu"/>, or 0 when absent.</summary>
    public abstract ulong Lookup(ReadOnlySpan<byte> key, int cpu);

    /// <summary>bpf_map_update_elem with BPF_ANY / BPF_NOEXIST / BPF_EXIST (and BPF_F_LOCK).</summary>
    public virtual long Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu) => -Errno.EINVAL;

    /// <summary>bpf_map_delete_elem.</summary>
    public virtual long Delete(ReadOnlySpan<byte> key) => -Errno.EINVAL;

    /// <summary>bpf_map_push_elem (queue, stack, bloom filter).</summary>
    public virtual long Push(ReadOnlySpan<byte> value, ulong flags) => -Errno.EINVAL;

    /// <summary>bpf_map_pop_elem (queue, stack).</summary>
    public virtual long Pop(Span<byte> value) => -Errno.EINVAL;

    /// <summary>bpf_map_peek_elem (queue, stack, bloom filter).</summary>
    public virtual long Peek(Span<byte> value) => -Errno.EINVAL;

    // ---- user side (bpf() commands) ----

    /// <summary>BPF_MAP_LOOKUP_ELEM: copies the value (every CPU's for per-CPU maps) into <paramref name="value"/>.</summary>
    public abstract int UserLookup(ReadOnlySpan<byte> key, Span<byte> value);

    /// <summary>BPF_MAP_UPDATE_ELEM.</summary>
    public abstract int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags);

    /// <summary>BPF_MAP_DELETE_ELEM.</summary>
    public virtual int UserDelete(ReadOnlySpan<byte> key) => -Errno.EINVAL;

    /// <summary>BPF_MAP_GET_NEXT_KEY: the key after <paramref name="key"/> (the first key when it is empty); -ENOENT at the end.</summary>
    public abstract int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey);

    /// <summary>Size of one user-side value: the value size, or for per-CPU maps round_up(value size, 8) times the CPU count.</summary>
    public virtual int UserValueSize => (int)Spec.ValueSize;

    /// <summary>Frees the native memory.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native memory.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
