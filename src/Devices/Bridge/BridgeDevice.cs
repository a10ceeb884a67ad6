using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using VethXdp.Devices.Frames;
using VethXdp.Devices.Napi;

namespace VethXdp.Devices.Bridge;

/// <summary>A Linux bridge (net/bridge) without STP, VLAN filtering or multicast snooping state: the skbs its ports
/// pass up are learnt (source MAC -> port, br_fdb_update) and forwarded: a known unicast destination to its port
/// (never back out of the ingress port), an unknown one to every other port, a broadcast or multicast one to every
/// other port and up the bridge's own stack. Forwarding is dev_queue_xmit on the port (for a veth: veth_xmit into
/// the peer).</summary>
/// <remarks>The learnt table is shared by every CPU, as the kernel's fdb is: a world with a bridge runs on one worker
/// thread (<see cref="Simulator"/>). Floods copy the frame for every port but the last (skb_clone shares the data in
/// Linux; a copy here, counted in <c>cloned</c>).</remarks>
public sealed class BridgeDevice : NetDevice
{
    private readonly List<NetDevice> _ports = [];
    // The fdb: net_bridge_fdb_key {addr, vlan_id} as addr | vid << 48 (vid 0: no VLAN filtering) -> the entry.
    private readonly FdbTable _fdb = new();

    /// <summary>A bridge named <paramref name="name"/> (ip link add NAME type bridge).</summary>
    public BridgeDevice(string name, int ifindex, uint mtu = 1500)
        : base(name, ifindex, mtu)
    {
    }

    /// <inheritdoc/>
    public override string Kind => "bridge";

    /// <inheritdoc/>
    public override int RxQueueCount => 1;

    /// <inheritdoc/>
    public override int TxQueueCount => 1;

    /// <inheritdoc/>
    public override bool HasNdoXdpXmit => false;

    /// <inheritdoc/>
    public override bool AdvertisesNdoXmit => false;

    /// <summary>The ports, in the order they were added.</summary>
    public IReadOnlyList<NetDevice> Ports => _ports;

    /// <summary>The learnt table: MAC (6 bytes, big-endian in a ulong) -> the port's ifindex.</summary>
    public IReadOnlyDictionary<ulong, int> Fdb => _fdb.Snapshot();

    internal ulong Forwarded => Sum(StatForwarded);

    internal ulong Flooded => Sum(StatFlooded);

    private const int StatForwarded = 5, StatFlooded = 6, StatMulticast = 7;

    /// <summary>Enslaves <paramref name="port"/> (ip link set PORT master NAME); the port forwards at once (no STP).</summary>
    /// <exception cref="InvalidOperationException">The port is a bridge, this bridge, or already has a master.</exception>
    public void AddPort(NetDevice port)
    {
        ArgumentNullException.ThrowIfNull(port);
        if (port is BridgeDevice || port.Master is not null)
        {
            throw new InvalidOperationException($"{port.Name} cannot be a port of {Name}: it is a bridge or already has a master (-EBUSY)");
        }

        port.Master = this;
        _ports.Add(port);
    }

    // kernel: br_handle_frame() -> br_handle_frame_finish(): the rx_handler of every port, run by
    // __netif_receive_skb_core() for an skb the port passes up.
    internal void Receive(NapiContext cpu, NetDevice port, in XdpDesc skb)
    {
        var eth = cpu.Pool.Data(skb);
        if (eth.Length < HardHeaderLen)
        {
            cpu.End(skb, FrameEnd.BridgeDrop);
            return;
        }

        ulong dest = Mac(eth);
        ulong source = Mac(eth[6..]);
        if ((eth[6] & 1) != 0 || source == 0)
        {
            // !is_valid_ether_addr(h_source)
            cpu.End(skb, FrameEnd.BridgeDrop);
            return;
        }

        if ((dest & LinkLocalMask) == LinkLocalGroup && (dest & 0xf) != 0)
        {
            // is_link_local_ether_addr() other than 01:80:c2:00:00:00 with STP off: learnt, then RX_HANDLER_PASS (the
            // port's own stack); pause frames (…:01) are dropped.
            Learn(cpu, source, port);
            if ((dest & 0xf) == 1)
            {
                cpu.End(skb, FrameEnd.BridgeDrop);
            }
            else
            {
                cpu.DeliverPtype(port, skb);
            }

            return;
        }

        // memset(skb->cb, 0, sizeof(struct br_input_skb_cb)) in br_handle_frame()
        cpu.ClearCb(skb, BrInputSkbCbSize);
        Learn(cpu, source, port);
        if ((eth[0] & 1) != 0)
        {
            // broadcast, or multicast with no snooped group: flooded, and up the bridge's stack (local_rcv)
            if (dest != Broadcast)
            {
                Count(cpu.Id, StatMulticast, 1);
            }

            Flood(cpu, port, skb, localRcv: true);
            return;
        }

        ref var dst = ref _fdb.Find(dest | ((ulong)Vid << 48));
        if (!Unsafe.IsNullRef(ref dst))
        {
            // br_fdb_find_rcu(): the entry's 'used' stamp, then br_forward()
            var to = dst.Dst;
            if (dst.Used != cpu.ClockNs)
            {
                dst.Used = cpu.ClockNs;
            }

            // br_forward(): should_deliver() refuses the ingress port (no hairpin mode): the skb is freed
            if (ReferenceEquals(to, port))
            {
                cpu.End(skb, FrameEnd.BridgeDrop);
                return;
            }

            Count(cpu.Id, StatForwarded, 1);
            Xmit(cpu, to, skb);
            return;
        }

        Flood(cpu, port, skb, localRcv: false);
    }

