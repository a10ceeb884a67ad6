using System.Buffers.Binary;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.NetHelpers;

/// <summary>bpf_fib_lookup against the running 6.18 kernel. <see cref="Namespace"/> is the network namespace the kernel
/// check built (ip link/addr/route/neigh, forwarding on); every row is one call there through BPF_PROG_TEST_RUN: its
/// flags and params in, the return code and the whole struct bpf_fib_lookup out.</summary>
public class FibLookupTests
{
    /// <summary>lo; veth1 (2); veth0 (3, 02:00:00:00:00:01, MTU 1400) with 10.0.0.1/24 and fd00::1/64; routes through
    /// 10.0.0.2 (neighbour ..:aa), 10.0.0.3 (no neighbour), reject routes, table 100, metric 50, an IPv6 gateway for an
    /// IPv4 route, a default route; IPv6 through fd00::2 (..:bb).</summary>
    internal static NetEnvironment Namespace()
    {
        var net = new NetEnvironment();
        net.AddInterface("veth1", MacAddress.Parse("02:00:00:00:00:02"));
        net.AddInterface("veth0", MacAddress.Parse("02:00:00:00:00:01"), mtu: 1400);
        net.SetForwarding(true);
        net.AddAddress("veth0", "10.0.0.1/24").AddAddress("veth0", "fd00::1/64");
        net.AddRoute("10.1.0.0/16", "veth0", via: "10.0.0.2")
           .AddRoute("10.2.0.0/16", "veth0", via: "10.0.0.3")
           .AddRejectRoute(RouteType.Blackhole, "10.3.0.0/16")
           .AddRejectRoute(RouteType.Unreachable, "10.4.0.0/16")
           .AddRejectRoute(RouteType.Prohibit, "10.5.0.0/16")
           .AddRoute("10.6.0.0/16", "veth0", via: "10.0.0.2", table: 100)
           .AddRoute("10.7.0.0/16", "veth0", via: "10.0.0.2", metric: 50)
           .AddRoute("10.8.0.0/16", "veth0", via: "fd00::2")
           .AddRoute("default", "veth0", via: "10.0.0.2")
           .AddRoute("fd01::/64", "veth0", via: "fd00::2")
           .AddRejectRoute(RouteType.Blackhole, "fd02::/64")
           .AddRejectRoute(RouteType.Unreachable, "fd03::/64")
           .AddRejectRoute(RouteType.Prohibit, "fd04::/64")
           .AddRoute("fd05::/64", "veth0", via: "fd00::2", metric: 77)
           .AddRoute("fd06::/64", "veth1");
        net.AddNeighbour("10.0.0.2", "02:00:00:00:00:aa", "veth0")
           .AddNeighbour("fd00::2", "02:00:00:00:00:bb", "veth0")
           .AddNeighbour("10.0.0.4", "02:00:00:00:00:cc", "veth0", NeighbourState.Stale)
           .AddNeighbour("10.0.0.5", "00:00:00:00:00:00", "veth0", NeighbourState.Incomplete);
        return net;
    }

