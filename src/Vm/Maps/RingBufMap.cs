using System.Buffers.Binary;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c): max_entries is the ring's size in bytes (a power of 2 and a
/// multiple of the 4096-byte page).</summary>
/// <remarks>
/// <para>Records as the kernel lays them out: an 8-byte header (<c>u32 len</c> with BPF_RINGBUF_BUSY_BIT (bit 31)
/// while reserved and BPF_RINGBUF_DISCARD_BIT (bit 30) when discarded; <c>u32 pg_off</c>), then the sample, each
/// record rounded up to 8 bytes, at producer_pos &amp; (size - 1). Reserve fails (returns 0) when flags are not 0, the
/// size exceeds RINGBUF_MAX_RECORD_SZ or the ring, or the producer would get size or more bytes ahead of the consumer
/// or of the oldest record still reserved. The kernel maps the data pages twice so a record crossing the end stays
/// contiguous; we allocate twice the size and let records run past the end the same way.</para>
/// <para>The consumer is user space. With a <see cref="Sink"/> every commit runs it at once (records reach the sink in
/// ring order, a record reserved earlier and not yet committed holding back those after it); without one, records stay
/// in the ring, filling it as in the kernel when nobody reads, until <see cref="Consume"/> or
/// <see cref="DrainRecords"/>. Programs may touch the whole data area (the checked region); the verifier confines
/// them to their records in Linux.</para>
/// </remarks>
public sealed unsafe class RingBufMap : BpfMap
{
    /// <summary>BPF_RINGBUF_BUSY_BIT.</summary>
    public const uint BusyBit = 1u << 31;

    /// <summary>BPF_RINGBUF_DISCARD_BIT.</summary>
    public const uint DiscardBit = 1u << 30;

    /// <summary>BPF_RINGBUF_HDR_SZ.</summary>
    public const int HeaderSize = 8;

    /// <summary>RINGBUF_MAX_RECORD_SZ (UINT_MAX / 4).</summary>
    public const ulong MaxRecordSize = uint.MaxValue / 4;

    /// <summary>BPF_RB_NO_WAKEUP.</summary>
    public const ulong NoWakeup = 1;

    /// <summary>BPF_RB_FORCE_WAKEUP.</summary>
    public const ulong ForceWakeup = 2;

    // struct bpf_ringbuf: the data pages follow the metadata page and the consumer and producer pages (pg_off base)
    private const uint DataPageOffset = 3;
    private const int PageShift = 12;

    private readonly NativeBlock _data;
    private readonly ulong _mask;
    private readonly MemoryRegion[] _regions;
    private ulong _consumerPos;
    private ulong _producerPos;
    private ulong _pendingPos;