    // kernel: br_fdb_update(): a new entry for {address, vid}, or the port and 'updated' stamp of the one there
    private void Learn(NapiContext cpu, ulong source, NetDevice port)
    {
        ref var slot = ref _fdb.GetOrAdd(source | ((ulong)Vid << 48), out bool exists);
        if (!exists)
        {
            slot = new FdbTable.Entry { Dst = port, Updated = cpu.ClockNs, Used = cpu.ClockNs };
            return;
        }

        if (!ReferenceEquals(slot.Dst, port))
        {
            slot.Dst = port;
        }

        if (slot.Updated != cpu.ClockNs)
        {
            slot.Updated = cpu.ClockNs;
        }
    }

    private NetDevice? FindPort(ulong mac)
    {
        ref var e = ref _fdb.Find(mac | ((ulong)Vid << 48));
        return Unsafe.IsNullRef(ref e) ? null : e.Dst;
    }

    private const int BrInputSkbCbSize = 16;

    // br_allowed_ingress() with VLAN filtering off: every frame is in vid 0
    private const ushort Vid = 0;



    // kernel: br_flood(): every port but the ingress one, a clone for each but the last; local_rcv: the skb also goes
    // up the bridge's own stack (br_pass_frame_up()), the ports get clones.
    private void Flood(NapiContext cpu, NetDevice ingress, in XdpDesc skb, bool localRcv)
    {
        Count(cpu.Id, StatFlooded, 1);
        NetDevice? prev = null;
        foreach (var p in _ports)
        {
            if (ReferenceEquals(p, ingress) || !p.Up)
            {
                continue;
            }

            if (prev is not null)
            {
                if (!cpu.TryCloneFrame(skb, out var clone))
                {
                    break;
                }

                Xmit(cpu, prev, clone);
            }

            prev = p;
        }

        if (localRcv)
        {
            if (prev is not null && cpu.TryCloneFrame(skb, out var last))
            {
                Xmit(cpu, prev, last);
            }

            PassFrameUp(cpu, skb);
        }
        else if (prev is not null)
        {
            Xmit(cpu, prev, skb);
        }
        else
        {
            cpu.End(skb, FrameEnd.BridgeDrop);
        }
    }

    // kernel: br_pass_frame_up(): counted on the bridge (skb->len: past the Ethernet header, which eth_type_trans
    // pulled), then netif_receive_skb() on it
    private void PassFrameUp(NapiContext cpu, in XdpDesc skb)
    {
        Count(cpu.Id, StatLPackets, 1);
        Count(cpu.Id, StatLBytes, (ulong)(skb.Length - HardHeaderLen));
        cpu.NetifReceiveSkb(this, skb with { Ifindex = Ifindex }, runGeneric: false);
    }

    // kernel: __br_forward() -> br_dev_queue_push_xmit() -> dev_queue_xmit() on the port
    private static void Xmit(NapiContext cpu, NetDevice port, in XdpDesc skb)
    {
        if (skb.Length > port.MaxForwardLength)
        {
            // is_skb_forwardable() in br_dev_queue_push_xmit()
            cpu.End(skb, FrameEnd.BridgeDrop);
            return;
        }

        if (!cpu.DevQueueXmit(port, skb))
        {
            port.Count(cpu.Id, StatDropped, 1);
            cpu.End(skb, FrameEnd.TxDropped);
        }
    }

    internal override int XdpXmit(NapiContext cpu, Span<XdpDesc> frames, bool flush, bool ndoXmit, FrameEnd refused) => -Vm.Maps.Errno.EOPNOTSUPP;

    // kernel: br_dev_xmit(): an skb sent on the bridge itself goes to the port of its destination, or is flooded
    internal override bool StartXmit(NapiContext cpu, in XdpDesc skb)
    {
        Count(cpu.Id, StatTxPackets, 1);
        Count(cpu.Id, StatTxBytes, skb.Length);
        var eth = cpu.Pool.Data(skb);
        if (eth.Length >= HardHeaderLen && (eth[0] & 1) == 0 && FindPort(Mac(eth)) is { } to)
        {
            Xmit(cpu, to, skb);
        }
        else
        {
            Flood(cpu, this, skb, localRcv: false);
        }

        return true;
    }

    /// <inheritdoc/>
    public override DeviceCounters Snapshot() => new(Name, Kind, [], [], new Counters()
        .Add("rx_packets", Sum(StatLPackets)).Add("rx_bytes", Sum(StatLBytes)).Add("rx_dropped", 0)
        .Add("tx_packets", Sum(StatTxPackets)).Add("tx_bytes", Sum(StatTxBytes)).Add("tx_dropped", Dropped)
        .Add("multicast", Sum(StatMulticast)).Add("forwarded", Forwarded).Add("flooded", Flooded));

    private const ulong Broadcast = 0xffff_ffff_ffffUL;
    private const ulong LinkLocalGroup = 0x0180_c200_0000UL;
    private const ulong LinkLocalMask = 0xffff_ffff_fff0UL;

    private static ulong Mac(ReadOnlySpan<byte> b) =>
        ((ulong)BinaryPrimitives.ReadUInt16BigEndian(b) << 32) | BinaryPrimitives.ReadUInt32BigEndian(b[2..]);
}
