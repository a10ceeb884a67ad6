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

    // ---- added for the map implementations (src/Vm/Maps) ----

    /// <summary>An address-like handle the runtime assigns to every created map, which helpers resolve back to the
    /// map (the kernel's struct bpf_map pointer); 0 until assigned. Maps of maps return the inner map's handle to
    /// programs.</summary>
    public ulong Handle { get; set; }

    /// <summary>The map's id (the kernel's map->id) the runtime assigns; 0 until assigned. User-side lookups in maps
    /// of maps return the inner map's id, as bpf() does.</summary>
    public uint Id { get; set; }

    /// <summary>The CPU user-side (bpf()) operations run on: the kernel uses the caller's CPU for LRU local lists
    /// and hash maps' spare elements. 0 unless set (the kernel cross-check pins its thread to CPU 0).</summary>
    public int UserCpu { get; set; }

    /// <summary>The memory bpf_obj_new_impl and bpf_percpu_obj_new_impl take objects from for this map's kptr fields
    /// (its regions are among <see cref="ValueRegions"/>), or null when the map's value has no kptr field or the map
    /// type keeps none.</summary>
    public virtual ObjectArena? Objects => null;

    /// <summary>True once <see cref="Freeze"/> succeeded: user space may no longer write the map.</summary>
    public bool IsFrozen { get; private set; }

    /// <summary>Size of a user-side key in bytes (the key size; 0 for queues, stacks, bloom filters, ring buffers).</summary>
    public virtual int UserKeySize => (int)Spec.KeySize;

    /// <summary>BPF_MAP_FREEZE: 0, or -EPERM when user space may not write the map (BPF_F_RDONLY, or already frozen:
    /// the kernel checks write permission first).</summary>
    public virtual int Freeze()
    {
        if ((Spec.Flags & MapFlags.Rdonly) != 0 || IsFrozen)
        {
            return -Errno.EPERM;
        }

        IsFrozen = true;
        OnFrozen();
        return 0;
    }

    /// <summary>BPF_MAP_LOOKUP_AND_DELETE_ELEM: copies the value out and deletes the element (queue and stack: pop);
    /// -ENOTSUPP for map types the kernel does not support it for.</summary>
    public virtual int UserLookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value) => -Errno.ENOTSUPP;

    /// <summary>Every element as user space reads it (keys in <see cref="GetNextKey"/> order, values as
    /// <see cref="UserLookup"/> returns them); for dumps, not a hot path. Queues and stacks give empty keys and their
    /// values in pop order; ring buffers and perf event arrays give nothing.</summary>
    public virtual IEnumerable<(byte[] Key, byte[] Value)> Entries()
    {
        var key = new byte[UserKeySize];
        var next = new byte[UserKeySize];
        bool first = true;
        while (GetNextKey(first ? ReadOnlySpan<byte>.Empty : key, next) == 0)
        {
            first = false;
            next.CopyTo(key);
            var value = new byte[UserValueSize];
            if (UserLookup(key, value) == 0)
            {
                yield return ((byte[])key.Clone(), value);
            }
        }
    }

    /// <summary>Called once when the map becomes frozen (a subclass may make its regions read-only).</summary>
    protected virtual void OnFrozen()
    {
    }

    /// <summary>False when user space may not write the map: frozen, or created with BPF_F_RDONLY (bpf() returns -EPERM).</summary>
    protected bool UserCanWrite => !IsFrozen && (Spec.Flags & MapFlags.Rdonly) == 0;

    /// <summary>False when the map was created with BPF_F_WRONLY: user space may not read it (bpf() returns -EPERM).</summary>
    protected bool UserCanRead => (Spec.Flags & MapFlags.Wronly) == 0;

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