    internal RingBufMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        _mask = spec.MaxEntries - 1UL;
        _data = new NativeBlock(2UL * spec.MaxEntries, 4096);
        _regions = [new MemoryRegion(_data.Address, _data.Length, RegionKind.MapValue, true, "map " + Name + " ring")];
    }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => _regions;

    /// <summary>Where committed records go at once; null keeps them in the ring until <see cref="Consume"/>.</summary>
    public IMapEventSink? Sink { get; set; }

    /// <summary>consumer_pos.</summary>
    public ulong ConsumerPosition => _consumerPos;

    /// <summary>producer_pos.</summary>
    public ulong ProducerPosition => _producerPos;

    /// <inheritdoc/>
    public override int UserKeySize => 0;

    /// <inheritdoc/>
    public override int UserValueSize => 0;

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu) => 0;

    /// <inheritdoc/>
    public override long Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu) => -Errno.ENOTSUPP;

    /// <inheritdoc/>
    public override long Delete(ReadOnlySpan<byte> key) => -Errno.ENOTSUPP;

    /// <summary>bpf_ringbuf_reserve: the sample's address in the ring, or 0.</summary>
    public ulong Reserve(ulong size, ulong flags)
    {
        if (flags != 0 || size > MaxRecordSize)
        {
            return 0;
        }

        ulong len = (size + HeaderSize + 7) & ~7UL;
        if (len > _mask + 1)
        {
            return 0;
        }

        // Skip records committed since the oldest one still reserved (pending_pos).
        ulong pend = _pendingPos;
        while (pend < _producerPos)
        {
            uint hdrLen = ReadLen(pend);
            if ((hdrLen & BusyBit) != 0)
            {
                break;
            }

            pend += ((hdrLen & ~DiscardBit) + HeaderSize + 7UL) & ~7UL;
        }

        _pendingPos = pend;
        ulong newProd = _producerPos + len;
        if (newProd - _consumerPos > _mask || newProd - pend > _mask)
        {
            return 0;
        }

        byte* hdr = _data.Pointer + (_producerPos & _mask);
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(hdr, 4), (uint)size | BusyBit);
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(hdr + 4, 4), DataPageOffset + (uint)((_producerPos & _mask) >> PageShift));
        _producerPos = newProd;
        return (ulong)hdr + HeaderSize;
    }

    /// <summary>bpf_ringbuf_submit: commits the record at <paramref name="sample"/>; -EINVAL when it is not a reserved
    /// record (the verifier prevents that in Linux).</summary>
    public long Submit(ulong sample, ulong flags) => Commit(sample, discard: false);

    /// <summary>bpf_ringbuf_discard: commits the record as discarded; -EINVAL as <see cref="Submit"/>.</summary>
    public long Discard(ulong sample, ulong flags) => Commit(sample, discard: true);

    /// <summary>bpf_ringbuf_output: copies <paramref name="data"/> into a new record; -EINVAL for flags other than
    /// BPF_RB_NO_WAKEUP / BPF_RB_FORCE_WAKEUP, -EAGAIN when it does not fit.</summary>
    public long Output(ReadOnlySpan<byte> data, ulong flags)
    {
        if ((flags & ~(NoWakeup | ForceWakeup)) != 0)
        {
            return -Errno.EINVAL;
        }

        ulong sample = Reserve((ulong)data.Length, 0);
        if (sample == 0)
        {
            return -Errno.EAGAIN;
        }

        data.CopyTo(new Span<byte>((void*)sample, data.Length));
        return Commit(sample, discard: false);
    }

    /// <summary>bpf_ringbuf_query: BPF_RB_AVAIL_DATA (0), BPF_RB_RING_SIZE (1), BPF_RB_CONS_POS (2),
    /// BPF_RB_PROD_POS (3); 0 for other flags.</summary>
    public ulong Query(ulong flags) => flags switch
    {
        0 => _producerPos - _consumerPos,
        1 => _mask + 1,
        2 => _consumerPos,
        3 => _producerPos,
        _ => 0,
    };

    /// <summary>Reads every committed record in ring order (stopping at one still reserved), as user space's consumer
    /// does: discarded records are skipped, the others go to <paramref name="sink"/>. Returns the number delivered.</summary>
    public int Consume(IMapEventSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        int n = 0;
        while (_consumerPos < _producerPos)
        {
            uint len = ReadLen(_consumerPos);
            if ((len & BusyBit) != 0)
            {
                break;
            }

            uint size = len & ~DiscardBit;
            if ((len & DiscardBit) == 0)
            {
                sink.OnEvent(this, -1, new ReadOnlySpan<byte>(_data.Pointer + (_consumerPos & _mask) + HeaderSize, (int)size));
                n++;
            }

            _consumerPos += (size + HeaderSize + 7UL) & ~7UL;
        }

        return n;
    }

    /// <summary>Consumes the committed records into a list (for tests and dumps; allocates).</summary>
    public List<MapEvent> DrainRecords()
    {
        var collector = new EventCollector();
        Consume(collector);
        return collector.Events;
    }

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value) => -Errno.ENOTSUPP;

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -Errno.ENOTSUPP;

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key) => -Errno.ENOTSUPP;

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => -Errno.ENOTSUPP;

    /// <summary>Nothing: records are events, not elements.</summary>
    public override IEnumerable<(byte[] Key, byte[] Value)> Entries() => [];

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _data.Dispose();
        }

        base.Dispose(disposing);
    }

    private uint ReadLen(ulong pos) =>
        BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(_data.Pointer + (pos & _mask), 4));

    private long Commit(ulong sample, bool discard)
    {
        // kernel: bpf_ringbuf_commit: clear the busy bit (set the discard bit), then wake the consumer
        ulong hdrOffset = sample - HeaderSize - _data.Address;
        if (sample < _data.Address + HeaderSize || hdrOffset > _mask || (hdrOffset & 7) != 0)
        {
            return -Errno.EINVAL;
        }

        var hdr = new Span<byte>(_data.Pointer + hdrOffset, 4);
        uint len = BinaryPrimitives.ReadUInt32LittleEndian(hdr);
        if ((len & BusyBit) == 0)
        {
            return -Errno.EINVAL;
        }

        len ^= BusyBit;
        if (discard)
        {
            len |= DiscardBit;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(hdr, len);
        if (Sink is { } sink)
        {
            Consume(sink);
        }

        return 0;
    }
}

/// <summary>An <see cref="IMapEventSink"/> that keeps copies of the records.</summary>
public sealed class EventCollector : IMapEventSink
{
    /// <summary>The records received, in order.</summary>
    public List<MapEvent> Events { get; } = [];

    /// <inheritdoc/>
    public void OnEvent(BpfMap map, int cpu, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(map);
        Events.Add(new MapEvent(map.Name, cpu, data.ToArray()));
    }
}
