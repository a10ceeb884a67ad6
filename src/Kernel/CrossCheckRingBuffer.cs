using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VethXdp.Kernel;

/// <summary>A user-space consumer of a kernel BPF_MAP_TYPE_RINGBUF, as libbpf's ring_buffer__consume reads it: the
/// consumer page mapped read-write at offset 0, the producer page and the data (mapped twice, so a record never
/// wraps) read-only at one page.</summary>
internal sealed unsafe partial class CrossCheckRingBuffer : IDisposable
{
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapShared = 1;
    private const uint BusyBit = 1u << 31;
    private const uint DiscardBit = 1u << 30;
    private const int HeaderSize = 8;

    private readonly nint _consumer;
    private readonly nint _producer;
    private readonly nuint _pageSize;
    private readonly nuint _dataSize;
    private bool _disposed;

    private CrossCheckRingBuffer(nint consumer, nint producer, nuint pageSize, nuint dataSize)
    {
        _consumer = consumer;
        _producer = producer;
        _pageSize = pageSize;
        _dataSize = dataSize;
    }

    /// <summary>Maps the ring of <paramref name="fd"/>, whose max_entries (the data size, a power of 2) is
    /// <paramref name="maxEntries"/>.</summary>
    /// <exception cref="InvalidOperationException">mmap failed.</exception>
    public static CrossCheckRingBuffer Open(BpfFd fd, uint maxEntries)
    {
        RuntimeHelpers.RunClassConstructor(typeof(LibC).TypeHandle);   // libc's resolver, registered there
        nuint page = (nuint)Environment.SystemPageSize;
        nint consumer = MMap(0, page, ProtRead | ProtWrite, MapShared, fd.Value, 0);
        if (consumer == -1)
        {
            throw new InvalidOperationException($"mmap of the ring buffer's consumer page: {ErrnoNames.Name(Marshal.GetLastPInvokeError())}");
        }

        nint producer = MMap(0, page + (2 * (nuint)maxEntries), ProtRead, MapShared, fd.Value, (nint)page);
        if (producer == -1)
        {
            int errno = Marshal.GetLastPInvokeError();
            _ = MUnmap(consumer, page);
            throw new InvalidOperationException($"mmap of the ring buffer's data: {ErrnoNames.Name(errno)}");
        }

        return new CrossCheckRingBuffer(consumer, producer, page, maxEntries);
    }

    /// <summary>Reads every committed record (discarded ones skipped) and moves the consumer past them.</summary>
    public List<byte[]> Drain()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var records = new List<byte[]>();
        ulong* consumerPos = (ulong*)_consumer;
        ulong* producerPos = (ulong*)_producer;
        byte* data = (byte*)_producer + _pageSize;
        ulong mask = _dataSize - 1;
        ulong cons = Volatile.Read(ref *consumerPos);
        ulong prod = Volatile.Read(ref *producerPos);
        while (cons < prod)
        {
            byte* header = data + (cons & mask);
            uint len = Volatile.Read(ref *(uint*)header);
            if ((len & BusyBit) != 0)
            {
                break;
            }

            uint size = len & ~(BusyBit | DiscardBit);
            if ((len & DiscardBit) == 0)
            {
                records.Add(new ReadOnlySpan<byte>(header + HeaderSize, (int)size).ToArray());
            }

            cons += (size + HeaderSize + 7) & ~7ul;
            Volatile.Write(ref *consumerPos, cons);
        }

        return records;
    }

    /// <summary>Unmaps the ring.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _ = MUnmap(_consumer, _pageSize);
            _ = MUnmap(_producer, _pageSize + (2 * _dataSize));
        }
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint MMap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int MUnmap(nint addr, nuint length);
}
