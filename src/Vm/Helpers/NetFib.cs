using System.Buffers.Binary;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Helpers;

/// <summary>bpf_fib_lookup for XDP (net/core/filter.c: bpf_xdp_fib_lookup, bpf_ipv4_fib_lookup, bpf_ipv6_fib_lookup)
/// over a <see cref="NetEnvironment"/>, reading and writing <c>struct bpf_fib_lookup</c> as the kernel does.</summary>
/// <remarks>
/// <code>
///  0 family  1 l4_protocol  2 sport  4 dport  6 tot_len | mtu_result     8 ifindex
/// 12 tos | flowinfo | rt_metric   16 ipv4_src | ipv6_src[4]   32 ipv4_dst | ipv6_dst[4]
/// 48 h_vlan_proto, h_vlan_TCI | tbid   52 mark | smac[6]   58 dmac[6]          (64 bytes)
/// </code>
/// Policy rules are not modelled: the lookup is the kernel's without custom rules (BPF_FIB_LOOKUP_MARK then changes
/// nothing), through the merged local and main tables, then the default table when it exists.
/// </remarks>
public static class NetFib
{
    /// <summary>sizeof(struct bpf_fib_lookup).</summary>
    public const int ParamsSize = 64;

    /// <summary>BPF_FIB_LOOKUP_DIRECT: look in the main table (or the tbid one) only, without rules.</summary>
    public const uint LookupDirect = 1;

    /// <summary>BPF_FIB_LOOKUP_OUTPUT: the ifindex is the egress device, not the ingress one.</summary>
    public const uint LookupOutput = 2;

    /// <summary>BPF_FIB_LOOKUP_SKIP_NEIGH: do not resolve the neighbour (no MACs are written).</summary>
    public const uint LookupSkipNeigh = 4;

    /// <summary>BPF_FIB_LOOKUP_TBID: with DIRECT, the table is params-&gt;tbid.</summary>
    public const uint LookupTbid = 8;

    /// <summary>BPF_FIB_LOOKUP_SRC: write the source address the route would use.</summary>
    public const uint LookupSrc = 16;

    /// <summary>BPF_FIB_LOOKUP_MARK: use params-&gt;mark for policy rules.</summary>
    public const uint LookupMark = 32;

    /// <summary>The flags bpf_fib_lookup accepts (BPF_FIB_LOOKUP_MASK).</summary>
    public const uint LookupMask = LookupDirect | LookupOutput | LookupSkipNeigh | LookupTbid | LookupSrc | LookupMark;

#pragma warning disable CS1591 // enum bpf_fib_lookup_ret: the kernel's names are the documentation
    public const int RetSuccess = 0, RetBlackhole = 1, RetUnreachable = 2, RetProhibit = 3, RetNotForwarded = 4;
    public const int RetForwardingDisabled = 5, RetUnsupportedLwt = 6, RetNoNeighbour = 7, RetFragNeeded = 8, RetNoSourceAddress = 9;
#pragma warning restore CS1591

    private const int AfInet = 2;
    private const int AfInet6 = 10;

    // IP_MAX_MTU and IP6_MAX_MTU (65535 + the IPv6 header), IPV6_MIN_MTU.
    private const uint IpMaxMtu = 0xffff;
    private const uint Ip6MaxMtu = 0xffff + 40;
    private const uint Ipv6MinMtu = 1280;

    /// <summary>Runs the lookup on <paramref name="p"/> (the 64-byte struct) with <paramref name="flags"/>: a
    /// BPF_FIB_LKUP_RET_* code, or -EINVAL (unknown flags), -ENODEV (no device with params-&gt;ifindex),
    /// -EAFNOSUPPORT (a family other than AF_INET and AF_INET6).</summary>
    public static long Lookup(NetEnvironment net, Span<byte> p, uint flags)
    {
        ArgumentNullException.ThrowIfNull(net);
        if (p.Length < ParamsSize)
        {
            return -Errno.EINVAL;
        }

        if ((flags & ~LookupMask) != 0)
        {
            return -Errno.EINVAL;
        }

        return p[0] switch
        {
            AfInet => LookupV4(net, p, flags),
            AfInet6 => LookupV6(net, p, flags),
            _ => -Errno.EAFNOSUPPORT,
        };
    }

