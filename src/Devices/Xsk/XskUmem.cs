using System.Runtime.InteropServices;

namespace VethXdp.Devices.Xsk;

/// <summary>A UMEM (net/xdp/xdp_umem.c with its buffer pool, xsk_buff_pool.c): a user-registered area cut into
/// fixed-size chunks, with its fill ring (user space gives chunks to the kernel) and completion ring (the kernel gives
/// transmitted chunks back). Created as libxdp's xsk_umem__create() does.</summary>
/// <remarks>Aligned chunk mode only. The kernel's free list (buffers it allocated from the fill ring and freed again,
/// e.g. when the RX ring was full) is reused before the fill ring, as xp_alloc() does.</remarks>
public sealed unsafe class XskUmem : IDisposable
{
    private readonly ulong[] _freeList;
    private int _freeCount;
    private byte* _area;

    private XskUmem(ulong size, uint chunkSize, uint headroom, uint fillSize, uint compSize)
    {
        Size = size;
        ChunkSize = chunkSize;
        Headroom = headroom;
        _area = (byte*)NativeMemory.AlignedAlloc((nuint)size, XskConstants.PageSize);
        NativeMemory.Clear(_area, (nuint)size);
        var fq = new XskRingMemory(fillSize, 8);
        var cq = new XskRingMemory(compSize, 8);
        Fill = new XskProdRing(fq);
        Completion = new XskConsRing(cq);
        FillQueue = new XskQueue(fq);
        CompletionQueue = new XskQueue(cq);
        _freeList = new ulong[Math.Max(1, (int)Math.Min(size / chunkSize, 1 << 20))];
    }

    /// <summary>xsk_umem__create(): registers <paramref name="size"/> bytes in chunks of
    /// <paramref name="config"/>.FrameSize, with fill and completion rings of the configured sizes.</summary>
    /// <exception cref="XskException">-EINVAL as xdp_umem_reg() returns it (chunk size outside 2048..4096 or not a
    /// power of two, size not a multiple of the chunk size, headroom too large, ring size not a power of two).</exception>
    public static XskUmem Create(ulong size, XskUmemConfig? config = null)
    {
        var c = config ?? new XskUmemConfig();
        // kernel: xdp_umem_reg()
        uint chunk = c.FrameSize;
        if (chunk < XskConstants.MinChunkSize || chunk > XskConstants.PageSize || (chunk & (chunk - 1)) != 0)
        {
            throw new XskException(-Vm.Maps.Errno.EINVAL, $"chunk size {chunk}: must be a power of two in 2048..4096 (xdp_umem_reg: -EINVAL)");
        }

        ulong chunks = size / chunk;
        if (chunks == 0 || chunks > uint.MaxValue || size % chunk != 0)
        {
            throw new XskException(-Vm.Maps.Errno.EINVAL, $"UMEM size {size} is not a positive multiple of the chunk size {chunk} (xdp_umem_reg: -EINVAL)");
        }

        if (c.FrameHeadroom >= chunk - XskConstants.PacketHeadroom)
        {
            throw new XskException(-Vm.Maps.Errno.EINVAL, $"headroom {c.FrameHeadroom} leaves no room in a {chunk}-byte chunk (xdp_umem_reg: -EINVAL)");
        }

        return new XskUmem(size, chunk, c.FrameHeadroom, c.FillSize, c.CompSize);
    }

    /// <summary>Bytes registered.</summary>
    public ulong Size { get; }

    /// <summary>chunk_size.</summary>
    public uint ChunkSize { get; }

    /// <summary>The UMEM headroom (before XDP_PACKET_HEADROOM).</summary>
    public uint Headroom { get; }

    /// <summary>Chunks in the area.</summary>
    public uint Chunks => (uint)(Size / ChunkSize);

    /// <summary>The largest frame a chunk receives: chunk_size - headroom - XDP_PACKET_HEADROOM (frame_len).</summary>
    public uint RxFrameSize => ChunkSize - Headroom - XskConstants.PacketHeadroom;

    /// <summary>The fill ring, user side.</summary>
    public XskProdRing Fill { get; }

    /// <summary>The completion ring, user side.</summary>
    public XskConsRing Completion { get; }

    /// <summary>The fill ring, kernel side.</summary>
    public XskQueue FillQueue { get; }

    /// <summary>The completion ring, kernel side.</summary>
    public XskQueue CompletionQueue { get; }

    /// <summary>The socket bound with this UMEM, or null.</summary>
    public XskSocket? Owner { get; internal set; }

    /// <summary>xsk_umem__get_data(): the bytes at <paramref name="addr"/>.</summary>
    public Span<byte> Data(ulong addr, int length)
    {
        if (addr + (ulong)(uint)length > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(addr), $"0x{addr:x}+{length} is outside the {Size}-byte UMEM");
        }

        return new Span<byte>(_area + addr, length);
    }

    /// <summary>The area's address.</summary>
    public byte* Area => _area;

    internal ulong ChunkMask => ~((ulong)ChunkSize - 1);

    /// <summary>xp_aligned_validate_desc(): a TX descriptor names bytes inside one chunk of the area.</summary>
    internal bool IsValidTxDesc(in XskDesc d)
    {
        if (d.Len == 0 || d.Options != 0 || d.Addr >= Size)
        {
            return false;
        }

        ulong offset = d.Addr & (ChunkSize - 1);
        return offset + d.Len <= ChunkSize;
    }

    /// <summary>xp_alloc(): a chunk for a received frame (its base address), from the free list or the fill ring;
    /// false when the fill ring is empty (queue_empty_descs counted). Invalid fill addresses are skipped and counted.</summary>
    internal bool TryAlloc(out ulong chunk)
    {
        // kernel: xp_alloc() -> __xp_alloc()
        if (_freeCount > 0)
        {
            chunk = _freeList[--_freeCount];
            return true;
        }

        while (true)
        {
            if (!FillQueue.ConsPeekAddr(out ulong addr))
            {
                FillQueue.QueueEmptyDescs++;
                chunk = 0;
                return false;
            }

            addr &= ChunkMask;
            FillQueue.ConsRelease();
            if (addr < Size)
            {
                chunk = addr;
                return true;
            }

            FillQueue.InvalidDescs++;
        }
    }

    /// <summary>xp_free(): back onto the kernel's free list.</summary>
    internal void Free(ulong chunk) => _freeList[_freeCount++] = chunk;

    /// <summary>Chunks the kernel holds on its free list.</summary>
    public int KernelFreeChunks => _freeCount;

    /// <summary>Frees the area and the rings.</summary>
    public void Dispose()
    {
        if (_area != null)
        {
            NativeMemory.AlignedFree(_area);
            _area = null;
            Fill.Ring.Dispose();
            Completion.Ring.Dispose();
        }
    }
}

/// <summary>struct xsk_umem_config (libxdp): ring sizes, chunk size and headroom.</summary>
public sealed record XskUmemConfig
{
    /// <summary>Fill ring entries (a power of two).</summary>
    public uint FillSize { get; init; } = XskConstants.DefaultRingSize;

    /// <summary>Completion ring entries (a power of two).</summary>
    public uint CompSize { get; init; } = XskConstants.DefaultRingSize;

    /// <summary>Chunk size.</summary>
    public uint FrameSize { get; init; } = XskConstants.DefaultFrameSize;

    /// <summary>Headroom before XDP_PACKET_HEADROOM in every chunk.</summary>
    public uint FrameHeadroom { get; init; }
}
