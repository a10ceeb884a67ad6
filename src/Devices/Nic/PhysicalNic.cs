using VethXdp.Devices.Frames;
using VethXdp.Devices.Napi;

namespace VethXdp.Devices.Nic;

/// <summary>A physical NIC as an XDP driver (i40e, mlx5) presents it: receive queues with descriptor rings, RSS, a NAPI
/// poll per queue running the driver-mode program, an XDP transmit ring per CPU, and ndo_xdp_xmit onto the wire.</summary>
public sealed class PhysicalNic : NetDevice
{
    private readonly byte[] _rssKey;

    /// <summary>Creates a NIC with <paramref name="rxQueues"/> queues of <paramref name="ringSize"/> descriptors and
    /// <paramref name="cpus"/> XDP transmit rings.</summary>
    public PhysicalNic(string name, int ifindex, uint mtu, int rxQueues, int ringSize, ReadOnlySpan<byte> rssKey, int cpus)
        : base(name, ifindex, mtu)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rxQueues);
        _rssKey = rssKey.ToArray();
        Rx = new NicRxQueue[rxQueues];
        for (int q = 0; q < rxQueues; q++)
        {
            Rx[q] = new NicRxQueue(this, q, ringSize);
        }

        Tx = new NicTxQueue[cpus];
        for (int c = 0; c < cpus; c++)
        {
            Tx[c] = new NicTxQueue();
        }
    }

    /// <inheritdoc/>
    public override string Kind => "nic";

    /// <summary>The receive queues.</summary>
    public NicRxQueue[] Rx { get; }

    /// <summary>The XDP transmit rings, one per CPU (as drivers allocate them).</summary>
    public NicTxQueue[] Tx { get; }

    /// <summary>The RSS key.</summary>
    public ReadOnlySpan<byte> RssKey => _rssKey;

    /// <inheritdoc/>
    public override int RxQueueCount => Rx.Length;

    /// <inheritdoc/>
    public override int TxQueueCount => Tx.Length;

    /// <inheritdoc/>
    public override bool HasNdoXdpXmit => true;

    /// <inheritdoc/>
    public override bool AdvertisesNdoXmit => true;

    /// <summary>Frames the wire carried out (XDP_TX, ndo_xdp_xmit, the stack's transmits).</summary>
    internal ulong TxPackets => Sum(StatTxPackets);

    /// <summary>Their bytes.</summary>
    internal ulong TxBytes => Sum(StatTxBytes);

    /// <summary>The receive queue RSS picks for <paramref name="frame"/>.</summary>
    public int SelectQueue(ReadOnlySpan<byte> frame) => Toeplitz.Queue(_rssKey, frame, Rx.Length);

    internal override int XdpXmit(NapiContext cpu, Span<XdpDesc> frames, bool flush, bool ndoXmit, FrameEnd refused)
    {
        // kernel: i40e_xdp_xmit(): onto this CPU's XDP ring, then the wire.
        var tx = Tx[cpu.Id % Tx.Length];
        foreach (ref readonly var d in frames)
        {
            tx.XdpXmit++;
            Wire(cpu, d);
        }

        return frames.Length;
    }

    internal override bool StartXmit(NapiContext cpu, in XdpDesc skb)
    {
        Wire(cpu, skb);
        return true;
    }

    internal void Wire(NapiContext cpu, in XdpDesc d)
    {
        Count(cpu.Id, StatTxPackets, 1);
        Count(cpu.Id, StatTxBytes, d.Length);
        cpu.Capture(this, d, outbound: true);
        cpu.End(d, FrameEnd.Wire);
    }

    /// <inheritdoc/>
    public override DeviceCounters Snapshot()
    {
        var rx = new List<Counters>();
        ulong rxPackets = 0, rxBytes = 0, missed = 0;
        foreach (var q in Rx)
        {
            rx.Add(new Counters()
                .Add("packets", q.RxPackets).Add("bytes", q.RxBytes)
                .Add("xdp_packets", q.XdpPackets).Add("xdp_drops", q.XdpDrops).Add("xdp_tx", q.XdpTx)
                .Add("xdp_tx_errors", q.XdpTxErr).Add("xdp_redirect", q.XdpRedirect).Add("xdp_aborted", q.XdpAborted));
            rxPackets += q.RxPackets;
            rxBytes += q.RxBytes;
            missed += q.RxMissed;
        }

        var tx = new List<Counters>();
        foreach (var t in Tx)
        {
            tx.Add(new Counters().Add("xdp_xmit", t.XdpXmit).Add("xdp_xmit_errors", t.XdpXmitErr));
        }

        return new DeviceCounters(Name, Kind, rx, tx, new Counters()
            .Add("rx_packets", rxPackets).Add("rx_bytes", rxBytes).Add("rx_dropped", missed)
            .Add("tx_packets", TxPackets).Add("tx_bytes", TxBytes).Add("tx_dropped", Dropped));
    }
}

/// <summary>One XDP transmit ring's counters.</summary>
public sealed class NicTxQueue
{
    /// <summary>Frames ndo_xdp_xmit put on the wire.</summary>
    internal ulong XdpXmit;

    /// <summary>Frames ndo_xdp_xmit refused.</summary>
    internal ulong XdpXmitErr;
}
