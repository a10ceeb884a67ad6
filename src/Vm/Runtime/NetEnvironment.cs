using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Runtime;

/// <summary>The network namespace the networking helpers see: devices (ifindex, MAC, MTU, forwarding), their
/// addresses, routes, neighbours and sockets, and the sysctls the helpers read.</summary>
/// <remarks>
/// <para>A new environment is what a new network namespace holds: only the loopback device (ifindex 1, "lo", MTU
/// 65536, MAC 00:00:00:00:00:00, 127.0.0.1/8 and ::1/128), forwarding off, net.ipv4.tcp_syncookies = 1, no routes
/// but those the addresses make, no neighbours, no sockets. BPF_PROG_TEST_RUN runs XDP programs on the loopback
/// device of the caller's namespace, so that is also where bpf_fib_lookup, bpf_check_mtu and the socket lookups
/// look by default.</para>
/// <para>Adding an address adds the routes the kernel adds for it (proto kernel): the local route of the address and,
/// for IPv4, the broadcast route of the subnet, in the local table; the connected route of the subnet in the main
/// table (IPv6: metric 256). Routes added with <see cref="AddRoute(NetRoute)"/> go where they say (main by default;
/// IPv6 routes get metric 1024 by default, as <c>ip -6 route add</c> gives them). Without policy rules the kernel
/// merges the local table into the main table, and so does the lookup here.</para>
/// <para>Build the environment before running; the helpers read it and change only the syncookie state of sockets.</para>
/// </remarks>
public sealed partial class NetEnvironment : INetDeviceResolver
{
    /// <summary>RT_TABLE_MAIN.</summary>
    public const uint MainTable = 254;

    /// <summary>RT_TABLE_LOCAL.</summary>
    public const uint LocalTable = 255;

    /// <summary>RT_TABLE_DEFAULT.</summary>
    public const uint DefaultTable = 253;

    /// <summary>The loopback device's ifindex.</summary>
    public const int LoopbackIfindex = 1;

    /// <summary>The loopback device's MTU (64 KiB).</summary>
    public const uint LoopbackMtu = 65536;

    /// <summary>IP6_RT_PRIO_USER: the metric of IPv6 routes added without one.</summary>
    public const uint Ipv6UserMetric = 1024;

    /// <summary>IP6_RT_PRIO_ADDRCONF: the metric of the connected IPv6 routes addresses make.</summary>
    public const uint Ipv6AddrconfMetric = 256;

    private readonly List<NetInterface> _interfaces = [];
    private readonly List<NetRoute> _routes = [];
    private readonly List<NetNeighbour> _neighbours = [];
    private int _nextIfindex = LoopbackIfindex + 1;
    private bool _ipv4Forwarding;
    private bool _ipv6Forwarding;

    /// <summary>Creates the environment of a new network namespace: loopback only, forwarding off.</summary>
    public NetEnvironment()
    {
        var lo = new NetInterface(LoopbackIfindex, "lo", default, LoopbackMtu);
        _interfaces.Add(lo);
        Loopback = lo;
        AddAddress(lo, NetPrefix.Parse("127.0.0.1/8"));
        AddAddress(lo, NetPrefix.Parse("::1/128"));
    }

    /// <summary>The loopback device.</summary>
    public NetInterface Loopback { get; }

    /// <summary>The devices, loopback first.</summary>
    public IReadOnlyList<NetInterface> Interfaces => _interfaces;

    /// <summary>Every route, the kernel-made ones included.</summary>
    public IReadOnlyList<NetRoute> Routes => _routes;

    /// <summary>The neighbour entries.</summary>
    public IReadOnlyList<NetNeighbour> Neighbours => _neighbours;

    /// <summary>net.ipv4.conf.all.forwarding: setting it sets every device's, and the default later devices get
    /// (as the kernel sets devconf_dflt with it). Off.</summary>
    public bool Ipv4Forwarding
    {
        get => _ipv4Forwarding;
        set
        {
            _ipv4Forwarding = value;
            foreach (var d in _interfaces)
            {
                d.Ipv4Forwarding = value;
            }
        }
    }

    /// <summary>net.ipv6.conf.all.forwarding, likewise. Off.</summary>
    public bool Ipv6Forwarding
    {
        get => _ipv6Forwarding;
        set
        {
            _ipv6Forwarding = value;
            foreach (var d in _interfaces)
            {
                d.Ipv6Forwarding = value;
            }
        }
    }

