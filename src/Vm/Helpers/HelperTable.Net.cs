namespace VethXdp.Vm.Helpers;

public sealed partial class HelperTable
{
    // The networking helpers: checksums, FIB and MTU, socket lookups and casts, SYN cookies, spin locks.
    static partial void RegisterNet(HelperTable table)
    {
        table.Register(28, "bpf_csum_diff", NetHelpers.CsumDiff);
        table.Register(69, "bpf_fib_lookup", NetHelpers.FibLookup);
        table.Register(163, "bpf_check_mtu", NetHelpers.CheckMtu);

        table.Register(84, "bpf_sk_lookup_tcp", NetSocketHelpers.SkLookupTcp);
        table.Register(85, "bpf_sk_lookup_udp", NetSocketHelpers.SkLookupUdp);
        table.Register(86, "bpf_sk_release", NetSocketHelpers.SkRelease);
        table.Register(99, "bpf_skc_lookup_tcp", NetSocketHelpers.SkcLookupTcp);
        table.Register(136, "bpf_skc_to_tcp6_sock", NetSocketHelpers.SkcToTcp6Sock);
        table.Register(137, "bpf_skc_to_tcp_sock", NetSocketHelpers.SkcToTcpSock);
        table.Register(138, "bpf_skc_to_tcp_timewait_sock", NetSocketHelpers.SkcToTcpTimewaitSock);
        table.Register(139, "bpf_skc_to_tcp_request_sock", NetSocketHelpers.SkcToTcpRequestSock);
        table.Register(140, "bpf_skc_to_udp6_sock", NetSocketHelpers.SkcToUdp6Sock);
        table.Register(178, "bpf_skc_to_unix_sock", NetSocketHelpers.SkcToUnixSock);
        table.Register(196, "bpf_skc_to_mptcp_sock", NetSocketHelpers.SkcToMptcpSock);

        table.Register(100, "bpf_tcp_check_syncookie", NetSocketHelpers.TcpCheckSyncookie);
        table.Register(110, "bpf_tcp_gen_syncookie", NetSocketHelpers.TcpGenSyncookie);
        table.Register(204, "bpf_tcp_raw_gen_syncookie_ipv4", NetSocketHelpers.TcpRawGenSyncookieIpv4);
        table.Register(205, "bpf_tcp_raw_gen_syncookie_ipv6", NetSocketHelpers.TcpRawGenSyncookieIpv6);
        table.Register(206, "bpf_tcp_raw_check_syncookie_ipv4", NetSocketHelpers.TcpRawCheckSyncookieIpv4);
        table.Register(207, "bpf_tcp_raw_check_syncookie_ipv6", NetSocketHelpers.TcpRawCheckSyncookieIpv6);

        table.Register(93, "bpf_spin_lock", NetSpinLockHelpers.SpinLock);
        table.Register(94, "bpf_spin_unlock", NetSpinLockHelpers.SpinUnlock);
    }
}
