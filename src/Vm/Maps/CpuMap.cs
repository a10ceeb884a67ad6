using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>BPF_MAP_TYPE_CPUMAP (kernel/bpf/cpumap.c): redirect targets that are CPUs, each with a queue.</summary>
/// <remarks>
/// The key is the CPU; values are a u32 qsize (value_size 4) or <c>struct bpf_cpumap_val { u32 qsize; union { int fd;
/// u32 id; } bpf_prog; }</c> (value_size 8). Updates: flags past BPF_EXIST -EINVAL, a key past max_entries -E2BIG,
/// BPF_NOEXIST -EEXIST, qsize over 16384 -EOVERFLOW, a CPU that is not possible -ENODEV, qsize 0 empties the slot;
/// a program fd &gt; 0 goes through <see cref="ProgramResolver"/> (unresolved: -ENOMEM, as the kernel's failed entry
/// allocation reports it). Delete of a key past the end is -EINVAL. Programs read a read-only copy of the value.
/// </remarks>
public sealed unsafe class CpuMap : BpfMap
{
    /// <summary>NR_CPUS of the reference kernel's configuration: max_entries above it is -E2BIG.</summary>
    public const uint NrCpus = 256;

    /// <summary>The kernel's sanity limit on qsize.</summary>
    public const uint MaxQueueSize = 16384;

    private readonly NativeBlock _vals;
    private readonly bool[] _present;
    private readonly object?[] _programs;
    private readonly MemoryRegion[] _regions;

    internal CpuMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        _vals = new NativeBlock(8UL * spec.MaxEntries);
        _present = new bool[spec.MaxEntries];
        _programs = new object?[spec.MaxEntries];
        _regions = [new MemoryRegion(_vals.Address, _vals.Length, RegionKind.MapValue, false, "map " + Name + " values")];
    }

    /// <summary>Turns bpf_cpumap_val.bpf_prog.fd (the runtime's program "fd") into a cpumap program, or null.</summary>
    public Func<uint, object?>? ProgramResolver { get; set; }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => _regions;

    /// <summary>__cpu_map_lookup_elem for bpf_redirect_map: the CPU and its queue size.</summary>
    public bool TryGetRedirectTarget(uint key, out uint cpu, out uint qsize)
    {
        if (key < (uint)_present.Length && _present[key])
        {
            cpu = key;
            qsize = *(uint*)(_vals.Pointer + (8UL * key));
            return true;
        }

        cpu = 0;
        qsize = 0;
        return false;
    }

    /// <summary>The cpumap program of entry <paramref name="key"/>, or null.</summary>
    public object? GetProgram(uint key) => key < (uint)_programs.Length ? _programs[key] : null;

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu)
    {
        uint k = MapValue.U32(key);
        return k < (uint)_present.Length && _present[k] ? _vals.Address + (8UL * k) : 0;
    }

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!UserCanRead)
        {
            return -Errno.EPERM;
        }

        ulong addr = Lookup(key, 0);
        if (addr == 0)
        {
            return -Errno.ENOENT;
        }

        new ReadOnlySpan<byte>((void*)addr, (int)Spec.ValueSize).CopyTo(value);
        return 0;
    }

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        // kernel: cpu_map_update_elem
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        var (qsize, fd) = DevMapValue.Parse(value, (int)Spec.ValueSize);
        if (flags > MapUpdateFlags.Exist)
        {
            return -Errno.EINVAL;
        }

        uint k = MapValue.U32(key);
        if (k >= (uint)_present.Length)
        {
            return -Errno.E2BIG;
        }

        if (flags == MapUpdateFlags.NoExist)
        {
            return -Errno.EEXIST;
        }

        if (qsize > MaxQueueSize)
        {
            return -Errno.EOVERFLOW;
        }

        if (k >= (uint)PossibleCpus)
        {
            return -Errno.ENODEV;
        }

        if (qsize == 0)
        {
            Clear(k);
            return 0;
        }

        object? prog = null;
        if (fd > 0)
        {
            prog = ProgramResolver?.Invoke((uint)fd);
            if (prog is null)
            {
                return -Errno.ENOMEM;
            }
        }

        _present[k] = true;
        _programs[k] = prog;
        DevMapValue.Write(_vals.Slice(8UL * k, 8), qsize, prog is null ? 0 : (uint)fd);
        return 0;
    }

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key)
    {
        // kernel: cpu_map_delete_elem
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        uint k = MapValue.U32(key);
        if (k >= (uint)_present.Length)
        {
            return -Errno.EINVAL;
        }

        Clear(k);
        return 0;
    }

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) =>
        UserCanRead ? ArrayKeys.GetNext(key, nextKey, (uint)_present.Length) : -Errno.EPERM;

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _vals.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Clear(uint k)
    {
        _present[k] = false;
        _programs[k] = null;
        _vals.Slice(8UL * k, 8).Clear();
    }
}
