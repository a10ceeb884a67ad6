namespace VethXdp.Devices.Xsk;

/// <summary>struct xdp_statistics, what getsockopt(XDP_STATISTICS) returns.</summary>
/// <param name="RxDropped">rx_dropped: frames the socket dropped (no fill chunk, or longer than a chunk's frame).</param>
/// <param name="RxInvalidDescs">rx_invalid_descs: invalid descriptors on the RX ring.</param>
/// <param name="TxInvalidDescs">tx_invalid_descs: TX descriptors skipped as invalid.</param>
/// <param name="RxRingFull">rx_ring_full: frames dropped because the RX ring was full.</param>
/// <param name="RxFillRingEmptyDescs">rx_fill_ring_empty_descs: times the kernel found the fill ring empty.</param>
/// <param name="TxRingEmptyDescs">tx_ring_empty_descs: times a transmit found the TX ring empty.</param>
public readonly record struct XskStatistics(
    ulong RxDropped, ulong RxInvalidDescs, ulong TxInvalidDescs, ulong RxRingFull, ulong RxFillRingEmptyDescs, ulong TxRingEmptyDescs);

/// <summary>The state of an AF_XDP socket (XSK_READY, XSK_BOUND, XSK_UNBOUND).</summary>
public enum XskState
{
    /// <summary>Created, not bound.</summary>
    Ready,

    /// <summary>Bound to a device queue.</summary>
    Bound,

    /// <summary>Unbound (closed or its device went away).</summary>
    Unbound,
}

/// <summary>struct xsk_socket_config (libxdp): ring sizes and bind flags.</summary>
public sealed record XskSocketConfig
{
    /// <summary>RX ring entries (a power of two; 0 for no RX ring).</summary>
    public uint RxSize { get; init; } = XskConstants.DefaultRingSize;

    /// <summary>TX ring entries (a power of two; 0 for no TX ring).</summary>
    public uint TxSize { get; init; } = XskConstants.DefaultRingSize;

    /// <summary>sxdp_flags: XDP_COPY, XDP_ZEROCOPY, XDP_USE_NEED_WAKEUP.</summary>
    public ushort BindFlags { get; init; } = XskConstants.UseNeedWakeup;

    /// <summary>A name for reports (default "DEV:QUEUE").</summary>
    public string? Name { get; init; }
}
