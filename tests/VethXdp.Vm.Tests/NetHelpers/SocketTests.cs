using System.Buffers.Binary;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.NetHelpers;

/// <summary>bpf_sk_lookup_tcp / _udp, bpf_skc_lookup_tcp, bpf_sk_release and the bpf_skc_to_* casts. The expected
/// struct bpf_sock fields of a listener and a UDP socket are what the running 6.18 kernel showed for the same sockets
/// (a Python listener on 0.0.0.0:8080 and a UDP socket on 10.0.0.1:5353 in a namespace).</summary>
public class SocketTests
{
    /// <summary>Looks up the frame's IPv4 four-tuple with <paramref name="helper"/>; on a hit copies the 80-byte bpf_sock
    /// view to frame offset 60, releases it (unless <paramref name="release"/> is false) and returns 1; else 0.</summary>
    internal static string LookupProgram(string helper = "bpf_sk_lookup_tcp", int size = 12, long netns = -1, ulong flags = 0, bool release = true) => $"""
        r6 = r1
        r7 = *(u32 *)(r6 +0)
        r8 = *(u32 *)(r6 +4)
        r1 = r7
        r1 += 200
        if r1 > r8 goto out
        r1 = *(u32 *)(r7 +26)
        *(u32 *)(r10 -40) = r1
        r1 = *(u32 *)(r7 +30)
        *(u32 *)(r10 -36) = r1
        r1 = *(u32 *)(r7 +34)
        *(u32 *)(r10 -32) = r1
        r1 = r6
        r2 = r10
        r2 += -40
        r3 = {size}
        r4 = {netns}
        r5 = {flags}
        call {helper}
        if r0 == 0 goto out
        r9 = r0
        r1 = 0
        copy:
        r2 = r9
        r2 += r1
        r3 = *(u32 *)(r2 +0)
        r2 = r7
        r2 += r1
        *(u32 *)(r2 +60) = r3
        r1 += 4
        if r1 < 80 goto copy
        {(release ? "r1 = r9\ncall bpf_sk_release" : "")}
        r0 = 1
        out:
        exit
        """;

    private static byte[] Frame(string src = "10.0.0.2", string dst = "10.0.0.1", ushort sport = 1234, ushort dport = 8080) =>
        Pkt.V4(src, dst, Pkt.Tcp(sport, dport, 0x11223344, 0, Pkt.Syn, 1460));

