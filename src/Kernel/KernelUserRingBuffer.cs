using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace VethXdp.Kernel;

/// <summary>User space's side of a BPF_MAP_TYPE_USER_RINGBUF in the running kernel, as libbpf's
/// <c>user_ring_buffer</c> (tools/lib/bpf/ringbuf.c): the consumer page mapped read-only, the producer page and the
/// data pages (mapped twice by the kernel) read-write; records are written at producer_pos and published by moving
/// it. Programs consume them with bpf_user_ringbuf_drain.</summary>
public sealed unsafe partial class KernelUserRingBuffer : IDisposable
{
    private const int ProtRead = 1, ProtWrite = 2, MapShared = 1;
    private const uint BusyBit = 1u << 31, DiscardBit = 1u << 30;
    private const int HeaderSize = 8;

    private readonly nuint _page;
    private readonly ulong _size;
    private byte* _consumer;
    private byte* _producer;

    /// <summary>Maps the ring of <paramref name="fd"/>, a user ring buffer of <paramref name="size"/> bytes.</summary>
    /// <param name="fd">The map.</param>
    /// <param name="size">Its max_entries: the data area's size.</param>
    /// <exception cref="KernelBpfException">mmap failed.</exception>
    public KernelUserRingBuffer(BpfFd fd, uint size)
    {
        ArgumentNullException.ThrowIfNull(fd);
        _page = (nuint)Environment.SystemPageSize;
        _size = size;
        _consumer = Map(fd, _page, ProtRead, 0);
        try
        {
            _producer = Map(fd, _page + (2 * (nuint)size), ProtRead | ProtWrite, (long)_page);
        }
        catch
        {
            _ = Munmap(_consumer, _page);
            throw;
        }
    }

    /// <summary>consumer_pos: what the kernel's drains have consumed.</summary>
    public ulong ConsumerPosition => Volatile.Read(ref *(ulong*)Live(_consumer));

    /// <summary>producer_pos: what has been written.</summary>
    public ulong ProducerPosition => Volatile.Read(ref *(ulong*)Live(_producer));

    /// <summary>Writes <paramref name="sample"/> as one record (user_ring_buffer__reserve, then __submit). False when
    /// it does not fit in the space the consumer has freed.</summary>
    /// <param name="sample">The record's bytes.</param>
    public bool Submit(ReadOnlySpan<byte> sample) => Write(sample, (uint)sample.Length, discard: false);

    /// <summary>Reserves a record of <paramref name="length"/> bytes and discards it (user_ring_buffer__discard): the
    /// kernel's drain skips it. False when it does not fit.</summary>
    /// <param name="length">The record's length.</param>
    public bool Discard(uint length) => Write([], length, discard: true);

    /// <summary>Unmaps the ring.</summary>
    public void Dispose()
    {
        if (_producer != null)
        {
            _ = Munmap(_producer, _page + (2 * (nuint)_size));
            _producer = null;
        }

        if (_consumer != null)
        {
            _ = Munmap(_consumer, _page);
            _consumer = null;
        }
    }

    private bool Write(ReadOnlySpan<byte> sample, uint length, bool discard)
    {
        // libbpf: user_ring_buffer__reserve()
        ulong total = (length + (ulong)HeaderSize + 7) & ~7UL;
        ulong cons = ConsumerPosition;
        ulong prod = ProducerPosition;
        if (length > (1u << 24) - 1 || total > _size || _size - (prod - cons) < total)
        {
            return false;
        }

        byte* header = _producer + _page + (prod & (_size - 1));
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(header, 4), length | BusyBit);
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(header + 4, 4), 0);
        Volatile.Write(ref *(ulong*)_producer, prod + total);

        // the data pages are mapped twice: a record crossing the end continues in the second mapping
        sample.CopyTo(new Span<byte>(header + HeaderSize, sample.Length));

        // user_ring_buffer__submit() / __discard(): clear the busy bit
        uint final = length | (discard ? DiscardBit : 0);
        Interlocked.Exchange(ref *(uint*)header, final);
        return true;
    }

    private byte* Live(byte* p)
    {
        ObjectDisposedException.ThrowIf(p == null, this);
        return p;
    }

    private static byte* Map(BpfFd fd, nuint length, int prot, long offset)
    {
        void* p = Mmap(null, length, prot, MapShared, fd.Value, offset);
        if ((nint)p == -1)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new KernelBpfException(BpfCommand.MapCreate, errno, null, $"mmap of the user ring buffer (offset {offset}, {length} bytes) failed");
        }

        return (byte*)p;
    }

    [LibraryImport("libc.so.6", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc.so.6", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(void* addr, nuint length);
}
