using System.Buffers.Binary;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.NetHelpers;

/// <summary>SYN cookies. Cookie values depend on secrets the kernel draws at boot, so they cannot match a kernel's;
/// what can, does: the MSS each SYN's cookie encodes, which tampered ACKs pass or fail, and the error codes, as the
/// running 6.18 kernel gave them for the same frames.</summary>
public class SyncookieTests
{
    // Generates a cookie for the frame's SYN (raw helper), then turns the frame into the ACK that answers it and checks
    // it three times: as sent, with ack_seq + 1, and with the counter bits changed. Results (s64) at frame offset 100.
    private static string RawProgram(bool v4)
    {
        int ip = 14, tcp = v4 ? 34 : 54;
        string gen = v4 ? "bpf_tcp_raw_gen_syncookie_ipv4" : "bpf_tcp_raw_gen_syncookie_ipv6";
        string check = v4 ? "bpf_tcp_raw_check_syncookie_ipv4" : "bpf_tcp_raw_check_syncookie_ipv6";
        return $"""
            r7 = *(u32 *)(r1 +0)
            r8 = *(u32 *)(r1 +4)
            r1 = r7
            r1 += 200
            if r1 > r8 goto out
            r1 = r7
            r1 += {ip}
            r2 = r7
            r2 += {tcp}
            r3 = 24
            call {gen}
            *(u64 *)(r7 +100) = r0
            r9 = r0
            r1 = r7
            r1 += {ip}
            r2 = r7
            r2 += {tcp}
            r3 = 20
            call {gen}
            *(u64 *)(r7 +108) = r0
            r1 = *(u32 *)(r7 +{tcp + 4})
            r1 = be32 r1
            r1 += 1
            r1 = be32 r1
            *(u32 *)(r7 +{tcp + 4}) = r1
            r1 = r9
            r1 += 1
            r1 = be32 r1
            *(u32 *)(r7 +{tcp + 8}) = r1
            *(u8 *)(r7 +{tcp + 13}) = 0x10
            r1 = r7
            r1 += {ip}
            r2 = r7
            r2 += {tcp}
            call {check}
            *(u64 *)(r7 +116) = r0
            r1 = r9
            r1 += 2
            r1 = be32 r1
            *(u32 *)(r7 +{tcp + 8}) = r1
            r1 = r7
            r1 += {ip}
            r2 = r7
            r2 += {tcp}
            call {check}
            *(u64 *)(r7 +124) = r0
            r1 = r9
            r1 += 0x1000001
            r1 = be32 r1
            *(u32 *)(r7 +{tcp + 8}) = r1
            r1 = r7
            r1 += {ip}
            r2 = r7
            r2 += {tcp}
            call {check}
            *(u64 *)(r7 +132) = r0
            r0 = 2
            out:
            exit
            """;
    }