    private static long LookupV4(NetEnvironment net, Span<byte> p, uint flags)
    {
        var dev = net.FindInterface((int)BinaryPrimitives.ReadUInt32LittleEndian(p[8..]));
        if (dev is null)
        {
            return -Errno.ENODEV;
        }

        // verify forwarding is enabled on this interface
        if (!dev.Ipv4Forwarding)
        {
            return RetForwardingDisabled;
        }

        int oif = (flags & LookupOutput) != 0 ? dev.Ifindex : 0;
        var dst = NetAddress.FromBytes(NetFamily.Inet, p[32..]);
        NetRoute? route;
        if ((flags & LookupDirect) != 0)
        {
            uint tbid = NetEnvironment.MainTable;
            if ((flags & LookupTbid) != 0)
            {
                tbid = BinaryPrimitives.ReadUInt32LittleEndian(p[48..]);
                BinaryPrimitives.WriteUInt32LittleEndian(p[48..], 0); // zero out for vlan output
            }

            if (!net.HasTable(tbid, NetFamily.Inet))
            {
                return RetNotForwarded;
            }

            route = net.LookupRoute(tbid, dst, oif);
        }
        else
        {
            // fib_lookup() without custom rules: the main table (the local one merged in), then the default table when
            // it exists, whenever main gave no usable answer (no route, or a reject route).
            route = net.LookupRoute(NetEnvironment.MainTable, dst, oif);
            if ((route is null || route.Type != RouteType.Unicast && route.Type is not (RouteType.Local or RouteType.Broadcast))
                && net.HasTable(NetEnvironment.DefaultTable, NetFamily.Inet))
            {
                route = net.LookupRoute(NetEnvironment.DefaultTable, dst, oif);
            }
        }

        if (route is null)
        {
            return RetNotForwarded;
        }

        switch (route.Type)
        {
            // map fib lookup errors to RTN_ type: -EINVAL, -EHOSTUNREACH, -EACCES
            case RouteType.Blackhole:
                return RetBlackhole;
            case RouteType.Unreachable:
                return RetUnreachable;
            case RouteType.Prohibit:
                return RetProhibit;
            case RouteType.Unicast:
                break;
            default:
                return RetNotForwarded;
        }

        var nhdev = net.FindInterface(route.Ifindex)!;

        // check_mtu is always true for XDP: ip_mtu_from_fib_result() is the device MTU (at most IP_MAX_MTU).
        uint mtu = Math.Min(nhdev.Mtu, IpMaxMtu);
        if (BinaryPrimitives.ReadUInt16LittleEndian(p[6..]) > mtu)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(p[6..], (ushort)mtu); // mtu_result, union with tot_len
            return RetFragNeeded;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(p[12..], route.Metric);
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], (uint)nhdev.Ifindex);
        if ((flags & LookupSrc) != 0)
        {
            (net.SelectSource(route, dst) ?? NetAddress.AnyV4).WriteTo(p[16..]);
        }

        NetAddress next = dst;
        if (route.Gateway is { } gw)
        {
            next = gw;
            if (gw.Family == NetFamily.Inet)
            {
                gw.WriteTo(p[32..]);
            }
            else
            {
                p[0] = AfInet6;
                gw.WriteTo(p[32..]);
            }
        }

        if ((flags & LookupSkipNeigh) == 0)
        {
            long ret = ResolveNeighbour(net, p, nhdev, next);
            if (ret != RetSuccess)
            {
                return ret;
            }
        }

        return SetForwardParams(p, mtu);
    }

    private static long LookupV6(NetEnvironment net, Span<byte> p, uint flags)
    {
        var src = NetAddress.FromBytes(NetFamily.Inet6, p[16..]);
        var dst = NetAddress.FromBytes(NetFamily.Inet6, p[32..]);

        // link local addresses are never forwarded
        if (NeedsStrict(dst) || NeedsStrict(src))
        {
            return RetNotForwarded;
        }

        var dev = net.FindInterface((int)BinaryPrimitives.ReadUInt32LittleEndian(p[8..]));
        if (dev is null)
        {
            return -Errno.ENODEV;
        }

        if (!dev.Ipv6Forwarding)
        {
            return RetForwardingDisabled;
        }

        // The flow names the device as oif (output) or iif (input); fib6 lookups take it as oif either way, as a
        // preference (no RT6_LOOKUP_F_IFACE).
        int oif = dev.Ifindex;
        NetRoute? route;
        if ((flags & LookupDirect) != 0)
        {
            uint tbid = NetEnvironment.MainTable;
            if ((flags & LookupTbid) != 0)
            {
                tbid = BinaryPrimitives.ReadUInt32LittleEndian(p[48..]);
                BinaryPrimitives.WriteUInt32LittleEndian(p[48..], 0);
            }

            if (!net.HasTable(tbid, NetFamily.Inet6))
            {
                return RetNotForwarded;
            }

            route = net.LookupRoute(tbid, dst, oif);
        }
        else
        {
            route = net.LookupRoute(NetEnvironment.MainTable, dst, oif);
        }

        if (route is null)
        {
            return RetNotForwarded; // fib6_null_entry
        }

        switch (route.Type)
        {
            // only unicast is forwarded
            case RouteType.Unicast:
                break;
            case RouteType.Blackhole:
                return RetBlackhole;
            case RouteType.Unreachable:
                return RetUnreachable;
            case RouteType.Prohibit:
                return RetProhibit;
            default:
                return RetNotForwarded;
        }

        var nhdev = net.FindInterface(route.Ifindex)!;

        // ip6_mtu_from_fib6(): the device's mtu6, at least IPV6_MIN_MTU, at most IP6_MAX_MTU.
        uint mtu = Math.Min(Math.Max(Ipv6MinMtu, nhdev.Mtu), Ip6MaxMtu);
        if (BinaryPrimitives.ReadUInt16LittleEndian(p[6..]) > mtu)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(p[6..], (ushort)mtu);
            return RetFragNeeded;
        }

        NetAddress next = dst;
        if (route.Gateway is { Family: NetFamily.Inet6 } gw)
        {
            next = gw;
            gw.WriteTo(p[32..]);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(p[12..], route.Metric);
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], (uint)nhdev.Ifindex);
        if ((flags & LookupSrc) != 0)
        {
            // The flow's destination (before the gateway replaced params->ipv6_dst) chooses the source.
            if (net.SelectSource(route, dst) is not { } source)
            {
                return RetNoSourceAddress;
            }

            source.WriteTo(p[16..]);
        }

        if ((flags & LookupSkipNeigh) == 0)
        {
            long ret = ResolveNeighbour(net, p, nhdev, next);
            if (ret != RetSuccess)
            {
                return ret;
            }
        }

        return SetForwardParams(p, mtu);
    }

    // __ipv4_neigh_lookup_noref / __ipv6_neigh_lookup_noref_stub and the NUD_VALID test; dmac and smac on success.
    private static long ResolveNeighbour(NetEnvironment net, Span<byte> p, NetInterface dev, NetAddress next)
    {
        var neigh = net.FindNeighbour(dev.Ifindex, next);
        if (neigh is null || !neigh.IsValid)
        {
            return RetNoNeighbour;
        }

        neigh.Mac.WriteTo(p[58..]);
        dev.Mac.WriteTo(p[52..]);
        return RetSuccess;
    }

    // bpf_fib_set_fwd_params(): no VLAN, and the MTU in mtu_result (truncated to the u16 field).
    private static long SetForwardParams(Span<byte> p, uint mtu)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(p[48..], 0);
        if (mtu != 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(p[6..], (ushort)mtu);
        }

        return RetSuccess;
    }

    // rt6_need_strict(): multicast, link-local and loopback addresses.
    private static bool NeedsStrict(NetAddress a) =>
        a.Value == UInt128.One || (a.Value >> 118) == 0x3fa || (a.Value >> 120) == 0xff;
}