    // The fields the kernel check printed: bound_dev_if family type protocol mark priority src_ip4 src_port dst_port
    // dst_ip4 state rx_queue_mapping (IPv4 addresses as the u32 a program loads).
    private static string Fields(byte[] data)
    {
        uint U(int o) => BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(60 + o));
        return $"{U(0)} {U(4)} {U(8)} {U(12)} {U(16)} {U(20)} {U(24)} {U(44)} {U(48)} {U(52)} {U(72)} {(int)U(76)}";
    }

    private static NetEnvironment WithSockets(params NetSocket[] sockets)
    {
        var net = new NetEnvironment();
        net.AddInterface("d0");
        net.AddAddress("d0", "10.0.0.1/24");
        foreach (var s in sockets)
        {
            net.AddSocket(s);
        }

        return net;
    }

    private static NetSocket Listener(ushort port = 8080) => new() { LocalPort = port };

    [Fact]
    public void SkLookupTcp_DefaultEnvironment_Null()
    {
        var o = NetRun.Once(LookupProgram(), Frame());
        Assert.Null(o.Error);
        Assert.Equal(0u, o.Retval);
    }

    [Fact]
    public void SkLookupTcp_Listener_ViewAsKernel()
    {
        using var run = new NetRun(LookupProgram(), WithSockets(Listener()));
        var o = run.Run(Frame());
        Assert.Equal(1u, o.Retval);
        Assert.Null(o.Error);
        Assert.Equal("0 2 1 6 0 0 0 8080 0 0 10 -1", Fields(o.Data));
        Assert.Equal(0, run.State.HeldReferences);
    }

    [Fact]
    public void SkLookupUdp_BoundSocket_ViewAsKernel()
    {
        var udp = new NetSocket { Type = NetSocketType.Dgram, State = NetSocketState.Close, LocalAddress = NetAddress.Parse("10.0.0.1"), LocalPort = 5353 };
        using var run = new NetRun(LookupProgram("bpf_sk_lookup_udp"), WithSockets(udp));
        var o = run.Run(Frame(dport: 5353));
        Assert.Equal(1u, o.Retval);
        Assert.Equal("0 2 2 17 0 0 16777226 5353 0 0 7 -1", Fields(o.Data));
        Assert.Equal(0u, run.Run(Frame(dport: 5354)).Retval);
    }

    [Theory]
    [InlineData(12, 0L, 0ul)]    // a netns id: no other namespace has one
    [InlineData(12, -1L, 1ul)]   // any flag
    [InlineData(13, -1L, 0ul)]   // neither sizeof(tuple.ipv4) nor sizeof(tuple.ipv6)
    public void SkLookupTcp_BadArguments_Null(int size, long netns, ulong flags)
    {
        using var run = new NetRun(LookupProgram(size: size, netns: netns, flags: flags), WithSockets(Listener()));
        Assert.Equal(0u, run.Run(Frame()).Retval);
    }

    [Fact]
    public void SkLookupTcp_EstablishedBeatsListener()
    {
        var est = new NetSocket
        {
            State = NetSocketState.Established,
            LocalAddress = NetAddress.Parse("10.0.0.1"),
            LocalPort = 8080,
            RemoteAddress = NetAddress.Parse("10.0.0.2"),
            RemotePort = 1234,
        };
        using var run = new NetRun(LookupProgram(), WithSockets(Listener(), est));
        var o = run.Run(Frame());
        Assert.Equal(1u, o.Retval);
        Assert.Equal("0 2 1 6 0 0 16777226 8080 53764 33554442 1 -1", Fields(o.Data)); // dst_port is be16 1234
        Assert.Equal("0 2 1 6 0 0 0 8080 0 0 10 -1", Fields(run.Run(Frame(sport: 1235)).Data));
    }

    [Fact]
    public void Lookups_TimeWait_FullLookupNullSkcLookupFinds()
    {
        var tw = new NetSocket
        {
            State = NetSocketState.TimeWait,
            LocalAddress = NetAddress.Parse("10.0.0.1"),
            LocalPort = 8080,
            RemoteAddress = NetAddress.Parse("10.0.0.2"),
            RemotePort = 1234,
        };
        var net = WithSockets(Listener(), tw);
        using (var run = new NetRun(LookupProgram(), net))
        {
            Assert.Equal(0u, run.Run(Frame()).Retval);
        }

        using var skc = new NetRun(LookupProgram("bpf_skc_lookup_tcp"), net);
        var o = skc.Run(Frame());
        Assert.Equal(1u, o.Retval);
        Assert.Equal(6u, Pkt.U32(o.Data, 60 + 72));
    }

    [Fact]
    public void SkLookupTcp_RequestSocket_GivesItsListener()
    {
        var listener = Listener();
        var req = new NetSocket
        {
            State = NetSocketState.NewSynRecv,
            LocalAddress = NetAddress.Parse("10.0.0.1"),
            LocalPort = 8080,
            RemoteAddress = NetAddress.Parse("10.0.0.2"),
            RemotePort = 1234,
            Listener = listener,
        };
        using var run = new NetRun(LookupProgram(), WithSockets(listener, req));
        Assert.Equal("0 2 1 6 0 0 0 8080 0 0 10 -1", Fields(run.Run(Frame()).Data));
    }

    [Fact]
    public void SkLookupTcp_Ipv6DualStackListener_TakesIpv4()
    {
        var v6 = new NetSocket { Family = NetFamily.Inet6, LocalPort = 8080 };
        using (var run = new NetRun(LookupProgram(), WithSockets(v6)))
        {
            Assert.Equal(10u, Pkt.U32(run.Run(Frame()).Data, 64));
        }

        var v6only = new NetSocket { Family = NetFamily.Inet6, LocalPort = 8080, Ipv6Only = true };
        using var run2 = new NetRun(LookupProgram(), WithSockets(v6only));
        Assert.Equal(0u, run2.Run(Frame()).Retval);
    }

    [Fact]
    public void SkLookupTcp_BoundToOtherDevice_Null()
    {
        using var run = new NetRun(LookupProgram(), WithSockets(new NetSocket { LocalPort = 8080, BoundIfindex = 2 }));
        Assert.Equal(0u, run.Run(Frame()).Retval); // the frame arrives on lo (ifindex 1)
    }

    [Fact]
    public void SkLookup_NotReleased_ReportedAtExit()
    {
        using var run = new NetRun(LookupProgram(release: false), WithSockets(Listener()));
        var o = run.Run(Frame());
        Assert.StartsWith("Unreleased reference", NetRun.Fault(o));
        Assert.Null(o.Error!.Insn);
    }

    [Fact]
    public void SkRelease_Twice_FaultsAsVerifier()
    {
        string asm = LookupProgram().Replace("call bpf_sk_release", "call bpf_sk_release\nr1 = r9\ncall bpf_sk_release", StringComparison.Ordinal);
        using var run = new NetRun(asm, WithSockets(Listener()));
        Assert.Contains("R1 must be referenced when passed to release function", NetRun.Fault(run.Run(Frame())));
    }

    [Fact]
    public void SkRelease_NotASocket_Faults() =>
        Assert.Contains("is not a socket pointer", NetRun.Fault(NetRun.Once("r1 = r10\ncall bpf_sk_release\nexit")));

    [Theory]
    [InlineData(137, NetSocketState.Listen, NetFamily.Inet, true)]         // bpf_skc_to_tcp_sock
    [InlineData(136, NetSocketState.Listen, NetFamily.Inet, false)]        // bpf_skc_to_tcp6_sock
    [InlineData(136, NetSocketState.Listen, NetFamily.Inet6, true)]
    [InlineData(140, NetSocketState.Listen, NetFamily.Inet6, false)]       // bpf_skc_to_udp6_sock
    [InlineData(138, NetSocketState.Listen, NetFamily.Inet, false)]        // bpf_skc_to_tcp_timewait_sock
    [InlineData(138, NetSocketState.TimeWait, NetFamily.Inet, true)]
    [InlineData(137, NetSocketState.TimeWait, NetFamily.Inet, false)]
    [InlineData(139, NetSocketState.NewSynRecv, NetFamily.Inet, true)]     // bpf_skc_to_tcp_request_sock
    [InlineData(178, NetSocketState.Listen, NetFamily.Inet, false)]        // bpf_skc_to_unix_sock
    [InlineData(196, NetSocketState.Listen, NetFamily.Inet, false)]        // bpf_skc_to_mptcp_sock
    public void SkcCasts_KernelTypeChecks(int helper, NetSocketState state, NetFamily family, bool same)
    {
        var net = new NetEnvironment();
        net.AddSocket(new NetSocket { Family = family, State = state, LocalPort = 8080 });
        using var run = new NetRun("exit", net);
        Assert.True(run.Object.Helpers.TryGet(helper, out var cast));
        ulong view = net.ViewAddress(0);
        Assert.Equal(same ? view : 0, cast(view, 0, 0, 0, 0, run.Env));
        Assert.Equal(0ul, cast(0, 0, 0, 0, 0, run.Env));
    }

    [Fact]
    public void SkcToUdp6Sock_Ipv6UdpSocket_Same()
    {
        var net = new NetEnvironment();
        net.AddSocket(new NetSocket { Family = NetFamily.Inet6, Type = NetSocketType.Dgram, State = NetSocketState.Close, LocalPort = 53 });
        using var run = new NetRun("exit", net);
        ulong view = net.ViewAddress(0);
        Assert.Equal(view, VethXdp.Vm.Helpers.NetSocketHelpers.SkcToUdp6Sock(view, 0, 0, 0, 0, run.Env));
    }

    [Fact]
    public void SkcToTcpSock_Program_ListenerIsATcpSock()
    {
        // As the kernel check: skc_lookup_tcp, then the cast returns the same pointer.
        string asm = LookupProgram("bpf_skc_lookup_tcp")
            .Replace("r9 = r0", "r9 = r0\nr1 = r0\ncall bpf_skc_to_tcp_sock\nr8 = r0", StringComparison.Ordinal)
            .Replace("r0 = 1\nout:", "r0 = 3\nif r8 != r9 goto out\nr0 = 1\nout:", StringComparison.Ordinal);
        var o = NetRun.Once(asm, Frame(), WithSockets(Listener()));
        Assert.Null(o.Error);
        Assert.Equal(1u, o.Retval);
    }
}