    // (MSS option, IPv4 encoded MSS, IPv4 check of cookie + 1, IPv6 encoded MSS, IPv6 check of cookie + 1), from the kernel.
    [Theory]
    [InlineData(1460, 1460, -Errno.EACCES, 1440, 0)]
    [InlineData(1459, 1440, 0, 1440, 0)]
    [InlineData(1440, 1440, 0, 1440, 0)]
    [InlineData(1300, 1300, 0, 1220, 0)]
    [InlineData(1299, 536, 0, 1220, 0)]
    [InlineData(536, 536, 0, 1220, 0)]
    [InlineData(100, 536, 0, 1220, 0)]
    [InlineData(0, 536, 0, 1220, 0)]        // no MSS option: TCP_MSS_DEFAULT / 1220
    [InlineData(9000, 1460, -Errno.EACCES, 8940, -Errno.EACCES)]
    [InlineData(1220, 536, 0, 1220, 0)]
    [InlineData(1420, 1300, 0, 1420, 0)]
    [InlineData(8940, 1460, -Errno.EACCES, 8940, -Errno.EACCES)]
    [InlineData(65535, 1460, -Errno.EACCES, 8940, -Errno.EACCES)]
    public void RawGenThenCheck_AsKernel(int mssOption, int mss4, int plusOne4, int mss6, int plusOne6)
    {
        var syn = Pkt.Tcp(12345, 80, 0x11223344, 0, Pkt.Syn, (ushort)mssOption);
        var o4 = NetRun.Once(RawProgram(v4: true), Pkt.V4("10.0.0.1", "10.0.0.2", syn));
        Assert.Null(o4.Error);
        Assert.Equal(mss4, Pkt.I64(o4.Data, 100) >> 32);
        Assert.Equal(-Errno.EINVAL, Pkt.I64(o4.Data, 108));      // th_len 20 while doff says 24
        Assert.Equal(0, Pkt.I64(o4.Data, 116));                  // the ACK as it should be
        Assert.Equal(plusOne4, Pkt.I64(o4.Data, 124));           // + 1: the next MSS index, valid unless past the table
        Assert.Equal(-Errno.EACCES, Pkt.I64(o4.Data, 132));      // another minute counter

        var o6 = NetRun.Once(RawProgram(v4: false), Pkt.V6("::1", "::2", syn));
        Assert.Null(o6.Error);
        Assert.Equal(mss6, Pkt.I64(o6.Data, 100) >> 32);
        Assert.Equal(-Errno.EINVAL, Pkt.I64(o6.Data, 108));
        Assert.Equal(0, Pkt.I64(o6.Data, 116));
        Assert.Equal(plusOne6, Pkt.I64(o6.Data, 124));
    }

    [Fact]
    public void Cookie_ValidForTwoMinutesOfCounter()
    {
        var f = Pkt.V4("10.0.0.1", "10.0.0.2", Pkt.Tcp(1, 2, 1000, 0, Pkt.Syn, 1460));
        var iph = f.AsSpan(14, 20);
        var th = f.AsSpan(34, 24).ToArray();
        ushort mss = 1460;
        uint cookie = NetSyncookies.InitV4(iph, th, ref mss, count: 100, seed: 7);
        BinaryPrimitives.WriteUInt32BigEndian(th.AsSpan(4), 1001);
        BinaryPrimitives.WriteUInt32BigEndian(th.AsSpan(8), cookie + 1);
        Assert.Equal(1460, NetSyncookies.CheckV4(iph, th, 100, 7));
        Assert.Equal(1460, NetSyncookies.CheckV4(iph, th, 101, 7));
        Assert.Equal(0, NetSyncookies.CheckV4(iph, th, 102, 7));
        Assert.Equal(0, NetSyncookies.CheckV4(iph, th, 99, 7));
        Assert.Equal(0, NetSyncookies.CheckV4(iph, th, 100, 8));          // other secrets
        f[26] ^= 1;                                                       // another source address
        Assert.Equal(0, NetSyncookies.CheckV4(f.AsSpan(14, 20), th, 100, 7));
    }

    [Fact]
    public void RawCheck_AcrossPackets_UsesTheRunClock()
    {
        // Packet 0 makes the cookie; a later packet checks it: valid one minute on, not 2 minutes later (HZ 250).
        var syn = Pkt.V4("10.0.0.1", "10.0.0.2", Pkt.Tcp(1, 2, 1000, 0, Pkt.Syn, 1460));
        var gen = NetRun.Once("r7 = *(u32 *)(r1 +0)\nr8 = *(u32 *)(r1 +4)\nr1 = r7\nr1 += 60\nif r1 > r8 goto out\nr1 = r7\nr1 += 14\nr2 = r7\nr2 += 34\nr3 = 24\ncall bpf_tcp_raw_gen_syncookie_ipv4\nout:\nexit", syn);
        uint cookie = gen.Retval;
        var ack = Pkt.V4("10.0.0.1", "10.0.0.2", Pkt.Tcp(1, 2, 1001, cookie + 1, Pkt.Ack, 0));
        const string Check = "r7 = *(u32 *)(r1 +0)\nr8 = *(u32 *)(r1 +4)\nr1 = r7\nr1 += 60\nif r1 > r8 goto out\nr1 = r7\nr1 += 14\nr2 = r7\nr2 += 34\ncall bpf_tcp_raw_check_syncookie_ipv4\nout:\nexit";
        using var run = new NetRun(Check, null, new RunOptions { TimeStepNs = 70_000_000_000 });
        Assert.Equal(0u, run.Run(ack).Retval);                            // t = 0
        Assert.Equal(0u, run.Run(ack).Retval);                            // t = 70 s: counter + 1
        Assert.Equal(unchecked((uint)-Errno.EACCES), run.Run(ack).Retval); // t = 140 s: counter + 2
    }

