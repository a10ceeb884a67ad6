using System.Buffers.Binary;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>BPF_MAP_TYPE_USER_RINGBUF (kernel/bpf/ringbuf.c): a ring buffer user space produces into and programs
/// drain with bpf_user_ringbuf_drain. max_entries is the ring's size in bytes (a power of 2 and a multiple of the
/// 4096-byte page), key and value sizes are 0.</summary>
/// <remarks>
/// <para>User space (libbpf's <c>user_ring_buffer__reserve</c>/<c>__submit</c>/<c>__discard</c>) writes records as the
/// kernel's ring buffer lays them out: an 8-byte header (<c>u32 len</c>, BPF_RINGBUF_DISCARD_BIT for a discarded
/// record; <c>u32 pg_off</c>, which libbpf leaves 0), the sample, the record rounded up to 8 bytes, at producer_pos &amp; (size - 1); then it
/// moves producer_pos. <see cref="Produce"/> and <see cref="ProduceDiscarded"/> do the same. The kernel maps the data
/// pages twice so a record crossing the end stays contiguous; we allocate twice the size and mirror every byte
/// written into the first copy.</para>
/// <para>The consumer is the program: <see cref="Peek"/> and <see cref="Release"/> are the kernel's
/// __bpf_user_ringbuf_peek and __bpf_user_ringbuf_sample_release. Like the kernel's, this map has no entries for bpf()
/// (lookups, updates, deletes and get_next_key give -ENOTSUPP).</para>
/// </remarks>
public sealed unsafe class UserRingBufMap : BpfMap
{
    /// <summary>BPF_MAX_USER_RINGBUF_SAMPLES: the most samples one drain takes.</summary>
    public const int MaxSamples = 128 * 1024;

    /// <summary>The largest dynptr (DYNPTR_MAX_SIZE): longer samples are refused with -E2BIG.</summary>
    public const uint MaxSampleSize = (1u << 24) - 1;

    private readonly NativeBlock _data;
    private readonly ulong _mask;
    private readonly MemoryRegion[] _regions;
    private ulong _consumerPos;
    private ulong _producerPos;
    private bool _busy;

    /// <summary>Creates the map (<see cref="MapFactory"/> has checked the definition).</summary>
    public UserRingBufMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        _mask = spec.MaxEntries - 1UL;
        _data = new NativeBlock(2UL * spec.MaxEntries, 4096);
        _regions = [new MemoryRegion(_data.Address, _data.Length, RegionKind.MapValue, true, "map " + Name + " ring")];
    }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => _regions;

    /// <summary>The ring's size in bytes (max_entries).</summary>
    public ulong Size => _mask + 1;

    /// <summary>consumer_pos: bytes the program has consumed.</summary>
    public ulong ConsumerPosition => _consumerPos;

    /// <summary>producer_pos: bytes user space has produced.</summary>
    public ulong ProducerPosition => _producerPos;

    /// <summary>Bytes produced and not yet consumed.</summary>
    public ulong Available => _producerPos - _consumerPos;

    /// <summary>The drain in progress flag (the kernel's <c>rb->busy</c>): a drain from a drain's callback gets -EBUSY.</summary>
    internal bool Busy
    {
        get => _busy;
        set => _busy = value;
    }

    /// <summary>User space's side: writes <paramref name="sample"/> as one record and moves producer_pos, as
    /// user_ring_buffer__reserve + __submit. False (nothing written) when the record does not fit: the producer may
    /// never get the ring's size or more ahead of the consumer.</summary>
    public bool Produce(ReadOnlySpan<byte> sample) => Write(sample, (uint)sample.Length, discard: false);

    /// <summary>User space's side: a record of <paramref name="length"/> bytes reserved and then discarded
    /// (user_ring_buffer__discard): the program's drain skips it. False when it does not fit.</summary>
    public bool ProduceDiscarded(uint length) => Write([], length, discard: true);

    /// <summary>kernel: __bpf_user_ringbuf_peek(): the next sample's address and length, or a negative errno:
    /// -ENODATA (nothing, or a record still being written), -EAGAIN (a discarded record, now skipped), -EINVAL (the
    /// record runs past producer_pos, or producer_pos is not 8-aligned), -E2BIG (larger than the ring or a
    /// dynptr).</summary>
    public int Peek(out ulong sample, out uint length)
    {
        sample = 0;
        length = 0;
        if (_producerPos % 8 != 0)
        {
            return -Errno.EINVAL;
        }

        if (_consumerPos >= _producerPos)
        {
            return -Errno.ENODATA;
        }

        uint header = BinaryPrimitives.ReadUInt32LittleEndian(Data((_consumerPos & _mask), 4));
        uint flags = header & (RingBufMap.BusyBit | RingBufMap.DiscardBit);
        uint sampleLength = header & ~flags;
        ulong total = RoundUp8(sampleLength + (ulong)RingBufMap.HeaderSize);
        if (total > _producerPos - _consumerPos)
        {
            return -Errno.EINVAL;
        }

        if (total > Size || sampleLength > MaxSampleSize)
        {
            return -Errno.E2BIG;
        }

        if ((flags & RingBufMap.DiscardBit) != 0)
        {
            _consumerPos += total;
            return -Errno.EAGAIN;
        }

        if ((flags & RingBufMap.BusyBit) != 0)
        {
            return -Errno.ENODATA;
        }

        sample = _data.Address + ((_consumerPos + RingBufMap.HeaderSize) & _mask);
        length = sampleLength;
        return 0;
    }

    /// <summary>kernel: __bpf_user_ringbuf_sample_release(): consumes the sample of <paramref name="length"/> bytes
    /// that <see cref="Peek"/> gave.</summary>
    public void Release(uint length) => _consumerPos += RoundUp8(length + (ulong)RingBufMap.HeaderSize);

    /// <inheritdoc/>
    /// <remarks>The verifier refuses bpf_map_lookup_elem on a user ring buffer: NULL.</remarks>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu) => 0;

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value) => -Errno.ENOTSUPP;

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -Errno.ENOTSUPP;

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key) => -Errno.ENOTSUPP;

    /// <inheritdoc/>
    public override IEnumerable<(byte[] Key, byte[] Value)> Entries() => [];

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => -Errno.ENOTSUPP;

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _data.Dispose();
        }

        base.Dispose(disposing);
    }

    private static ulong RoundUp8(ulong n) => (n + 7) & ~7UL;

    private bool Write(ReadOnlySpan<byte> sample, uint length, bool discard)
    {
        // libbpf: user_ring_buffer__reserve(): the record must fit in what the consumer has freed
        ulong total = RoundUp8(length + (ulong)RingBufMap.HeaderSize);
        if (length > MaxSampleSize || total > Size || _producerPos + total - _consumerPos > Size)
        {
            return false;
        }

        ulong at = _producerPos & _mask;
        Span<byte> header = stackalloc byte[RingBufMap.HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, length | (discard ? RingBufMap.DiscardBit : 0));
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], 0);   // libbpf's user producer leaves pg_off 0
        Put(at, header);
        Put((at + RingBufMap.HeaderSize) & _mask, sample);
        _producerPos += total;
        return true;
    }

    // Writes at ring offset `at`, wrapping at the end, into both copies of the data pages.
    private void Put(ulong at, ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            ulong o = (at + (ulong)i) & _mask;
            Data(o, 1)[0] = bytes[i];
            Data(o + Size, 1)[0] = bytes[i];
        }
    }

    private Span<byte> Data(ulong offset, int length) => new((void*)(_data.Address + offset), length);
}