    internal static byte[] Params(int family, int ifindex, string dst, string src, int totLen = 0, uint tbid = 0, uint mark = 0)
    {
        var p = new byte[NetFib.ParamsSize];
        p[0] = (byte)family;
        p[1] = 6;
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(6), (ushort)totLen);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(8), (uint)ifindex);
        if (family == 10)
        {
            NetAddress.Parse(src).WriteTo(p.AsSpan(16));
            NetAddress.Parse(dst).WriteTo(p.AsSpan(32));
        }
        else if (family == 2)
        {
            NetAddress.Parse(src).WriteTo(p.AsSpan(16));
            NetAddress.Parse(dst).WriteTo(p.AsSpan(32));
        }

        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(48), tbid);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(52), mark);
        return p;
    }

    // "family ifindex metric mtu src dst vlan smac dmac", as the kernel check printed the struct after the call.
    internal static string Describe(byte[] p)
    {
        var fam = p[0] == 10 ? NetFamily.Inet6 : NetFamily.Inet;
        var src = NetAddress.FromBytes(fam, p.AsSpan(16));
        var dst = NetAddress.FromBytes(fam, p.AsSpan(32));
        return $"{p[0]} {BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(8))} {BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(12))} "
            + $"{BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(6))} {src} {dst} {Convert.ToHexStringLower(p, 48, 4)} "
            + $"{Convert.ToHexStringLower(p, 52, 6)} {Convert.ToHexStringLower(p, 58, 6)}";
    }

    [Theory]
    [InlineData("gw", 0, 2, 3, "10.1.2.3", "0.0.0.0", 0, 0, 0x0, 0, "2 3 0 1400 0.0.0.0 10.0.0.2 00000000 020000000001 0200000000aa")]
    [InlineData("connected", 0, 2, 3, "10.0.0.2", "0.0.0.0", 0, 0, 0x0, 0, "2 3 0 1400 0.0.0.0 10.0.0.2 00000000 020000000001 0200000000aa")]
    [InlineData("noneigh-conn", 0, 2, 3, "10.0.0.9", "0.0.0.0", 0, 0, 0x0, 7, "2 3 0 0 0.0.0.0 10.0.0.9 00000000 000000000000 000000000000")]
    [InlineData("noneigh-gw", 0, 2, 3, "10.2.0.1", "0.0.0.0", 0, 0, 0x0, 7, "2 3 0 0 0.0.0.0 10.0.0.3 00000000 000000000000 000000000000")]
    [InlineData("blackhole", 0, 2, 3, "10.3.0.1", "0.0.0.0", 0, 0, 0x0, 1, "2 3 0 0 0.0.0.0 10.3.0.1 00000000 000000000000 000000000000")]
    [InlineData("unreach", 0, 2, 3, "10.4.0.1", "0.0.0.0", 0, 0, 0x0, 2, "2 3 0 0 0.0.0.0 10.4.0.1 00000000 000000000000 000000000000")]
    [InlineData("prohibit", 0, 2, 3, "10.5.0.1", "0.0.0.0", 0, 0, 0x0, 3, "2 3 0 0 0.0.0.0 10.5.0.1 00000000 000000000000 000000000000")]
    [InlineData("mtu1401", 0, 2, 3, "10.1.2.3", "0.0.0.0", 1401, 0, 0x0, 8, "2 3 0 1400 0.0.0.0 10.1.2.3 00000000 000000000000 000000000000")]
    [InlineData("mtu1400", 0, 2, 3, "10.1.2.3", "0.0.0.0", 1400, 0, 0x0, 0, "2 3 0 1400 0.0.0.0 10.0.0.2 00000000 020000000001 0200000000aa")]
    [InlineData("skipneigh", 4, 2, 3, "10.2.0.1", "0.0.0.0", 0, 0, 0x11223344, 0, "2 3 0 1400 0.0.0.0 10.0.0.3 00000000 443322110000 000000000000")]
    [InlineData("skipneigh-mark", 4, 2, 3, "10.1.2.3", "0.0.0.0", 0, 0, 0x11223344, 0, "2 3 0 1400 0.0.0.0 10.0.0.2 00000000 443322110000 000000000000")]
    [InlineData("src", 16, 2, 3, "10.1.2.3", "9.9.9.9", 0, 0, 0x0, 0, "2 3 0 1400 10.0.0.1 10.0.0.2 00000000 020000000001 0200000000aa")]
    [InlineData("src-conn", 16, 2, 3, "10.0.0.9", "9.9.9.9", 0, 0, 0x0, 7, "2 3 0 0 10.0.0.1 10.0.0.9 00000000 000000000000 000000000000")]
    [InlineData("tbl100-nodirect", 0, 2, 3, "10.6.0.1", "0.0.0.0", 0, 0, 0x0, 0, "2 3 0 1400 0.0.0.0 10.0.0.2 00000000 020000000001 0200000000aa")]
    [InlineData("tbl100-direct", 1, 2, 3, "10.6.0.1", "0.0.0.0", 0, 0, 0x0, 0, "2 3 0 1400 0.0.0.0 10.0.0.2 00000000 020000000001 0200000000aa")]
    [InlineData("tbid100", 9, 2, 3, "10.6.0.1", "0.0.0.0", 0, 100, 0x0, 0, "2 3 0 1400 0.0.0.0 10.0.0.2 00000000 020000000001 0200000000aa")]
    [InlineData("tbid101", 9, 2, 3, "10.6.0.1", "0.0.0.0", 0, 101, 0x0, 4, "2 3 0 0 0.0.0.0 10.6.0.1 00000000 000000000000 000000000000")]
    [InlineData("tbid-nodirect", 8, 2, 3, "10.6.0.1", "0.0.0.0", 0, 100, 0x0, 0, "2 3 0 1400 0.0.0.0 10.0.0.2 00000000 020000000001 0200000000aa")]
    [InlineData("local", 0, 2, 3, "10.0.0.1", "0.0.0.0", 0, 0, 0x0, 4, "2 3 0 0 0.0.0.0 10.0.0.1 00000000 000000000000 000000000000")]
    [InlineData("bcast", 0, 2, 3, "10.0.0.255", "0.0.0.0", 0, 0, 0x0, 4, "2 3 0 0 0.0.0.0 10.0.0.255 00000000 000000000000 000000000000")]
    [InlineData("out-v0", 2, 2, 3, "10.1.2.3", "0.0.0.0", 0, 0, 0x0, 0, "2 3 0 1400 0.0.0.0 10.0.0.2 00000000 020000000001 0200000000aa")]
    [InlineData("out-lo", 2, 2, 1, "10.1.2.3", "0.0.0.0", 0, 0, 0x0, 4, "2 1 0 0 0.0.0.0 10.1.2.3 00000000 000000000000 000000000000")]
    [InlineData("in-v1", 0, 2, 2, "10.1.2.3", "0.0.0.0", 0, 0, 0x0, 0, "2 3 0 1400 0.0.0.0 10.0.0.2 00000000 020000000001 0200000000aa")]
    [InlineData("metric50", 0, 2, 3, "10.7.0.1", "0.0.0.0", 0, 0, 0x0, 0, "2 3 50 1400 0.0.0.0 10.0.0.2 00000000 020000000001 0200000000aa")]
    [InlineData("stale", 0, 2, 3, "10.0.0.4", "0.0.0.0", 0, 0, 0x0, 0, "2 3 0 1400 0.0.0.0 10.0.0.4 00000000 020000000001 0200000000cc")]
    [InlineData("incomplete", 0, 2, 3, "10.0.0.5", "0.0.0.0", 0, 0, 0x0, 7, "2 3 0 0 0.0.0.0 10.0.0.5 00000000 000000000000 000000000000")]
    [InlineData("v6gw", 0, 2, 3, "10.8.0.1", "0.0.0.0", 0, 0, 0x0, 0, "10 3 0 1400 :: fd00::2 00000000 020000000001 0200000000bb")]
    [InlineData("default", 0, 2, 3, "192.168.1.1", "0.0.0.0", 0, 0, 0x0, 0, "2 3 0 1400 0.0.0.0 10.0.0.2 00000000 020000000001 0200000000aa")]
    [InlineData("6gw", 0, 10, 3, "fd01::5", "::", 0, 0, 0x0, 0, "10 3 1024 1400 :: fd00::2 00000000 020000000001 0200000000bb")]
    [InlineData("6noneigh", 0, 10, 3, "fd00::9", "::", 0, 0, 0x0, 7, "10 3 256 0 :: fd00::9 00000000 000000000000 000000000000")]
    [InlineData("6blackhole", 0, 10, 3, "fd02::1", "::", 0, 0, 0x0, 1, "10 3 0 0 :: fd02::1 00000000 000000000000 000000000000")]
    [InlineData("6unreach", 0, 10, 3, "fd03::1", "::", 0, 0, 0x0, 2, "10 3 0 0 :: fd03::1 00000000 000000000000 000000000000")]
    [InlineData("6prohibit", 0, 10, 3, "fd04::1", "::", 0, 0, 0x0, 3, "10 3 0 0 :: fd04::1 00000000 000000000000 000000000000")]
    [InlineData("6src", 16, 10, 3, "fd01::5", "::", 0, 0, 0x0, 0, "10 3 1024 1400 fd00::1 fd00::2 00000000 020000000001 0200000000bb")]
    [InlineData("6mtu", 0, 10, 3, "fd01::5", "::", 1401, 0, 0x0, 8, "10 3 0 1400 :: fd01::5 00000000 000000000000 000000000000")]
    [InlineData("6local", 0, 10, 3, "fd00::1", "::", 0, 0, 0x0, 4, "10 3 0 0 :: fd00::1 00000000 000000000000 000000000000")]
    [InlineData("6none", 0, 10, 3, "fd99::1", "::", 0, 0, 0x0, 4, "10 3 0 0 :: fd99::1 00000000 000000000000 000000000000")]
    [InlineData("6out-lo", 2, 10, 1, "fd01::5", "::", 0, 0, 0x0, 0, "10 3 1024 1400 :: fd00::2 00000000 020000000001 0200000000bb")]
    [InlineData("6metric", 0, 10, 3, "fd05::1", "::", 0, 0, 0x0, 0, "10 3 77 1400 :: fd00::2 00000000 020000000001 0200000000bb")]
    [InlineData("6mark", 32, 10, 3, "fd01::5", "::", 0, 0, 0x11223344, 0, "10 3 1024 1400 :: fd00::2 00000000 020000000001 0200000000bb")]
    [InlineData("mark", 32, 2, 3, "10.1.2.3", "0.0.0.0", 0, 0, 0x11223344, 0, "2 3 0 1400 0.0.0.0 10.0.0.2 00000000 020000000001 0200000000aa")]
    [InlineData("6srcnone", 16, 10, 3, "fd06::1", "::", 0, 0, 0x0, 7, "10 2 1024 0 fd00::1 fd06::1 00000000 000000000000 000000000000")]
    public void Lookup_KernelNamespace_SameAnswer(string name, int flags, int family, int ifindex, string dst, string src, int totLen, int tbid, int mark, int ret, string after)
    {
        var p = Params(family, ifindex, dst, src, totLen, (uint)tbid, (uint)mark);
        long r = NetFib.Lookup(Namespace(), p, (uint)flags);
        Assert.True(ret == r, $"{name}: returned {r}, the kernel {ret}");
        Assert.Equal(after, Describe(p));
    }

    [Fact]
    public void Lookup_Ipv4ForwardingOffOnDevice_FwdDisabled()
    {
        var net = Namespace();
        net.FindInterface("veth1")!.Ipv4Forwarding = false;
        Assert.Equal(NetFib.RetForwardingDisabled, NetFib.Lookup(net, Params(2, 2, "10.1.2.3", "0.0.0.0"), 0));
        var p6 = Params(10, 2, "fd01::5", "::");
        Assert.Equal(NetFib.RetSuccess, NetFib.Lookup(net, p6, 0));
        Assert.Equal("10 3 1024 1400 :: fd00::2 00000000 020000000001 0200000000bb", Describe(p6));
    }

    // A new namespace (loopback only), as the kernel answered with lo down, lo up, and forwarding on.
    [Theory]
    [InlineData(false, 0, 2, 1, "10.0.0.1", NetFib.RetForwardingDisabled)]
    [InlineData(false, 0, 2, 1, "127.0.0.1", NetFib.RetForwardingDisabled)]
    [InlineData(false, 0, 10, 1, "2001:db8::1", NetFib.RetForwardingDisabled)]
    [InlineData(false, 0, 10, 1, "::1", NetFib.RetNotForwarded)]
    [InlineData(false, 0, 10, 1, "fe80::1", NetFib.RetNotForwarded)]
    [InlineData(false, 0, 2, 5, "10.0.0.1", -Errno.ENODEV)]
    [InlineData(false, 0, 2, 0, "10.0.0.1", -Errno.ENODEV)]
    [InlineData(false, 0, 3, 1, "10.0.0.1", -Errno.EAFNOSUPPORT)]
    [InlineData(false, 0x40, 2, 1, "10.0.0.1", -Errno.EINVAL)]
    [InlineData(true, 0, 2, 1, "10.0.0.1", NetFib.RetNotForwarded)]
    [InlineData(true, 0, 2, 1, "127.0.0.1", NetFib.RetNotForwarded)]
    [InlineData(true, 0, 10, 1, "2001:db8::1", NetFib.RetNotForwarded)]
    [InlineData(true, 0, 10, 1, "::1", NetFib.RetNotForwarded)]
    public void Lookup_NewNamespace_KernelAnswer(bool forwarding, int flags, int family, int ifindex, string dst, int ret)
    {
        var net = new NetEnvironment().SetForwarding(forwarding);
        var p = Params(family, ifindex, dst, family == 10 ? "::" : "0.0.0.0");
        var before = (byte[])p.Clone();
        Assert.Equal(ret, NetFib.Lookup(net, p, (uint)flags));
        Assert.Equal(before, p); // nothing written on these paths
    }

    [Fact]
    public void Lookup_Loopback_MtuCappedAtIpMaxMtu()
    {
        // ip_mtu_from_fib_result() caps at IP_MAX_MTU (65535); IPv6 allows IP6_MAX_MTU, so lo's 65536 wraps in the u16 field.
        var net = new NetEnvironment().SetForwarding(true).AddRoute("10.9.0.0/16", "lo", via: "127.0.0.2").AddRoute("fd09::/64", "lo");
        net.AddNeighbour("127.0.0.2", "00:00:00:00:00:01", "lo").AddNeighbour("fd09::9", "00:00:00:00:00:02", "lo");
        var p = Params(2, 1, "10.9.0.1", "0.0.0.0");
        Assert.Equal(NetFib.RetSuccess, NetFib.Lookup(net, p, 0));
        Assert.Equal(65535, BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(6)));
        var p6 = Params(10, 1, "fd09::9", "::");
        Assert.Equal(NetFib.RetSuccess, NetFib.Lookup(net, p6, 0));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(p6.AsSpan(6)));
    }

    [Fact]
    public void Lookup_VlanFieldsCleared_OnSuccessOnly()
    {
        var p = Params(2, 3, "10.1.2.3", "0.0.0.0", tbid: 0x12345678);
        Assert.Equal(NetFib.RetSuccess, NetFib.Lookup(Namespace(), p, 0));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(48)));
        var q = Params(2, 3, "10.0.0.9", "0.0.0.0", tbid: 0x12345678);
        Assert.Equal(NetFib.RetNoNeighbour, NetFib.Lookup(Namespace(), q, 0));
        Assert.Equal(0x12345678u, BinaryPrimitives.ReadUInt32LittleEndian(q.AsSpan(48)));
    }

    [Fact]
    public void FibLookup_Program_WritesParamsOnTheStack()
    {
        // params at r10-64: family AF_INET, ifindex 3, ipv4_dst 10.1.2.3; r0 = the return code, the frame gets smac/dmac.
        const string Asm = """
            r6 = r1
            r7 = *(u32 *)(r6 +0)
            r8 = *(u32 *)(r6 +4)
            r1 = r7
            r1 += 12
            if r1 > r8 goto out
            r1 = 0
            *(u64 *)(r10 -64) = r1
            *(u64 *)(r10 -56) = r1
            *(u64 *)(r10 -48) = r1
            *(u64 *)(r10 -40) = r1
            *(u64 *)(r10 -32) = r1
            *(u64 *)(r10 -24) = r1
            *(u64 *)(r10 -16) = r1
            *(u64 *)(r10 -8) = r1
            *(u8 *)(r10 -64) = 2
            *(u32 *)(r10 -56) = 3
            *(u32 *)(r10 -32) = 0x0302010a
            r1 = r6
            r2 = r10
            r2 += -64
            r3 = 64
            r4 = 0
            call bpf_fib_lookup
            r1 = *(u32 *)(r10 -12)
            *(u32 *)(r7 +0) = r1
            r1 = *(u16 *)(r10 -8)
            *(u16 *)(r7 +4) = r1
            r1 = *(u32 *)(r10 -6)
            *(u32 *)(r7 +6) = r1
            r1 = *(u16 *)(r10 -2)
            *(u16 *)(r7 +10) = r1
            out:
            exit
            """;
        var o = NetRun.Once(Asm, net: Namespace());
        Assert.Null(o.Error);
        Assert.Equal(0u, o.Retval);
        Assert.Equal("0200000000010200000000aa", Convert.ToHexStringLower(o.Data, 0, 12));
    }

    [Fact]
    public void FibLookup_ShortParams_Einval()
    {
        var o = NetRun.Once("r2 = r10\nr2 += -64\nr3 = 63\nr4 = 0\ncall bpf_fib_lookup\nexit", net: Namespace());
        Assert.Equal(unchecked((uint)-Errno.EINVAL), o.Retval);
    }

    [Fact]
    public void FibLookup_DefaultEnvironment_LoopbackForwardingDisabled()
    {
        // The run's default environment: a new namespace. The program asks lo (ifindex 1) for 10.0.0.1.
        var o = NetRun.Once("""
            r2 = 0
            *(u64 *)(r10 -64) = r2
            *(u64 *)(r10 -56) = r2
            *(u64 *)(r10 -32) = r2
            *(u8 *)(r10 -64) = 2
            *(u32 *)(r10 -56) = 1
            *(u32 *)(r10 -32) = 0x0100000a
            r2 = r10
            r2 += -64
            r3 = 64
            r4 = 0
            call bpf_fib_lookup
            exit
            """);
        Assert.Equal((uint)NetFib.RetForwardingDisabled, o.Retval);
    }

    [Fact]
    public void SetForwarding_AppliesToDevicesAddedLater()
    {
        // sysctl net.ipv4.conf.all.forwarding=1 also sets the default a new device takes.
        var net = new NetEnvironment().SetForwarding(true);
        var dev = net.AddInterface("veth0");
        Assert.True(dev.Ipv4Forwarding && dev.Ipv6Forwarding);
        net.Ipv6Forwarding = false;
        Assert.False(dev.Ipv6Forwarding);
        Assert.False(net.AddInterface("veth1").Ipv6Forwarding);
        Assert.True(net.Loopback.Ipv4Forwarding);
    }

    [Fact]
    public void AddAddress_KernelRoutes()
    {
        var net = new NetEnvironment();
        net.AddInterface("eth0");
        net.AddAddress("eth0", "192.168.1.10/24").AddAddress("eth0", "2001:db8::10/64");
        string Show(NetRoute r) => $"{r.Type} {r.Destination} {r.Table} {r.Metric}";
        var routes = net.Routes.Where(r => r.Ifindex == 2).Select(Show).ToArray();
        Assert.Equal(
            ["Local 192.168.1.10/32 255 0", "Broadcast 192.168.1.255/32 255 0", "Unicast 192.168.1.0/24 254 0",
             "Local 2001:db8::10/128 255 0", "Unicast 2001:db8::/64 254 256"],
            routes);
    }
}