    // The kernel check's listener sequence: skc_lookup_tcp, gen_syncookie on the SYN, check_syncookie on the SYN, on
    // the matching ACK and on an ACK with another counter; results (s64) from frame offset 64.
    private const string ListenerProgram = """
        r6 = r1
        r7 = *(u32 *)(r6 +0)
        r8 = *(u32 *)(r6 +4)
        r1 = r7
        r1 += 200
        if r1 > r8 goto out
        r1 = *(u32 *)(r7 +26)
        *(u32 *)(r10 -16) = r1
        r1 = *(u32 *)(r7 +30)
        *(u32 *)(r10 -12) = r1
        r1 = *(u32 *)(r7 +34)
        *(u32 *)(r10 -8) = r1
        r1 = r6
        r2 = r10
        r2 += -16
        r3 = 12
        r4 = -1
        r5 = 0
        call bpf_skc_lookup_tcp
        if r0 == 0 goto out
        r9 = r0
        r1 = r9
        r2 = r7
        r2 += 14
        r3 = 20
        r4 = r7
        r4 += 34
        r5 = 24
        call bpf_tcp_gen_syncookie
        *(u64 *)(r7 +64) = r0
        *(u64 *)(r10 -24) = r0
        r1 = r9
        r2 = r7
        r2 += 14
        r3 = 20
        r4 = r7
        r4 += 34
        r5 = 24
        call bpf_tcp_check_syncookie
        *(u64 *)(r7 +72) = r0
        r1 = *(u32 *)(r7 +38)
        r1 = be32 r1
        r1 += 1
        r1 = be32 r1
        *(u32 *)(r7 +38) = r1
        r1 = *(u64 *)(r10 -24)
        r1 += 1
        r1 = be32 r1
        *(u32 *)(r7 +42) = r1
        *(u8 *)(r7 +47) = 0x10
        r1 = r9
        r2 = r7
        r2 += 14
        r3 = 20
        r4 = r7
        r4 += 34
        r5 = 24
        call bpf_tcp_check_syncookie
        *(u64 *)(r7 +80) = r0
        r1 = *(u64 *)(r10 -24)
        r1 += 0x1000001
        r1 = be32 r1
        *(u32 *)(r7 +42) = r1
        r1 = r9
        r2 = r7
        r2 += 14
        r3 = 20
        r4 = r7
        r4 += 34
        r5 = 24
        call bpf_tcp_check_syncookie
        *(u64 *)(r7 +88) = r0
        r1 = r9
        call bpf_sk_release
        r0 = 1
        out:
        exit
        """;

    private static (long Gen, long CheckSyn, long CheckAck, long CheckOther, NetSocket Listener) RunListener(int syncookies, bool synQueueFull = false, ushort mss = 1460)
    {
        var net = new NetEnvironment { TcpSyncookies = syncookies };
        var listener = net.AddSocket(new NetSocket { LocalPort = 8080, SynQueueFull = synQueueFull });
        var o = NetRun.Once(ListenerProgram, Pkt.V4("10.0.0.2", "10.0.0.1", Pkt.Tcp(1234, 8080, 0x11223344, 0, Pkt.Syn, mss)), net);
        Assert.Null(o.Error);
        Assert.Equal(1u, o.Retval);
        return (Pkt.I64(o.Data, 64), Pkt.I64(o.Data, 72), Pkt.I64(o.Data, 80), Pkt.I64(o.Data, 88), listener);
    }

