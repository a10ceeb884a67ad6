namespace VethXdp.Verifier.Fixups;

/// <summary>Offsets inside <c>struct xdp_buff</c>, <c>struct xdp_rxq_info</c> and <c>struct xdp_txq_info</c> that the
/// xdp_md rewrites load from (include/net/xdp.h), as Linux 6.18.44 on x86-64 lays them out.</summary>
/// <remarks>Observed in the kernel's translated instructions of XDP programs that load every xdp_md field (see
/// <see cref="SkBuffLayout"/> for how); the test golden file keeps the dumps.</remarks>
public static class XdpBuffLayout
{
    /// <summary>offsetof(struct xdp_buff, data).</summary>
    public const short Data = 0;

    /// <summary>offsetof(struct xdp_buff, data_end).</summary>
    public const short DataEnd = 8;

    /// <summary>offsetof(struct xdp_buff, data_meta).</summary>
    public const short DataMeta = 16;

    /// <summary>offsetof(struct xdp_buff, rxq).</summary>
    public const short Rxq = 32;

    /// <summary>offsetof(struct xdp_buff, txq).</summary>
    public const short Txq = 40;

    /// <summary>offsetof(struct xdp_rxq_info, dev).</summary>
    public const short RxqDev = 0;

    /// <summary>offsetof(struct xdp_rxq_info, queue_index).</summary>
    public const short RxqQueueIndex = 8;

    /// <summary>offsetof(struct xdp_txq_info, dev).</summary>
    public const short TxqDev = 0;

    /// <summary>offsetof(struct net_device, ifindex).</summary>
    public const short NetDeviceIfindex = 224;
}
