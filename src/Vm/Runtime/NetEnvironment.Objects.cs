using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Runtime;

/// <summary>A network device of a <see cref="NetEnvironment"/> (the kernel's net_device with its in_device and
/// inet6_dev: addresses and the forwarding switches).</summary>
public sealed class NetInterface : INetDevice
{
    private readonly List<NetPrefix> _addresses = [];

    internal NetInterface(int ifindex, string name, MacAddress mac, uint mtu)
    {
        Ifindex = ifindex;
        Name = name;
        Mac = mac;
        Mtu = mtu;
    }

    /// <summary>dev-&gt;ifindex.</summary>
    public int Ifindex { get; }

    /// <summary>The device name ("lo", "veth0").</summary>
    public string Name { get; }

    /// <summary>dev-&gt;dev_addr: the MAC bpf_fib_lookup returns as smac.</summary>
    public MacAddress Mac { get; set; }

    /// <summary>dev-&gt;mtu (65536 for loopback, 1500 by default).</summary>
    public uint Mtu { get; set; }

    /// <summary>dev-&gt;real_num_rx_queues: 1, as loopback and a veth made without numrxqueues have. BPF_PROG_TEST_RUN
    /// refuses an rx_queue_index that is not below it (-EINVAL).</summary>
    public int RxQueues { get; set; } = 1;

    /// <summary>dev-&gt;hard_header_len: 14 (ETH_HLEN) for Ethernet devices and for loopback.</summary>
    public ushort HardHeaderLength { get; set; } = 14;

    /// <summary>net.ipv4.conf.DEV.forwarding (off by default, as in a new network namespace).</summary>
    public bool Ipv4Forwarding { get; set; }

    /// <summary>net.ipv6.conf.DEV.forwarding (off by default).</summary>
    public bool Ipv6Forwarding { get; set; }

    /// <summary>The addresses, in the order they were added ("10.0.0.1/24").</summary>
    public IReadOnlyList<NetPrefix> Addresses => _addresses;

    internal void AddAddress(NetPrefix address) => _addresses.Add(address);

    /// <summary>"3: veth0".</summary>
    public override string ToString() => $"{Ifindex}: {Name}";
}

/// <summary>A route (one fib_alias/fib_info or fib6_info with its one nexthop).</summary>
public sealed record NetRoute
{
    /// <summary>The destination prefix ("default" is length 0).</summary>
    public required NetPrefix Destination { get; init; }

    /// <summary>RTN_UNICAST unless a reject type (blackhole, unreachable, prohibit) or a kernel-made local/broadcast route.</summary>
    public RouteType Type { get; init; } = RouteType.Unicast;

    /// <summary>The gateway ("via"); null for a directly connected route. An IPv4 route may have an IPv6 gateway.</summary>
    public NetAddress? Gateway { get; init; }

    /// <summary>The nexthop device's ifindex (0 for reject routes).</summary>
    public int Ifindex { get; init; }

    /// <summary>The table: RT_TABLE_MAIN (254) unless given; RT_TABLE_LOCAL (255) for local and broadcast routes.</summary>
    public uint Table { get; init; } = NetEnvironment.MainTable;

    /// <summary>The metric (fib_priority / fib6_metric) bpf_fib_lookup reports as rt_metric.</summary>
    public uint Metric { get; init; }

    /// <summary>The preferred source ("src"), or null.</summary>
    public NetAddress? PreferredSource { get; init; }

    /// <summary>True for the routes the kernel makes for an address (proto kernel).</summary>
    public bool IsKernelRoute { get; init; }

    /// <summary>As <c>ip route</c> prints it.</summary>
    public override string ToString()
    {
        string type = Type == RouteType.Unicast ? "" : Type.ToString().ToLowerInvariant() + " ";
        string via = Gateway is { } g ? $" via {g}" : "";
        return $"{type}{Destination}{via} dev #{Ifindex} table {Table} metric {Metric}";
    }
}

/// <summary>A neighbour (ARP or NDP) entry.</summary>
/// <param name="Address">The neighbour's IP address.</param>
/// <param name="Mac">Its link-layer address.</param>
/// <param name="Ifindex">The device it is reached through.</param>
/// <param name="State">Its state; bpf_fib_lookup uses it only when NUD_VALID (permanent, noarp, reachable, probe,
/// stale, delay).</param>
public sealed record NetNeighbour(NetAddress Address, MacAddress Mac, int Ifindex, NeighbourState State = NeighbourState.Permanent)
{
    /// <summary>NUD_VALID: the states bpf_fib_lookup accepts.</summary>
    public const NeighbourState ValidStates = NeighbourState.Permanent | NeighbourState.Noarp | NeighbourState.Reachable
        | NeighbourState.Probe | NeighbourState.Stale | NeighbourState.Delay;

