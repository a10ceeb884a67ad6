namespace VethXdp.Devices;

/// <summary>Where a frame can end. Every frame the source generates (and every broadcast clone) ends in exactly one of
/// these, or is still in a ring when the run stops. Each names the Linux counter or tracepoint that sees it.</summary>
public enum FrameEnd
{
    /// <summary>"stack": XDP_PASS (or no program): an skb went up the stack (rx_packets; not a drop).</summary>
    Stack,

    /// <summary>"wire": transmitted by a NIC (XDP_TX, or ndo_xdp_xmit towards it; tx_packets; not a drop).</summary>
    Wire,

    /// <summary>"xdp_drop": the program returned XDP_DROP (rx_queue_N_xdp_drops, the NIC's xdp_drops; generic XDP:
    /// kfree_skb).</summary>
    XdpDrop,

    /// <summary>"xdp_aborted": XDP_ABORTED, an unknown verdict or a program fault (tracepoint xdp:xdp_exception;
    /// veth counts it in rx_queue_N_xdp_drops).</summary>
    XdpAborted,

    /// <summary>"xdp_redirect_err": xdp_do_redirect failed (tracepoint xdp:xdp_redirect_err; veth also counts
    /// rx_queue_N_drops).</summary>
    XdpRedirectErr,

    /// <summary>"xdp_xmit_err": the target's ndo_xdp_xmit refused the frame at flush (tracepoint
    /// xdp:xdp_devmap_xmit; veth: tx_queue_N_xdp_xmit_errors on the sender, or tx_dropped for -ENXIO).</summary>
    XdpXmitErr,

    /// <summary>"xdp_tx_err": XDP_TX could not be sent (veth rx_queue_N_xdp_tx_errors, tracepoint xdp:xdp_bulk_tx;
    /// generic XDP: xdp:xdp_exception and tx_dropped).</summary>
    XdpTxErr,

    /// <summary>"broadcast_no_target": BPF_F_BROADCAST found no valid target; the frame is freed (no counter).</summary>
    BroadcastNoTarget,

    /// <summary>"tx_dropped": veth_xmit could not pass an skb to the peer (ring full, over MTU; the sender's
    /// tx_dropped).</summary>
    TxDropped,

    /// <summary>"backlog_drop": netif_rx found the CPU's backlog over netdev_max_backlog (softnet_stat dropped).</summary>
    BacklogDrop,

    /// <summary>"rx_missed": the NIC had no free descriptor or buffer (rx_missed_errors).</summary>
    RxMissed,

    /// <summary>"xsk": copied into an AF_XDP socket's UMEM and put on its RX ring (not a drop; the kernel frame is
    /// freed, user space owns the copy).</summary>
    Xsk, // xsk:

    /// <summary>A bridge freed the skb: its destination is behind the port it came in on (br_forward() with no hairpin
    /// mode), its source is not a valid address, it is over the port's MTU, or a flood found no port.</summary>
    BridgeDrop,

    /// <summary>kfree_skb_reason(SKB_DROP_REASON_OTHERHOST): ip_rcv_core() / ip6_rcv_core() drop an skb whose
    /// pkt_type eth_type_trans() set to PACKET_OTHERHOST (unicast to another address).</summary>
    OtherHost,

    /// <summary>SKB_DROP_REASON_IP_INHDR: an IPv4/IPv6 header that fails ip_rcv_core()'s checks (short, version,
    /// ihl, tot_len below ihl).</summary>
    IpInHdr,

    /// <summary>SKB_DROP_REASON_IP_CSUM: an IPv4 header whose checksum (ip_fast_csum) is not zero.</summary>
    IpCsum,

    /// <summary>SKB_DROP_REASON_PKT_TOO_SMALL: an skb shorter than the IP header's total length.</summary>
    PktTooSmall,

    /// <summary>SKB_DROP_REASON_UNHANDLED_PROTO: no packet type handler for skb->protocol (rx_nohandler).</summary>
    UnhandledProto,
}

/// <summary>The names of <see cref="FrameEnd"/> as results spell them.</summary>
public static class FrameEnds
{
    /// <summary>Number of ends.</summary>
    public const int Count = (int)FrameEnd.UnhandledProto + 1; // xsk: was RxMissed + 1

    private static readonly string[] s_names =
    [
        "stack", "wire", "xdp_drop", "xdp_aborted", "xdp_redirect_err", "xdp_xmit_err", "xdp_tx_err",
        "broadcast_no_target", "tx_dropped", "backlog_drop", "rx_missed", "xsk", "bridge_drop", // xsk: "xsk"
        "otherhost", "ip_inhdr", "ip_csum", "pkt_too_small", "unhandled_proto", // skb: SKB_DROP_REASON_* in lower case
    ];

    /// <summary>The name of <paramref name="end"/>.</summary>
    public static string Name(FrameEnd end) => s_names[(int)end];

    /// <summary>True for the ends that are drops (all but stack and wire).</summary>
    public static bool IsDrop(FrameEnd end) => end is not (FrameEnd.Stack or FrameEnd.Wire or FrameEnd.Xsk); // xsk: Xsk is no drop
}

/// <summary>The tracepoints the simulator counts.</summary>
public enum TracePoint
{
    /// <summary>xdp:xdp_exception.</summary>
    XdpException,

    /// <summary>xdp:xdp_redirect (success).</summary>
    XdpRedirect,

    /// <summary>xdp:xdp_redirect_err.</summary>
    XdpRedirectErr,

    /// <summary>xdp:xdp_devmap_xmit events with drops or an error.</summary>
    XdpDevmapXmitErr,

    /// <summary>xdp:xdp_bulk_tx events with drops or an error.</summary>
    XdpBulkTxErr,
}