    [Fact]
    public void ListenerCookies_Syncookies1NoFlood_NoCookieAndNoRecentOverflow()
    {
        var r = RunListener(1);
        Assert.Equal((-Errno.ENOENT, -Errno.ENOENT, -Errno.ENOENT, -Errno.ENOENT), (r.Gen, r.CheckSyn, r.CheckAck, r.CheckOther));
    }

    [Theory]
    [InlineData(2, false, 1460, 1460)]
    [InlineData(2, false, 1300, 1300)]
    [InlineData(1, true, 1460, 1460)]   // syncookies = 1 while the SYN queue is full
    [InlineData(2, false, 0, 536)]      // no MSS option: af_ops->mss_clamp
    public void ListenerCookies_CookieDue_GeneratedThenAccepted(int syncookies, bool full, ushort mssOption, int mss)
    {
        var r = RunListener(syncookies, full, mssOption);
        Assert.Equal(mss, r.Gen >> 32);
        Assert.Equal(-Errno.ENOENT, r.CheckSyn);   // not a pure ACK
        Assert.Equal(0, r.CheckAck);
        Assert.Equal(-Errno.ENOENT, r.CheckOther);
        Assert.NotEqual(0u, r.Listener.LastSynOverflow); // gen_syncookie marked the overflow
    }

    [Fact]
    public void ListenerCookies_Syncookies0_EnoentThenEinval()
    {
        var r = RunListener(0);
        Assert.Equal((-Errno.ENOENT, -Errno.EINVAL, -Errno.EINVAL, -Errno.EINVAL), (r.Gen, r.CheckSyn, r.CheckAck, r.CheckOther));
    }

    [Fact]
    public void GenSyncookie_AcceptQueueFull_Enoent()
    {
        var net = new NetEnvironment { TcpSyncookies = 2 };
        net.AddSocket(new NetSocket { LocalPort = 8080, AcceptQueueFull = true });
        var o = NetRun.Once(ListenerProgram, Pkt.V4("10.0.0.2", "10.0.0.1", Pkt.Tcp(1234, 8080, 1, 0, Pkt.Syn, 1460)), net);
        Assert.Equal(-Errno.ENOENT, Pkt.I64(o.Data, 64));
    }

    [Fact]
    public void SipHash_ReferenceVectors()
    {
        // SipHash-2-4, key 00 01 .. 0f, messages 00 01 .. (n-1): the reference implementation's vectors.
        ulong k0 = 0x0706050403020100, k1 = 0x0f0e0d0c0b0a0908;
        byte[] m = [.. Enumerable.Range(0, 64).Select(i => (byte)i)];
        Assert.Equal(0x726fdb47dd0e0e31ul, NetSipHash.Hash(m.AsSpan(0, 0), k0, k1));
        Assert.Equal(0x74f839c593dc67fdul, NetSipHash.Hash(m.AsSpan(0, 1), k0, k1));
        Assert.Equal(0x93f5f5799a932462ul, NetSipHash.Hash(m.AsSpan(0, 8), k0, k1));
        Assert.Equal(0xa129ca6149be45e5ul, NetSipHash.Hash(m.AsSpan(0, 15), k0, k1));
        Assert.Equal(NetSipHash.Hash(m.AsSpan(0, 16), k0, k1), NetSipHash.Hash4U32(0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c, k0, k1));
    }

    [Theory]
    [InlineData("020405b4", 0, 1460)]
    [InlineData("01010204 05b40000", 0, 1460)]   // NOPs first (doff 7)
    [InlineData("020405b4", 1400, 1400)]         // user_mss caps it
    [InlineData("02040000", 0, 0)]               // MSS 0 is ignored
    [InlineData("0203", 0, 0)]                   // partial option
    [InlineData("00000000", 0, 0)]               // EOL
    public void ParseMssOption_AsKernel(string options, ushort userMss, int expected)
    {
        var opt = Convert.FromHexString(options.Replace(" ", "", StringComparison.Ordinal));
        var th = new byte[20 + ((opt.Length + 3) & ~3)];
        th[12] = (byte)((th.Length / 4) << 4);
        opt.CopyTo(th, 20);
        Assert.Equal(expected, NetSyncookies.ParseMssOption(th, userMss));
    }
}
