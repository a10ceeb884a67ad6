using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>BPF_MAP_TYPE_PERF_EVENT_ARRAY (kernel/bpf/arraymap.c; bpf_perf_event_output in kernel/trace/bpf_trace.c
/// and net/core/filter.c): one perf event per index, normally one per CPU.</summary>
/// <remarks>
/// <para>User space opens the events: we model what libbpf's perf_buffer__new does, an event bound to CPU i at index i
/// for every possible CPU below max_entries, open from creation. BPF_MAP_UPDATE_ELEM (value: the event's fd, kept)
/// opens index i for CPU i, BPF_MAP_DELETE_ELEM closes it.</para>
/// <para><see cref="Output"/> takes the index from the flags' low 32 bits (BPF_F_CURRENT_CPU = 0xffffffff: the running
/// CPU) and the number of packet bytes to append from bits 32-51 (BPF_F_CTXLEN_MASK; the caller passes those bytes):
/// other flag bits are -EINVAL, an index past max_entries -E2BIG, a closed index -ENOENT, an event of another CPU
/// -EOPNOTSUPP. A record is the program's data followed by the packet bytes, without perf's padding to 8 bytes. With
/// a <see cref="Sink"/> records go there at once; otherwise they are kept (without limit) until
/// <see cref="DrainRecords"/>.</para>
/// </remarks>
public sealed class PerfEventArrayMap : BpfMap
{
    /// <summary>BPF_F_INDEX_MASK.</summary>
    public const ulong IndexMask = 0xffffffffUL;

    /// <summary>BPF_F_CURRENT_CPU.</summary>
    public const ulong CurrentCpu = IndexMask;

    /// <summary>BPF_F_CTXLEN_MASK.</summary>
    public const ulong CtxLenMask = 0xfffffUL << 32;

    private readonly bool[] _open;
    private byte[] _pending = new byte[256];
    private int _pendingBytes;
    private readonly List<(int Cpu, int Offset, int Length)> _records = [];

    internal PerfEventArrayMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        _open = new bool[spec.MaxEntries];
        for (int i = 0; i < Math.Min(possibleCpus, _open.Length); i++)
        {
            _open[i] = true;
        }
    }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => [];

    /// <summary>Where records go at once; null keeps them until <see cref="DrainRecords"/>.</summary>
    public IMapEventSink? Sink { get; set; }

    /// <summary>True when index <paramref name="index"/> holds an open event.</summary>
    public bool IsOpen(uint index) => index < (uint)_open.Length && _open[index];

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu) => 0;

    /// <summary>bpf_perf_event_output / bpf_xdp_event_output on CPU <paramref name="cpu"/>: 0 or a negative errno.</summary>
    /// <param name="flags">The index (or BPF_F_CURRENT_CPU) and BPF_F_CTXLEN_MASK.</param>
    /// <param name="data">The program's data.</param>
    /// <param name="ctxData">The packet bytes BPF_F_CTXLEN_MASK asked for (the caller checks they exist: -EFAULT).</param>
    /// <param name="cpu">The running CPU.</param>
    public long Output(ulong flags, ReadOnlySpan<byte> data, ReadOnlySpan<byte> ctxData, int cpu)
    {
        if ((flags & ~(IndexMask | CtxLenMask)) != 0)
        {
            return -Errno.EINVAL;
        }

        ulong index = flags & IndexMask;
        if (index == CurrentCpu)
        {
            index = (ulong)cpu;
        }

        if (index >= (ulong)_open.Length)
        {
            return -Errno.E2BIG;
        }

        if (!_open[index])
        {
            return -Errno.ENOENT;
        }

        if (index != (ulong)cpu)
        {
            return -Errno.EOPNOTSUPP;
        }

        if (Sink is { } sink)
        {
            if (ctxData.IsEmpty)
            {
                sink.OnEvent(this, (int)index, data);
                return 0;
            }
        }

        int length = data.Length + ctxData.Length;
        if (_pendingBytes + length > _pending.Length)
        {
            Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _pendingBytes + length));
        }

        data.CopyTo(_pending.AsSpan(_pendingBytes));
        ctxData.CopyTo(_pending.AsSpan(_pendingBytes + data.Length));
        if (Sink is { } s)
        {
            s.OnEvent(this, (int)index, _pending.AsSpan(_pendingBytes, length));
            return 0;
        }

        _records.Add(((int)index, _pendingBytes, length));
        _pendingBytes += length;
        return 0;
    }

    /// <summary>The records kept since the last drain, in order (allocates).</summary>
    public List<MapEvent> DrainRecords()
    {
        var list = new List<MapEvent>(_records.Count);
        foreach (var (cpu, offset, length) in _records)
        {
            list.Add(new MapEvent(Name, cpu, _pending.AsSpan(offset, length).ToArray()));
        }

        _records.Clear();
        _pendingBytes = 0;
        return list;
    }

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value) => -Errno.ENOTSUPP;

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        // kernel: bpf_fd_array_map_update_elem
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        if (flags != MapUpdateFlags.Any)
        {
            return -Errno.EINVAL;
        }

        uint index = MapValue.U32(key);
        if (index >= (uint)_open.Length)
        {
            return -Errno.E2BIG;
        }

        _open[index] = value.Length >= 4;
        return 0;
    }

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key)
    {
        // kernel: fd_array_map_delete_elem
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        uint index = MapValue.U32(key);
        if (index >= (uint)_open.Length)
        {
            return -Errno.E2BIG;
        }

        if (!_open[index])
        {
            return -Errno.ENOENT;
        }

        _open[index] = false;
        return 0;
    }

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) =>
        UserCanRead ? ArrayKeys.GetNext(key, nextKey, (uint)_open.Length) : -Errno.EPERM;

    /// <summary>Nothing: records are events, not elements.</summary>
    public override IEnumerable<(byte[] Key, byte[] Value)> Entries() => [];
}