    /// <summary>net.ipv4.tcp_syncookies (0 off, 1 when the SYN queue overflows, 2 always). 1.</summary>
    public int TcpSyncookies { get; set; } = 1;

    /// <summary>The seed of the syncookie secrets (the kernel draws them at random once per boot); the runner sets it to
    /// the run's seed, so cookies are the same from run to run.</summary>
    public ulong SyncookieSeed { get; set; }

    /// <summary>Adds a device. <paramref name="ifindex"/> 0 takes the next free index (2, 3, ...).</summary>
    /// <exception cref="ArgumentException">The name or index is taken.</exception>
    public NetInterface AddInterface(string name, MacAddress mac = default, uint mtu = 1500, int ifindex = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegative(ifindex);
        if (FindInterface(name) is not null)
        {
            throw new ArgumentException($"a device named \"{name}\" exists", nameof(name));
        }

        if (ifindex == 0)
        {
            while (FindInterface(_nextIfindex) is not null)
            {
                _nextIfindex++;
            }

            ifindex = _nextIfindex++;
        }
        else if (FindInterface(ifindex) is not null)
        {
            throw new ArgumentException($"ifindex {ifindex} is taken", nameof(ifindex));
        }

        var dev = new NetInterface(ifindex, name, mac, mtu) { Ipv4Forwarding = _ipv4Forwarding, Ipv6Forwarding = _ipv6Forwarding };
        _interfaces.Add(dev);
        return dev;
    }

    /// <summary>The device with <paramref name="ifindex"/> (dev_get_by_index), or null.</summary>
    public NetInterface? FindInterface(int ifindex)
    {
        foreach (var d in _interfaces)
        {
            if (d.Ifindex == ifindex)
            {
                return d;
            }
        }

        return null;
    }

    /// <summary>The device named <paramref name="name"/>, or null.</summary>
    public NetInterface? FindInterface(string name)
    {
        foreach (var d in _interfaces)
        {
            if (d.Name == name)
            {
                return d;
            }
        }

        return null;
    }

    /// <inheritdoc/>
    INetDevice? INetDeviceResolver.Find(int ifindex) => FindInterface(ifindex);

    /// <summary>Sets <see cref="Ipv4Forwarding"/> and <see cref="Ipv6Forwarding"/> (sysctl net.ipv4.conf.all.forwarding
    /// and net.ipv6.conf.all.forwarding): every device's, now and later.</summary>
    public NetEnvironment SetForwarding(bool enabled)
    {
        Ipv4Forwarding = enabled;
        Ipv6Forwarding = enabled;
        return this;
    }

    /// <summary>Adds an address to a device, and the routes the kernel adds with it: <c>ip addr add CIDR dev DEVICE</c>.</summary>
    /// <exception cref="ArgumentException">No such device.</exception>
    public NetEnvironment AddAddress(string device, string cidr)
    {
        AddAddress(Device(device), NetPrefix.Parse(cidr));
        return this;
    }

    /// <summary>Adds a route: <c>ip route add DESTINATION [via GATEWAY] dev DEVICE [metric M] [table T]</c>.
    /// DESTINATION is a prefix, or "default" (IPv6 when the gateway is; "::/0" is the IPv6 default without one). The
    /// metric defaults to 0 for IPv4 and 1024 for IPv6, as <c>ip</c> gives them.</summary>
    /// <exception cref="ArgumentException">No such device.</exception>
    public NetEnvironment AddRoute(string destination, string device, string? via = null, uint? metric = null, uint table = MainTable)
    {
        ArgumentNullException.ThrowIfNull(destination);
        NetAddress? gw = via is null ? null : NetAddress.Parse(via);
        var dest = NetPrefix.Parse(destination, gw is { Family: NetFamily.Inet6 } && destination == "default" ? NetFamily.Inet6 : NetFamily.Inet);
        return AddRoute(new NetRoute
        {
            Destination = dest,
            Gateway = gw,
            Ifindex = Device(device).Ifindex,
            Table = table,
            Metric = metric ?? (dest.Family == NetFamily.Inet6 ? Ipv6UserMetric : 0),
        });
    }

