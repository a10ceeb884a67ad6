namespace VethXdp.Vm.Runtime;

public sealed partial class NetEnvironment
{
    /// <summary>True when table <paramref name="table"/> exists for <paramref name="family"/> (fib_get_table): main
    /// and local always, another table once a route of the family was added to it.</summary>
    public bool HasTable(uint table, NetFamily family)
    {
        if (table is MainTable or LocalTable)
        {
            return true;
        }

        foreach (var r in _routes)
        {
            if (r.Table == table && r.Destination.Family == family)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The route the kernel's table lookup selects for <paramref name="destination"/> in
    /// <paramref name="table"/> (the main and local tables are one, as the kernel merges them while there are no policy
    /// rules), or null when no route matches.</summary>
    /// <param name="table">The table id.</param>
    /// <param name="destination">The destination address.</param>
    /// <param name="oif">The output device the flow names (0: any).</param>
    /// <remarks>IPv4 (kernel: fib_table_lookup()): the longest prefix whose route is a reject route or has its
    /// nexthop on <paramref name="oif"/>, lowest metric first, shorter prefixes when none does. IPv6 (fib6_table_lookup,
    /// rt6_select without RT6_LOOKUP_F_IFACE): the longest prefix; among its routes those on <paramref name="oif"/>
    /// first, then the lowest metric.</remarks>
    public NetRoute? LookupRoute(uint table, NetAddress destination, int oif)
    {
        bool merged = table is MainTable or LocalTable;
        bool v4 = destination.Family == NetFamily.Inet;
        NetRoute? best = null;
        int bestRank = 0;
        foreach (var r in _routes)
        {
            if (r.Destination.Family != destination.Family || !r.Destination.Contains(destination))
            {
                continue;
            }

            bool inTable = merged ? r.Table is MainTable or LocalTable : r.Table == table;
            if (!inTable)
            {
                continue;
            }

            bool onOif = oif == 0 || r.Ifindex == oif;
            bool reject = r.Type is RouteType.Blackhole or RouteType.Unreachable or RouteType.Prohibit or RouteType.Throw;
            if (v4 && !onOif && !reject)
            {
                continue;
            }

            // rank: prefix length first, then (IPv6) the oif preference; ties go to the lower metric, then to the
            // route added first.
            int rank = (r.Destination.Length << 1) | (!v4 && onOif ? 1 : 0);
            if (best is null || rank > bestRank || (rank == bestRank && r.Metric < best.Metric))
            {
                best = r;
                bestRank = rank;
            }
        }

        if (merged && !v4 && bestRank < (128 << 1) && SubnetRouterAnycast(destination) is { } anycast)
        {
            return anycast;
        }

        return best;
    }

    // kernel: addrconf_join_anycast(): with forwarding on, every IPv6 prefix shorter than /127 on a device gets its
    // subnet-router anycast address (the prefix with a zero interface id) as an RTN_ANYCAST route in the local table;
    // bpf_ipv6_fib_lookup() answers BPF_FIB_LKUP_RET_NOT_FWDED for it, as for every route that is not unicast.
    // Computed at lookup time, since forwarding may be switched on after the addresses are added.
    private NetRoute? SubnetRouterAnycast(NetAddress destination)
    {
        if (destination.Value == UInt128.Zero)
        {
            return null;
        }

        foreach (var dev in _interfaces)
        {
            if (!dev.Ipv6Forwarding || dev.Ifindex == LoopbackIfindex)
            {
                continue;
            }

            foreach (var a in dev.Addresses)
            {
                if (a.Family == NetFamily.Inet6 && a.Length < 127 && a.Network.Address == destination)
                {
                    return new NetRoute
                    {
                        Destination = new NetPrefix(destination, 128),
                        Type = RouteType.Anycast,
                        Ifindex = dev.Ifindex,
                        Table = LocalTable,
                        IsKernelRoute = true,
                    };
                }
            }
        }

        return null;
    }

    /// <summary>The source address the kernel picks for a route's flow: the route's preferred source, else for IPv4
    /// inet_select_addr() (a primary address of the nexthop device in the gateway's subnet, else its first one of
    /// scope not beyond the route's, else the first such address of any device, loopback first; 0.0.0.0 when there is
    /// none) and for IPv6 ipv6_dev_get_saddr() reduced to the rules that apply here (an address equal to the
    /// destination, then an address whose scope covers the destination's, then one on the device, then the longest
    /// common prefix); null when IPv6 finds none.</summary>
    public NetAddress? SelectSource(NetRoute route, NetAddress destination)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (route.PreferredSource is { } pref)
        {
            return pref;
        }

        var dev = FindInterface(route.Ifindex);
        return destination.Family == NetFamily.Inet ? SelectSourceV4(route, dev) : SelectSourceV6(dev, destination);
    }

    private NetAddress SelectSourceV4(NetRoute route, NetInterface? dev)
    {
        // fib_info scope: RT_SCOPE_UNIVERSE (0) for gateway routes, RT_SCOPE_LINK (253) for connected ones.
        int scope = route.Gateway is null ? 253 : 0;
        NetAddress? gw = route.Gateway is { Family: NetFamily.Inet } g ? g : null;
        if (dev is not null)
        {
            NetAddress? first = null;
            var addresses = dev.Addresses;
            for (int i = 0; i < addresses.Count; i++)
            {
                var a = addresses[i];
                if (!IsPrimaryV4(addresses, i) || AddressScope(a.Address) > scope)
                {
                    continue;
                }

                if (gw is null || a.Contains(gw.Value))
                {
                    return a.Address;
                }

                first ??= a.Address;
            }

            if (first is { } f)
            {
                return f;
            }
        }

        foreach (var d in _interfaces)
        {
            var addresses = d.Addresses;
            for (int i = 0; i < addresses.Count; i++)
            {
                if (IsPrimaryV4(addresses, i) && AddressScope(addresses[i].Address) <= scope)
                {
                    return addresses[i].Address;
                }
            }
        }

        return NetAddress.AnyV4;
    }

    // An IPv4 address that is not secondary: no earlier address of the device has the same subnet.
    private static bool IsPrimaryV4(IReadOnlyList<NetPrefix> addresses, int index)
    {
        var a = addresses[index];
        if (a.Family != NetFamily.Inet)
        {
            return false;
        }

        for (int i = 0; i < index; i++)
        {
            var s = addresses[i];
            if (s.Family == NetFamily.Inet && s.Length == a.Length && s.Contains(a.Address))
            {
                return false;
            }
        }

        return true;
    }

    // ifa_scope: 127/8 is RT_SCOPE_HOST (254), every other address RT_SCOPE_UNIVERSE (0).
    private static int AddressScope(NetAddress a) => (a.Value >> 24) == 127 ? 254 : 0;

    private NetAddress? SelectSourceV6(NetInterface? dev, NetAddress destination)
    {
        int destScope = V6Scope(destination);
        NetAddress? best = null;
        int bestScore = -1;
        foreach (var d in _interfaces)
        {
            foreach (var a in d.Addresses)
            {
                if (a.Family != NetFamily.Inet6)
                {
                    continue;
                }

                int scope = V6Scope(a.Address);
                if (scope == 1 && destScope != 1)
                {
                    continue; // ::1 is used only for ::1
                }

                // kernel: ipv6_get_saddr_eval() rules in order: same address, appropriate scope, outgoing interface,
                // longest matching prefix.
                int score = (a.Address == destination ? 1 << 10 : 0)
                    | (scope >= destScope ? 1 << 9 : 0)
                    | (dev is not null && d.Ifindex == dev.Ifindex ? 1 << 8 : 0)
                    | a.Address.CommonPrefixLength(destination);
                if (score > bestScore)
                {
                    best = a.Address;
                    bestScore = score;
                }
            }
        }

        return best;
    }

    // IPv6 address scopes as ipv6_addr_scope numbers them: interface-local (::1) 1, link-local 2, global 14.
    private static int V6Scope(NetAddress a)
    {
        if (a.Value == UInt128.One)
        {
            return 1;
        }

        if ((a.Value >> 118) == 0x3fa)
        {
            return 2; // fe80::/10
        }

        if ((a.Value >> 120) == 0xff)
        {
            return (int)((a.Value >> 112) & 0xf); // multicast: the scope nibble
        }

        return 14;
    }
}
