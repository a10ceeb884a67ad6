using VethXdp.Devices.Frames;
using VethXdp.Devices.Napi;
using VethXdp.Vm.Maps;

namespace VethXdp.Devices;

/// <summary>A simulated network device (the kernel's struct net_device, reduced to what the XDP paths use).</summary>
public abstract class NetDevice : INetDevice
{
    /// <summary>ETH_HLEN: dev->hard_header_len of Ethernet devices.</summary>
    public const int HardHeaderLen = 14;

    /// <summary>VLAN_HLEN.</summary>
    public const int VlanHlen = 4;

    /// <summary>Creates a device.</summary>
    protected NetDevice(string name, int ifindex, uint mtu)
    {
        Name = name;
        Ifindex = ifindex;
        Mtu = mtu;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public int Ifindex { get; }

    /// <inheritdoc/>
    public uint Mtu { get; set; }

    /// <summary>"nic", "veth" or "loopback".</summary>
    public abstract string Kind { get; }

    /// <summary>Dense index of the device in its world (for per-CPU tables).</summary>
    public int Index { get; internal set; }

    /// <summary>IFF_UP.</summary>
    public bool Up { get; set; } = true;

    /// <summary>real_num_rx_queues.</summary>
    public abstract int RxQueueCount { get; }

    /// <summary>real_num_tx_queues.</summary>
    public abstract int TxQueueCount { get; }

    /// <summary>The driver-mode program, or null.</summary>
    public XdpAttachment? Native { get; internal set; }

    /// <summary>The generic-mode program, or null.</summary>
    public XdpAttachment? Generic { get; internal set; }

    /// <summary>GRO requested (NETIF_F_GRO in the wanted features).</summary>
    public bool Gro { get; set; }

    /// <summary>dev->dev_addr as a 48-bit number (00:11:22:33:44:55 is 0x001122334455); 0 when the scenario gives the
    /// device no address, in which case eth_type_trans() takes every unicast frame as PACKET_HOST
    /// (docs/differences.md "skb").</summary>
    public ulong DevAddr { get; set; }

    /// <summary>The bridge this device is a port of (ip link set DEV master BR), or null: its rx_handler then takes
    /// every skb the device passes up.</summary>
    public Bridge.BridgeDevice? Master { get; internal set; }

    /// <summary>The driver implements ndo_xdp_xmit.</summary>
    public abstract bool HasNdoXdpXmit { get; }

    /// <summary>xdp_features has NETDEV_XDP_ACT_NDO_XMIT (what 6.3+ checks at redirect time).</summary>
    public abstract bool AdvertisesNdoXmit { get; }

    // Device-wide counters, per CPU as the kernel keeps them (dev_lstats, core stats), 8 slots (a cache line) per CPU
    // so that CPUs on different worker threads never write the same line.
    private ulong[] _stats = new ulong[8];

    internal const int StatDropped = 0, StatLPackets = 1, StatLBytes = 2, StatTxPackets = 3, StatTxBytes = 4;

    internal void AllocStats(int cpus) => _stats = new ulong[8 * cpus];

    internal void Count(int cpu, int slot, ulong n) => _stats[(cpu * 8) + slot] += n;

    internal ulong Sum(int slot)
    {
        ulong n = 0;
        for (int i = slot; i < _stats.Length; i += 8)
        {
            n += _stats[i];
        }

        return n;
    }

    /// <summary>The device's own dropped counter (priv->dropped, core tx_dropped), summed over CPUs.</summary>
    internal ulong Dropped => Sum(StatDropped);

    /// <summary>The largest frame the device forwards: mtu + hard_header_len + VLAN_HLEN (xdp_ok_fwd_dev).</summary>
    public uint MaxForwardLength => Mtu + HardHeaderLen + VlanHlen;

    /// <summary>ndo_xdp_xmit: takes <paramref name="frames"/> (all of them: those it cannot queue it frees as
    /// <paramref name="refused"/>); returns the number queued, or a negative errno when it refuses the whole call
    /// (nothing consumed).</summary>
    internal abstract int XdpXmit(NapiContext cpu, Span<XdpDesc> frames, bool flush, bool ndoXmit, FrameEnd refused);

    /// <summary>ndo_start_xmit of an skb; false when the skb was not taken (the caller frees it).</summary>
    internal abstract bool StartXmit(NapiContext cpu, in XdpDesc skb);

    /// <summary>The counters.</summary>
    public abstract DeviceCounters Snapshot();
}

/// <summary>The loopback device a new network namespace holds (ifindex 1): no XDP transmit.</summary>
public sealed class LoopbackDevice : NetDevice
{
    /// <summary>Creates "lo".</summary>
    public LoopbackDevice()
        : base("lo", 1, 65536)
    {
    }

    /// <inheritdoc/>
    public override string Kind => "loopback";

    /// <inheritdoc/>
    public override int RxQueueCount => 1;

    /// <inheritdoc/>
    public override int TxQueueCount => 1;

    /// <inheritdoc/>
    public override bool HasNdoXdpXmit => false;

    /// <inheritdoc/>
    public override bool AdvertisesNdoXmit => false;

    internal ulong Packets => Sum(StatLPackets);

    internal ulong Bytes => Sum(StatLBytes);

    internal override int XdpXmit(NapiContext cpu, Span<XdpDesc> frames, bool flush, bool ndoXmit, FrameEnd refused) => -Vm.Maps.Errno.EOPNOTSUPP;

    internal override bool StartXmit(NapiContext cpu, in XdpDesc skb)
    {
        // loopback_xmit: the skb comes straight back in (counted, then the stack).
        Count(cpu.Id, StatLPackets, 1);
        Count(cpu.Id, StatLBytes, skb.Length);
        cpu.End(skb, FrameEnd.Stack);
        return true;
    }

    /// <inheritdoc/>
    public override DeviceCounters Snapshot() => new(Name, Kind, [], [], new Counters()
        .Add("rx_packets", Packets).Add("rx_bytes", Bytes).Add("rx_dropped", 0)
        .Add("tx_packets", Packets).Add("tx_bytes", Bytes).Add("tx_dropped", Dropped));
}
