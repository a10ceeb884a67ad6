using VethXdp.Devices.Frames;
using VethXdp.Devices.Napi;
using VethXdp.Vm.Maps;

namespace VethXdp.Devices.Veth;

/// <summary>One end of a veth pair, as drivers/net/veth.c has it: per-queue rings (ptr_ring of 256) fed by the
/// peer, a NAPI per queue that runs only when an XDP program is attached (or, from 5.13, GRO is on), XDP_TX back to
/// the peer, and ndo_xdp_xmit into the peer's ring.</summary>
public sealed class VethDevice : NetDevice
{
    /// <summary>VETH_RING_SIZE.</summary>
    public const int RingSize = 256;

    /// <summary>VETH_XDP_TX_BULK_SIZE.</summary>
    public const int TxBulkSize = 16;

    private readonly KernelProfile _profile;

    /// <summary>Creates one end with <paramref name="queues"/> receive and transmit queues.</summary>
    public VethDevice(string name, int ifindex, uint mtu, int queues, KernelProfile profile)
        : base(name, ifindex, mtu)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(queues);
        ArgumentNullException.ThrowIfNull(profile);
        _profile = profile;
        Rq = new VethRq[queues];
        for (int q = 0; q < queues; q++)
        {
            Rq[q] = new VethRq(this, q);
        }
    }

    /// <inheritdoc/>
    public override string Kind => "veth";

    /// <summary>The other end.</summary>
    public VethDevice? Peer { get; internal set; }

    /// <summary>The receive queues (struct veth_rq).</summary>
    public VethRq[] Rq { get; }

    /// <summary>The kernel profile.</summary>
    public KernelProfile Profile => _profile;

    /// <inheritdoc/>
    public override int RxQueueCount => Rq.Length;

    /// <inheritdoc/>
    public override int TxQueueCount => Rq.Length;

    /// <inheritdoc/>
    public override bool HasNdoXdpXmit => true;

    /// <summary>rq->napi is set: an XDP program is attached, or GRO is on where the profile lets GRO enable NAPI.</summary>
    public bool NapiEnabled => Native is not null || (Gro && _profile.GroNapi);

    /// <inheritdoc/>
    /// <remarks>kernel: veth_set_xdp_features(): NDO_XMIT when the peer runs an XDP program or has GRO on (and the
    /// peer has no more tx queues than this device has rx queues).</remarks>
    public override bool AdvertisesNdoXmit =>
        Peer is { } peer && peer.TxQueueCount <= RxQueueCount && (peer.Native is not null || peer.Gro);

    /// <summary>dev_lstats: what veth_xmit passed to the peer's stack without NAPI.</summary>
    internal ulong LstatsPackets => Sum(StatLPackets);

    internal ulong LstatsBytes => Sum(StatLBytes);

    internal override int XdpXmit(NapiContext cpu, Span<XdpDesc> frames, bool flush, bool ndoXmit, FrameEnd refused)
    {
        // kernel: veth_xdp_xmit() (and veth_ndo_xdp_xmit() for ndoXmit)
        int n = frames.Length;
        var rcv = Peer;
        if (rcv is null || !rcv.NapiEnabled)
        {
            // The peer's rings are not set up (no XDP program, no GRO NAPI): -ENXIO.
            if (ndoXmit && _profile.NdoXmitErrorCountsDropped)
            {
                Count(cpu.Id, StatDropped, (ulong)n);
            }

            return -Errno.ENXIO;
        }

        var rq = rcv.Rq[cpu.Id % rcv.Rq.Length];
        uint maxLen = rcv.MaxForwardLength;
        int sent = 0;
        int i = 0;
        for (; i < n; i++)
        {
            ref readonly var d = ref frames[i];
            if (d.Length > maxLen || !rq.Ring.TryEnqueue(d with { Ifindex = Ifindex }))
            {
                if (_profile.XmitStopsAtFirstFailure)
                {
                    break;
                }

                cpu.End(d, refused);
                continue;
            }

            sent++;
        }

        for (; i < n; i++)
        {
            cpu.End(frames[i], refused);
        }

        if (flush)
        {
            cpu.ScheduleVethRq(rq);
        }

        if (ndoXmit)
        {
            rq.PeerTqXdpXmit += (ulong)sent;
            rq.PeerTqXdpXmitErr += (ulong)(n - sent);
        }

        return sent;
    }

    internal override bool StartXmit(NapiContext cpu, in XdpDesc skb)
    {
        // kernel: veth_xmit(): to the peer's ring when its NAPI runs, else netif_rx() (the backlog).
        var rcv = Peer;
        if (rcv is null || skb.Length > rcv.MaxForwardLength)
        {
            Count(cpu.Id, StatDropped, 1);
            cpu.End(skb, FrameEnd.TxDropped);
            return true;
        }

        int rxq = cpu.Id % TxQueueCount;
        // veth_forward_skb() -> __dev_forward_skb(): scrubbed and eth_type_trans()'d for the peer
        var forwarded = skb;
        cpu.DevForwardSkb(rcv, ref forwarded);
        if (rxq < rcv.Rq.Length && rcv.NapiEnabled)
        {
            var rq = rcv.Rq[rxq];
            if (!rq.Ring.TryEnqueue(forwarded))
            {
                Count(cpu.Id, StatDropped, 1);
                cpu.End(skb, FrameEnd.TxDropped);
            }

            cpu.ScheduleVethRq(rq);
            return true;
        }

        if (cpu.NetifRx(forwarded))
        {
            Count(cpu.Id, StatLPackets, 1);
            Count(cpu.Id, StatLBytes, skb.Length);
        }
        else
        {
            Count(cpu.Id, StatDropped, 1);
        }

        return true;
    }

    /// <inheritdoc/>
    public override DeviceCounters Snapshot()
    {
        // kernel: veth_get_ethtool_stats() and veth_get_stats64()
        var rx = new List<Counters>();
        ulong xdpPackets = 0, xdpBytes = 0, rxDrops = 0, xdpTxErr = 0, xmitErr = 0;
        foreach (var q in Rq)
        {
            rx.Add(new Counters()
                .Add("xdp_packets", q.XdpPackets).Add("xdp_bytes", q.XdpBytes).Add("drops", q.RxDrops)
                .Add("xdp_redirect", q.XdpRedirect).Add("xdp_drops", q.XdpDrops).Add("xdp_tx", q.XdpTx)
                .Add("xdp_tx_errors", q.XdpTxErr));
            xdpPackets += q.XdpPackets;
            xdpBytes += q.XdpBytes;
            rxDrops += q.RxDrops;
            xdpTxErr += q.XdpTxErr;
            xmitErr += q.PeerTqXdpXmitErr;
        }

        var txXmit = new ulong[TxQueueCount];
        var txErr = new ulong[TxQueueCount];
        ulong peerXdpPackets = 0, peerXdpBytes = 0, peerTxErr = 0, peerXmitErr = 0;
        if (Peer is { } peer)
        {
            for (int i = 0; i < peer.Rq.Length; i++)
            {
                var q = peer.Rq[i];
                txXmit[i % TxQueueCount] += q.PeerTqXdpXmit;
                txErr[i % TxQueueCount] += q.PeerTqXdpXmitErr;
                peerXdpPackets += q.XdpPackets;
                peerXdpBytes += q.XdpBytes;
                peerTxErr += q.XdpTxErr;
                peerXmitErr += q.PeerTqXdpXmitErr;
            }
        }

        var tx = new List<Counters>();
        for (int i = 0; i < TxQueueCount; i++)
        {
            tx.Add(new Counters().Add("xdp_xmit", txXmit[i]).Add("xdp_xmit_errors", txErr[i]));
        }

        ulong peerLPackets = Peer?.LstatsPackets ?? 0, peerLBytes = Peer?.LstatsBytes ?? 0;
        var totals = new Counters()
            .Add("rx_packets", xdpPackets + peerLPackets)
            .Add("rx_bytes", xdpBytes + peerLBytes)
            .Add("rx_dropped", rxDrops + xmitErr + peerTxErr)
            .Add("tx_packets", LstatsPackets + peerXdpPackets)
            .Add("tx_bytes", LstatsBytes + peerXdpBytes)
            .Add("tx_dropped", Dropped + xdpTxErr + peerXmitErr);
        return new DeviceCounters(Name, Kind, rx, tx, totals);
    }
}