    /// <summary>Adds a reject route: <c>ip route add blackhole|unreachable|prohibit DESTINATION</c>.</summary>
    public NetEnvironment AddRejectRoute(RouteType type, string destination, uint? metric = null, uint table = MainTable)
    {
        if (type is not (RouteType.Blackhole or RouteType.Unreachable or RouteType.Prohibit or RouteType.Throw))
        {
            throw new ArgumentOutOfRangeException(nameof(type), $"{type} is not a reject route type");
        }

        var dest = NetPrefix.Parse(destination);
        return AddRoute(new NetRoute
        {
            Destination = dest,
            Type = type,
            Table = table,
            Metric = metric ?? (dest.Family == NetFamily.Inet6 ? Ipv6UserMetric : 0),
        });
    }

    /// <summary>Adds a route as given.</summary>
    /// <exception cref="ArgumentException">A unicast route without a device this environment has.</exception>
    public NetEnvironment AddRoute(NetRoute route)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (route.Type is RouteType.Unicast or RouteType.Local or RouteType.Broadcast && FindInterface(route.Ifindex) is null)
        {
            throw new ArgumentException($"route {route}: no device with ifindex {route.Ifindex}", nameof(route));
        }

        // The kernel stores a destination without host bits.
        _routes.Add(route with { Destination = route.Destination.Network });
        return this;
    }

    /// <summary>Adds a neighbour: <c>ip neigh replace ADDRESS lladdr MAC dev DEVICE nud STATE</c>.</summary>
    public NetEnvironment AddNeighbour(string address, string mac, string device, NeighbourState state = NeighbourState.Permanent)
    {
        var a = NetAddress.Parse(address);
        int ifindex = Device(device).Ifindex;
        _neighbours.RemoveAll(n => n.Ifindex == ifindex && n.Address == a);
        _neighbours.Add(new NetNeighbour(a, MacAddress.Parse(mac), ifindex, state));
        return this;
    }

    /// <summary>The neighbour entry for <paramref name="address"/> on <paramref name="ifindex"/> (in any state), or null.</summary>
    public NetNeighbour? FindNeighbour(int ifindex, NetAddress address)
    {
        foreach (var n in _neighbours)
        {
            if (n.Ifindex == ifindex && n.Address == address)
            {
                return n;
            }
        }

        return null;
    }

    private NetInterface Device(string name) =>
        FindInterface(name) ?? throw new ArgumentException($"no device named \"{name}\"", nameof(name));

    private void AddAddress(NetInterface dev, NetPrefix address)
    {
        dev.AddAddress(address);
        var host = new NetPrefix(address.Address, address.Address.Bits);
        if (address.Family == NetFamily.Inet)
        {
            // kernel: fib_add_ifaddr(): local route, broadcast of the subnet, connected route.
            _routes.Add(new NetRoute { Destination = host, Type = RouteType.Local, Ifindex = dev.Ifindex, Table = LocalTable, PreferredSource = address.Address, IsKernelRoute = true });
            if (address.Length < 31)
            {
                var net = address.Network;
                UInt128 hostMask = (UInt128.One << (32 - address.Length)) - 1;
                var broadcast = new NetAddress(NetFamily.Inet, net.Address.Value | hostMask);
                _routes.Add(new NetRoute { Destination = new NetPrefix(broadcast, 32), Type = RouteType.Broadcast, Ifindex = dev.Ifindex, Table = LocalTable, PreferredSource = address.Address, IsKernelRoute = true });
            }

            if (address.Length < 32 && dev.Ifindex != LoopbackIfindex)
            {
                _routes.Add(new NetRoute { Destination = address.Network, Ifindex = dev.Ifindex, PreferredSource = address.Address, IsKernelRoute = true });
            }
            else if (dev.Ifindex == LoopbackIfindex)
            {
                // 127.0.0.0/8 is a local route as a whole on lo.
                _routes.Add(new NetRoute { Destination = address.Network, Type = RouteType.Local, Ifindex = dev.Ifindex, Table = LocalTable, PreferredSource = address.Address, IsKernelRoute = true });
            }
        }
        else
        {
            // kernel: addrconf_prefix_route() and the local route of the address.
            _routes.Add(new NetRoute { Destination = host, Type = RouteType.Local, Ifindex = dev.Ifindex, Table = LocalTable, IsKernelRoute = true });
            if (address.Length < 128)
            {
                _routes.Add(new NetRoute { Destination = address.Network, Ifindex = dev.Ifindex, Metric = Ipv6AddrconfMetric, IsKernelRoute = true });
            }
        }
    }
}