    /// <summary>True when the entry is NUD_VALID.</summary>
    public bool IsValid => (State & ValidStates) != 0;
}

/// <summary>A socket the socket-lookup helpers can find (struct sock as <c>struct bpf_sock</c> shows it), with the
/// listener state the syncookie helpers read.</summary>
public sealed class NetSocket
{
    /// <summary>AF_INET or AF_INET6.</summary>
    public NetFamily Family { get; init; } = NetFamily.Inet;

    /// <summary>SOCK_STREAM (TCP) or SOCK_DGRAM (UDP).</summary>
    public NetSocketType Type { get; init; } = NetSocketType.Stream;

    /// <summary>IPPROTO_TCP (6) for stream sockets, IPPROTO_UDP (17) for datagram sockets.</summary>
    public byte Protocol => Type == NetSocketType.Stream ? (byte)6 : (byte)17;

    /// <summary>sk_state: Listen or Established for TCP (TimeWait and NewSynRecv for the mini sockets), Close or
    /// Established for UDP.</summary>
    public NetSocketState State { get; init; } = NetSocketState.Listen;

    /// <summary>The local address (sk_rcv_saddr); the family's any address for a wildcard bind.</summary>
    public NetAddress LocalAddress { get; init; } = NetAddress.AnyV4;

    /// <summary>The local port (skc_num, host order).</summary>
    public ushort LocalPort { get; init; }

    /// <summary>The remote address (sk_daddr) of a connected socket; any otherwise.</summary>
    public NetAddress RemoteAddress { get; init; } = NetAddress.AnyV4;

    /// <summary>The remote port (host order) of a connected socket; 0 otherwise.</summary>
    public ushort RemotePort { get; init; }

    /// <summary>sk_bound_dev_if (SO_BINDTODEVICE), 0 when not bound.</summary>
    public int BoundIfindex { get; init; }

    /// <summary>sk_mark.</summary>
    public uint Mark { get; init; }

    /// <summary>sk_priority.</summary>
    public uint Priority { get; init; }

    /// <summary>sk_rx_queue_mapping, -1 when unset.</summary>
    public int RxQueueMapping { get; init; } = -1;

    /// <summary>IPV6_V6ONLY: an AF_INET6 socket that does not take IPv4 traffic.</summary>
    public bool Ipv6Only { get; init; }

    /// <summary>For a NewSynRecv request socket: its listener (what sk_to_full_sk gives).</summary>
    public NetSocket? Listener { get; init; }

    /// <summary>The listener's TCP_MAXSEG (tp-&gt;rx_opt.user_mss), 0 when unset.</summary>
    public ushort UserMss { get; set; }

    /// <summary>True when the listener's SYN queue is full (inet_csk_reqsk_queue_is_full): bpf_tcp_gen_syncookie then
    /// makes a cookie with net.ipv4.tcp_syncookies = 1.</summary>
    public bool SynQueueFull { get; set; }

    /// <summary>True when the listener's accept queue is full (sk_acceptq_is_full): no cookie is made.</summary>
    public bool AcceptQueueFull { get; set; }

    /// <summary>The u32 jiffies of the last SYN queue overflow (tp-&gt;rx_opt.ts_recent_stamp, 0 at creation);
    /// bpf_tcp_gen_syncookie sets it, bpf_tcp_check_syncookie accepts cookies only within 2 minutes of it.</summary>
    public uint LastSynOverflow { get; set; }

    /// <summary>True for a full socket (not time-wait, not a request socket): sk_fullsock().</summary>
    public bool IsFullSocket => State is not (NetSocketState.TimeWait or NetSocketState.NewSynRecv);

    /// <summary>"tcp 10.0.0.1:80 listen".</summary>
    public override string ToString()
    {
        string proto = Type == NetSocketType.Stream ? "tcp" : "udp";
        string local = Family == NetFamily.Inet6 ? $"[{LocalAddress}]:{LocalPort}" : $"{LocalAddress}:{LocalPort}";
        string remote = RemotePort == 0 && RemoteAddress.IsAny ? "" : Family == NetFamily.Inet6 ? $" [{RemoteAddress}]:{RemotePort}" : $" {RemoteAddress}:{RemotePort}";
        return $"{proto}{(Family == NetFamily.Inet6 ? "6" : "")} {local}{remote} {State.ToString().ToLowerInvariant()}";
    }
}
