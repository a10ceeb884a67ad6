namespace VethXdp.Devices.Xsk;

/// <summary>The uapi constants of include/uapi/linux/if_xdp.h and the limits of net/xdp.</summary>
public static class XskConstants
{
    /// <summary>ENOBUFS (not in Vm's Errno table).</summary>
    public const int ENOBUFS = 105;

    /// <summary>XDP_SHARED_UMEM (sxdp_flags).</summary>
    public const ushort SharedUmem = 1 << 0;

    /// <summary>XDP_COPY: force copy mode.</summary>
    public const ushort Copy = 1 << 1;

    /// <summary>XDP_ZEROCOPY: force zero-copy mode.</summary>
    public const ushort ZeroCopy = 1 << 2;

    /// <summary>XDP_USE_NEED_WAKEUP.</summary>
    public const ushort UseNeedWakeup = 1 << 3;

    /// <summary>XDP_RING_NEED_WAKEUP (the ring's flags word).</summary>
    public const uint RingNeedWakeup = 1 << 0;

    /// <summary>XDP_UMEM_MIN_CHUNK_SIZE.</summary>
    public const uint MinChunkSize = 2048;

    /// <summary>PAGE_SIZE: the largest aligned chunk.</summary>
    public const uint PageSize = 4096;

    /// <summary>XDP_PACKET_HEADROOM: copy mode puts a received frame this far into its chunk (after the UMEM headroom).</summary>
    public const uint PacketHeadroom = 256;

    /// <summary>TX_BATCH_SIZE: descriptors one sendto() sends in copy mode before -EAGAIN.</summary>
    public const int TxBatchSize = 32;

    /// <summary>XSK_RING_PROD__DEFAULT_NUM_DESCS / XSK_RING_CONS__DEFAULT_NUM_DESCS (libxdp).</summary>
    public const uint DefaultRingSize = 2048;

    /// <summary>XSK_UMEM__DEFAULT_FRAME_SIZE (libxdp).</summary>
    public const uint DefaultFrameSize = 4096;

    /// <summary>Offset of the producer index in the mmap()ed ring (struct xdp_ring, 64-byte cache lines).</summary>
    public const int ProducerOffset = 0;

    /// <summary>Offset of the consumer index (after pad1 on its own line).</summary>
    public const int ConsumerOffset = 128;

    /// <summary>Offset of the flags word (after pad2).</summary>
    public const int FlagsOffset = 196;

    /// <summary>Offset of the descriptor array (cache-line aligned after pad3).</summary>
    public const int DescOffset = 320;
}
