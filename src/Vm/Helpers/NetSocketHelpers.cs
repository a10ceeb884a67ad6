using System.Buffers.Binary;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Helpers;

/// <summary>The socket helpers XDP programs may call (net/core/filter.c): the lookups, bpf_sk_release, the
/// bpf_skc_to_* casts, and the SYN cookie helpers that take a listener. Sockets come from the engine's
/// <see cref="NetEnvironment"/> (none by default, so every lookup returns NULL); a found socket is returned as a
/// pointer to its read-only <c>struct bpf_sock</c> view, and the program must release it.</summary>
public static class NetSocketHelpers
{
    /// <summary>BPF_F_CURRENT_NETNS.</summary>
    public const int CurrentNetns = -1;

    private const int TupleV4Size = 12;
    private const int TupleV6Size = 36;

    /// <summary>bpf_sk_lookup_tcp(ctx, tuple, tuple_size, netns, flags) (84): the TCP socket for the four-tuple
    /// (the packet's source as tuple saddr/sport, its destination as daddr/dport), as a full socket (a request socket
    /// gives its listener, a time-wait socket NULL); NULL when there is none, for a tuple_size other than
    /// sizeof(tuple.ipv4) or sizeof(tuple.ipv6), for any flag, and for a netns id (only BPF_F_CURRENT_NETNS, or any
    /// negative id, names the environment).</summary>
    public static ulong SkLookupTcp(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Lookup(r1, r2, r3, r4, r5, env, tcp: true, full: true);

    /// <summary>bpf_sk_lookup_udp(ctx, tuple, tuple_size, netns, flags) (85): as <see cref="SkLookupTcp"/> for UDP.</summary>
    public static ulong SkLookupUdp(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Lookup(r1, r2, r3, r4, r5, env, tcp: false, full: true);

    /// <summary>bpf_skc_lookup_tcp(ctx, tuple, tuple_size, netns, flags) (99): as <see cref="SkLookupTcp"/>, but
    /// time-wait and request sockets are returned as they are (a <c>sock_common</c>).</summary>
    public static ulong SkcLookupTcp(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Lookup(r1, r2, r3, r4, r5, env, tcp: true, full: false);

    /// <summary>bpf_sk_release(sock) (86): releases a socket a lookup returned. Returns 0. A pointer the program does not
    /// hold a reference to stops the run with the verifier's message.</summary>
    public static ulong SkRelease(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var state = NetRunState.For(env);
        int index = SocketArg(state.Environment, r1, "bpf_sk_release");
        if (!state.Release(index))
        {
            throw new ExecutionFaultException(FaultKind.HelperFailed, "R1 must be referenced when passed to release function");
        }

        return 0;
    }

    /// <summary>bpf_skc_to_tcp6_sock(sk) (136): sk when it is a full IPv6 TCP socket, else NULL.</summary>
    public static ulong SkcToTcp6Sock(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Cast(r1, env, s => s.IsFullSocket && s.Protocol == 6 && s.Family == NetFamily.Inet6);

    /// <summary>bpf_skc_to_tcp_sock(sk) (137): sk when it is a full TCP socket, else NULL.</summary>
    public static ulong SkcToTcpSock(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Cast(r1, env, s => s.IsFullSocket && s.Protocol == 6);

    /// <summary>bpf_skc_to_tcp_timewait_sock(sk) (138): sk when it is a TCP time-wait socket, else NULL.</summary>
    public static ulong SkcToTcpTimewaitSock(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Cast(r1, env, s => s.Protocol == 6 && s.State == NetSocketState.TimeWait);

    /// <summary>bpf_skc_to_tcp_request_sock(sk) (139): sk when it is a TCP request socket, else NULL.</summary>
    public static ulong SkcToTcpRequestSock(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Cast(r1, env, s => s.Protocol == 6 && s.State == NetSocketState.NewSynRecv);

    /// <summary>bpf_skc_to_udp6_sock(sk) (140): sk when it is an IPv6 UDP socket, else NULL.</summary>
    public static ulong SkcToUdp6Sock(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Cast(r1, env, s => s.IsFullSocket && s.Protocol == 17 && s.Type == NetSocketType.Dgram && s.Family == NetFamily.Inet6);

    /// <summary>bpf_skc_to_unix_sock(sk) (178): NULL (the environment has no AF_UNIX sockets).</summary>
    public static ulong SkcToUnixSock(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Cast(r1, env, static _ => false);

    /// <summary>bpf_skc_to_mptcp_sock(sk) (196): NULL (the environment's sockets are not MPTCP subflows).</summary>
    public static ulong SkcToMptcpSock(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Cast(r1, env, static _ => false);

    /// <summary>bpf_tcp_check_syncookie(sk, iph, iph_len, th, th_len) (100): 0 when the ACK in th carries a valid SYN
    /// cookie of listener sk; -ENOENT when it does not, when it is not a pure ACK, or when the listener's SYN queue has
    /// not overflowed in the last two minutes; -EINVAL for a socket that is not a TCP listener, with
    /// net.ipv4.tcp_syncookies = 0, for short headers or a family the socket does not take; -EPROTONOSUPPORT when the
    /// IP version is neither 4 nor 6.</summary>
    public static ulong TcpCheckSyncookie(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var state = NetRunState.For(env);
        var net = state.Environment;
        int ipLength = (int)(uint)r3;
        int thLength = (int)(uint)r5;
        var iph = env.Load(r2, ipLength);
        var th = env.Load(r4, thLength);
        if (r1 == 0 || thLength < 20)
        {
            return Err(Errno.EINVAL);
        }

        var sk = net.Sockets[SocketArg(net, r1, "bpf_tcp_check_syncookie")];
        if (sk.Protocol != 6 || sk.State != NetSocketState.Listen || net.TcpSyncookies == 0)
        {
            return Err(Errno.EINVAL);
        }

        byte flags = th[13];
        if ((flags & TcpAck) == 0 || (flags & (TcpRst | TcpSyn)) != 0)
        {
            return Err(Errno.ENOENT);
        }

        if (ipLength < 20)
        {
            return Err(Errno.EINVAL);
        }

        ulong jiffies = Jiffies(env);
        if (NoRecentOverflow(sk, (uint)jiffies, env.JiffiesHz))
        {
            return Err(Errno.ENOENT);
        }

        uint count = NetSyncookies.CookieTime(jiffies, env.JiffiesHz);
        int mss;
        switch (iph[0] >> 4)
        {
            case 4:
                if (sk.Family == NetFamily.Inet6 && sk.Ipv6Only)
                {
                    return Err(Errno.EINVAL);
                }

                mss = NetSyncookies.CheckV4(iph, th, count, net.SyncookieSeed);
                break;
            case 6:
                if (ipLength < 40 || sk.Family != NetFamily.Inet6)
                {
                    return Err(Errno.EINVAL);
                }

                mss = NetSyncookies.CheckV6(iph, th, count, net.SyncookieSeed);
                break;
            default:
                return Err(Errno.EPROTONOSUPPORT);
        }

        return mss > 0 ? 0 : Err(Errno.ENOENT);
    }

    /// <summary>bpf_tcp_gen_syncookie(sk, iph, iph_len, th, th_len) (110): for a SYN to listener sk, the cookie in the low
    /// 32 bits and the MSS it encodes in the next 16; -ENOENT when no cookie is due (net.ipv4.tcp_syncookies = 0, or 1
    /// while the SYN queue is not full, or the accept queue is full); -EINVAL for a socket that is not a TCP listener,
    /// th_len other than th-&gt;doff * 4, a segment that is not a pure SYN, short headers or a family the socket does
    /// not take; -EPROTONOSUPPORT for IP versions other than 4 and 6. A cookie marks the listener's SYN queue as
    /// overflowed now.</summary>
    public static ulong TcpGenSyncookie(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var state = NetRunState.For(env);
        var net = state.Environment;
        int ipLength = (int)(uint)r3;
        int thLength = (int)(uint)r5;
        var iph = env.Load(r2, ipLength);
        var th = env.Load(r4, thLength);
        if (r1 == 0 || thLength < 20 || thLength != (th[12] >> 4) * 4)
        {
            return Err(Errno.EINVAL);
        }

        var sk = net.Sockets[SocketArg(net, r1, "bpf_tcp_gen_syncookie")];
        if (sk.Protocol != 6 || sk.State != NetSocketState.Listen)
        {
            return Err(Errno.EINVAL);
        }

        if (net.TcpSyncookies == 0)
        {
            return Err(Errno.ENOENT);
        }

        byte flags = th[13];
        if ((flags & TcpSyn) == 0 || (flags & (TcpAck | TcpFin | TcpRst)) != 0 || ipLength < 20)
        {
            return Err(Errno.EINVAL);
        }

        bool v4;
        switch (iph[0] >> 4)
        {
            case 4:
                if (sk.Family == NetFamily.Inet6 && sk.Ipv6Only)
                {
                    return Err(Errno.EINVAL);
                }

                v4 = true;
                break;
            case 6:
                if (ipLength < 40 || sk.Family != NetFamily.Inet6)
                {
                    return Err(Errno.EINVAL);
                }

                v4 = false;
                break;
            default:
                return Err(Errno.EPROTONOSUPPORT);
        }

        // kernel: tcp_get_syncookie_mss()
        if ((net.TcpSyncookies != 2 && !sk.SynQueueFull) || sk.AcceptQueueFull)
        {
            return Err(Errno.ENOENT);
        }

        ushort mss = NetSyncookies.ParseMssOption(th, sk.UserMss);
        if (mss == 0)
        {
            mss = v4 ? NetSyncookies.TcpMssDefault : NetSyncookies.Ipv6MssClamp;
        }

        ulong jiffies = Jiffies(env);
        uint count = NetSyncookies.CookieTime(jiffies, env.JiffiesHz);
        uint cookie = v4
            ? NetSyncookies.InitV4(iph, th, ref mss, count, net.SyncookieSeed)
            : NetSyncookies.InitV6(iph, th, ref mss, count, net.SyncookieSeed);
        SynqOverflow(sk, (uint)jiffies, env.JiffiesHz);
        return cookie | ((ulong)mss << 32);
    }

    /// <summary>bpf_tcp_raw_gen_syncookie_ipv4(iph, th, th_len) (204): the cookie for a SYN (no listener needed) and, in
    /// bits 32-47, the MSS it encodes (from the MSS option, or 536); -EINVAL when th_len is below 20 or not
    /// th-&gt;doff * 4.</summary>
    public static ulong TcpRawGenSyncookieIpv4(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        RawGen(r1, r2, r3, env, v4: true);

    /// <summary>bpf_tcp_raw_gen_syncookie_ipv6(iph, th, th_len) (205): as <see cref="TcpRawGenSyncookieIpv4"/> for the
    /// 40-byte IPv6 header (MSS 1220 without an MSS option).</summary>
    public static ulong TcpRawGenSyncookieIpv6(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        RawGen(r1, r2, r3, env, v4: false);

    /// <summary>bpf_tcp_raw_check_syncookie_ipv4(iph, th) (206): 0 when the ACK's ack_seq - 1 is a valid cookie, else
    /// -EACCES.</summary>
    public static ulong TcpRawCheckSyncookieIpv4(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        RawCheck(r1, r2, env, v4: true);

    /// <summary>bpf_tcp_raw_check_syncookie_ipv6(iph, th) (207): as <see cref="TcpRawCheckSyncookieIpv4"/> for IPv6.</summary>
    public static ulong TcpRawCheckSyncookieIpv6(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        RawCheck(r1, r2, env, v4: false);

    private const byte TcpFin = 0x01, TcpSyn = 0x02, TcpRst = 0x04, TcpAck = 0x10;

    private static ulong RawGen(ulong iphAddress, ulong thAddress, ulong thLen, RuntimeEnv env, bool v4)
    {
        ArgumentNullException.ThrowIfNull(env);
        var iph = env.Load(iphAddress, v4 ? 20 : 40);
        int thLength = (int)(uint)thLen;
        var th = env.Load(thAddress, thLength);
        if (thLength < 20 || thLength != (th[12] >> 4) * 4)
        {
            return Err(Errno.EINVAL);
        }

        var net = NetRunState.For(env).Environment;
        ushort mss = NetSyncookies.ParseMssOption(th, 0);
        if (mss == 0)
        {
            mss = v4 ? NetSyncookies.TcpMssDefault : NetSyncookies.Ipv6MssClamp;
        }

        uint count = NetSyncookies.CookieTime(Jiffies(env), env.JiffiesHz);
        uint cookie = v4
            ? NetSyncookies.InitV4(iph, th, ref mss, count, net.SyncookieSeed)
            : NetSyncookies.InitV6(iph, th, ref mss, count, net.SyncookieSeed);
        return cookie | ((ulong)mss << 32);
    }

    private static ulong RawCheck(ulong iphAddress, ulong thAddress, RuntimeEnv env, bool v4)
    {
        ArgumentNullException.ThrowIfNull(env);
        var iph = env.Load(iphAddress, v4 ? 20 : 40);
        var th = env.Load(thAddress, 20);
        var net = NetRunState.For(env).Environment;
        uint count = NetSyncookies.CookieTime(Jiffies(env), env.JiffiesHz);
        int mss = v4 ? NetSyncookies.CheckV4(iph, th, count, net.SyncookieSeed) : NetSyncookies.CheckV6(iph, th, count, net.SyncookieSeed);
        return mss > 0 ? 0 : Err(Errno.EACCES);
    }

    private static ulong Lookup(ulong ctx, ulong tupleAddress, ulong tupleSize, ulong netns, ulong flags, RuntimeEnv env, bool tcp, bool full)
    {
        ArgumentNullException.ThrowIfNull(env);
        var xdp = env.XdpFrame(ctx);
        int size = (int)(uint)tupleSize;
        var tuple = env.Load(tupleAddress, size);
        if ((size != TupleV4Size && size != TupleV6Size) || flags != 0 || (int)(uint)netns >= 0)
        {
            return 0;
        }

        var state = NetRunState.For(env);
        var net = state.Environment;
        NetAddress saddr, daddr;
        ushort sport, dport;
        if (size == TupleV4Size)
        {
            saddr = NetAddress.FromBytes(NetFamily.Inet, tuple);
            daddr = NetAddress.FromBytes(NetFamily.Inet, tuple[4..]);
            sport = BinaryPrimitives.ReadUInt16BigEndian(tuple[8..]);
            dport = BinaryPrimitives.ReadUInt16BigEndian(tuple[10..]);
        }
        else
        {
            saddr = NetAddress.FromBytes(NetFamily.Inet6, tuple);
            daddr = NetAddress.FromBytes(NetFamily.Inet6, tuple[16..]);
            sport = BinaryPrimitives.ReadUInt16BigEndian(tuple[32..]);
            dport = BinaryPrimitives.ReadUInt16BigEndian(tuple[34..]);
        }

        int index = net.LookupSocket(tcp, saddr, sport, daddr, dport, (int)xdp.Context.IngressIfindex);
        if (index < 0)
        {
            return 0;
        }

        if (full)
        {
            // sk_to_full_sk(): a request socket stands for its listener; a time-wait socket is no full socket.
            var s = net.Sockets[index];
            if (s.State == NetSocketState.TimeWait)
            {
                return 0;
            }

            if (s.State == NetSocketState.NewSynRecv)
            {
                index = s.Listener is { } listener ? net.IndexOf(listener) : -1;
                if (index < 0)
                {
                    return 0;
                }
            }
        }

        net.WriteView(index);
        ulong view = net.ViewAddress(index);
        if (!env.IsReadable(view, NetEnvironment.SocketViewSize))
        {
            env.Regions.Add(net.SocketRegion(index));
        }

        state.Acquire(index);
        return view;
    }

    private static ulong Cast(ulong sk, RuntimeEnv env, Func<NetSocket, bool> accepts)
    {
        ArgumentNullException.ThrowIfNull(env);
        if (sk == 0)
        {
            return 0;
        }

        var net = NetRunState.For(env).Environment;
        int index = SocketArg(net, sk, "the bpf_skc_to_* cast");
        return accepts(net.Sockets[index]) ? sk : 0;
    }

    // The socket a pointer argument names, or a fault (the verifier accepts only socket pointers there).
    private static int SocketArg(NetEnvironment net, ulong pointer, string helper)
    {
        int index = net.FindSocketAt(pointer);
        if (index < 0)
        {
            throw new ExecutionFaultException(FaultKind.HelperFailed, $"{helper}: R1 is not a socket pointer (0x{pointer:x})");
        }

        return index;
    }

    private static ulong Jiffies(RuntimeEnv env) => TimeHelpers.Jiffies64(0, 0, 0, 0, 0, env);

    // tcp_synq_no_recent_overflow(): the last overflow (u32 jiffies) is not within [last - HZ, last + 2 minutes].
    private static bool NoRecentOverflow(NetSocket sk, uint now, int hz)
    {
        uint last = sk.LastSynOverflow;
        return !TimeBetween32(now, last - (uint)hz, last + (uint)(NetSyncookies.MaxSyncookieAge * 60 * hz));
    }

    // tcp_synq_overflow(): stamp the listener, at most once a second.
    private static void SynqOverflow(NetSocket sk, uint now, int hz)
    {
        uint last = sk.LastSynOverflow;
        if (!TimeBetween32(now, last, last + (uint)hz))
        {
            sk.LastSynOverflow = now;
        }
    }

    private static bool TimeBetween32(uint t, uint l, uint h) => h - l >= t - l;

    private static ulong Err(int errno) => unchecked((ulong)-errno);
}
