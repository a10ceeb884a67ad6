namespace VethXdp.Vm.Xdp;

/// <summary>Layout of Linux's <c>struct xdp_md</c>, the XDP program context (24 bytes, six u32 fields).</summary>
/// <remarks>
/// <code>
///  0        4            8             12                16               20               24
/// +--------+------------+-------------+-----------------+----------------+----------------+
/// | data   | data_end   | data_meta   | ingress_ifindex | rx_queue_index | egress_ifindex |
/// +--------+------------+-------------+-----------------+----------------+----------------+
/// </code>
/// The kernel rewrites 4-byte loads of data, data_end and data_meta into loads of the full 64-bit
/// pointers (<c>xdp_convert_ctx_access</c>); the interpreter gives those loads the same result.
/// </remarks>
public static class XdpMd
{
    /// <summary>sizeof(struct xdp_md).</summary>
    public const int Size = 24;

    /// <summary>offsetof(data): packet start.</summary>
    public const int Data = 0;

    /// <summary>offsetof(data_end): one past the packet's last byte.</summary>
    public const int DataEnd = 4;

    /// <summary>offsetof(data_meta): start of the metadata area (equal to data when there is none).</summary>
    public const int DataMeta = 8;

    /// <summary>offsetof(ingress_ifindex).</summary>
    public const int IngressIfindex = 12;

    /// <summary>offsetof(rx_queue_index).</summary>
    public const int RxQueueIndex = 16;

    /// <summary>offsetof(egress_ifindex): 0 unless the program runs on a devmap entry.</summary>
    public const int EgressIfindex = 20;
}
