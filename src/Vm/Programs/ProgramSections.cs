namespace VethXdp.Vm.Programs;

/// <summary>What a program's ELF section name says, as libbpf reads it.</summary>
/// <param name="SectionName">The section name without a leading '?'.</param>
/// <param name="Type">The program type; <see cref="ProgramType.Unspec"/> when no definition matches (libbpf opens
/// such objects too, and leaves the type to the user).</param>
/// <param name="ExpectedAttachType">The expected attach type (0 where libbpf gives none).</param>
/// <param name="Frags">True for <c>xdp.frags</c> sections (BPF_F_XDP_HAS_FRAGS).</param>
/// <param name="Sleepable">True for sleepable sections (<c>*.s</c>, <c>syscall</c>).</param>
/// <param name="AutoLoad">False when the name starts with '?'.</param>
/// <param name="Definition">The libbpf SEC_DEF that matched (<c>xdp</c>, <c>tracepoint+</c>, ...), or null.</param>
public sealed record ProgramSectionInfo(
    string SectionName,
    ProgramType Type,
    AttachType ExpectedAttachType,
    bool Frags,
    bool Sleepable,
    bool AutoLoad,
    string? Definition);

/// <summary>libbpf's section_defs table (tools/lib/bpf/libbpf.c, libbpf 1.6, the one that ships with Linux 6.18)
/// and its matching rules.</summary>
/// <remarks>
/// <para>Rules (sec_def_matches): a definition ending in <c>/</c> matches names with that prefix; one ending in
/// <c>+</c> matches the bare name or the name followed by <c>/</c> and anything; any other matches exactly. The
/// first matching definition wins. A leading <c>?</c> only clears <see cref="ProgramSectionInfo.AutoLoad"/>.</para>
/// <para>When nothing matches, the prefixes libbpf 0.x accepted without a separator (SEC_SLOPPY_PFX:
/// <c>xdp_prog</c> as XDP, <c>classifier_x</c> as SCHED_CLS, <c>xdp_devmap/</c>, ...) are tried, because many
/// published objects were built for it; libbpf 1.x would leave those programs without a type.</para>
/// </remarks>
public static class ProgramSections
{
    private const byte None = 0, Frags = 1, Sleepable = 2;

    private static readonly (string Def, ProgramType Type, AttachType Attach, byte Flags)[] s_defs =
    [
        ("socket", ProgramType.SocketFilter, 0, None),
        ("sk_reuseport/migrate", ProgramType.SkReuseport, AttachType.SkReuseportSelectOrMigrate, None),
        ("sk_reuseport", ProgramType.SkReuseport, AttachType.SkReuseportSelect, None),
        ("kprobe+", ProgramType.Kprobe, 0, None),
        ("uprobe+", ProgramType.Kprobe, 0, None),
        ("uprobe.s+", ProgramType.Kprobe, 0, Sleepable),
        ("kretprobe+", ProgramType.Kprobe, 0, None),
        ("uretprobe+", ProgramType.Kprobe, 0, None),
        ("uretprobe.s+", ProgramType.Kprobe, 0, Sleepable),
        ("kprobe.multi+", ProgramType.Kprobe, AttachType.TraceKprobeMulti, None),
        ("kretprobe.multi+", ProgramType.Kprobe, AttachType.TraceKprobeMulti, None),
        ("kprobe.session+", ProgramType.Kprobe, AttachType.TraceKprobeSession, None),
        ("uprobe.multi+", ProgramType.Kprobe, AttachType.TraceUprobeMulti, None),
        ("uretprobe.multi+", ProgramType.Kprobe, AttachType.TraceUprobeMulti, None),
        ("uprobe.session+", ProgramType.Kprobe, AttachType.TraceUprobeSession, None),
        ("uprobe.multi.s+", ProgramType.Kprobe, AttachType.TraceUprobeMulti, Sleepable),
        ("uretprobe.multi.s+", ProgramType.Kprobe, AttachType.TraceUprobeMulti, Sleepable),
        ("uprobe.session.s+", ProgramType.Kprobe, AttachType.TraceUprobeSession, Sleepable),
        ("ksyscall+", ProgramType.Kprobe, 0, None),
        ("kretsyscall+", ProgramType.Kprobe, 0, None),
        ("usdt+", ProgramType.Kprobe, 0, None),
        ("usdt.s+", ProgramType.Kprobe, 0, Sleepable),
        ("tc/ingress", ProgramType.SchedCls, AttachType.TcxIngress, None),
        ("tc/egress", ProgramType.SchedCls, AttachType.TcxEgress, None),
        ("tcx/ingress", ProgramType.SchedCls, AttachType.TcxIngress, None),
        ("tcx/egress", ProgramType.SchedCls, AttachType.TcxEgress, None),
        ("tc", ProgramType.SchedCls, 0, None),
        ("classifier", ProgramType.SchedCls, 0, None),
        ("action", ProgramType.SchedAct, 0, None),
        ("netkit/primary", ProgramType.SchedCls, AttachType.NetkitPrimary, None),
        ("netkit/peer", ProgramType.SchedCls, AttachType.NetkitPeer, None),
        ("tracepoint+", ProgramType.Tracepoint, 0, None),
        ("tp+", ProgramType.Tracepoint, 0, None),
        ("raw_tracepoint+", ProgramType.RawTracepoint, 0, None),
        ("raw_tp+", ProgramType.RawTracepoint, 0, None),
        ("raw_tracepoint.w+", ProgramType.RawTracepointWritable, 0, None),
        ("raw_tp.w+", ProgramType.RawTracepointWritable, 0, None),
        ("tp_btf+", ProgramType.Tracing, AttachType.TraceRawTp, None),
        ("fentry+", ProgramType.Tracing, AttachType.TraceFentry, None),
        ("fmod_ret+", ProgramType.Tracing, AttachType.ModifyReturn, None),
        ("fexit+", ProgramType.Tracing, AttachType.TraceFexit, None),
        ("fentry.s+", ProgramType.Tracing, AttachType.TraceFentry, Sleepable),
        ("fmod_ret.s+", ProgramType.Tracing, AttachType.ModifyReturn, Sleepable),
        ("fexit.s+", ProgramType.Tracing, AttachType.TraceFexit, Sleepable),
        ("freplace+", ProgramType.Ext, 0, None),
        ("lsm+", ProgramType.Lsm, AttachType.LsmMac, None),
        ("lsm.s+", ProgramType.Lsm, AttachType.LsmMac, Sleepable),
        ("lsm_cgroup+", ProgramType.Lsm, AttachType.LsmCgroup, None),
        ("iter+", ProgramType.Tracing, AttachType.TraceIter, None),
        ("iter.s+", ProgramType.Tracing, AttachType.TraceIter, Sleepable),
        ("syscall", ProgramType.Syscall, 0, Sleepable),
        ("xdp.frags/devmap", ProgramType.Xdp, AttachType.XdpDevmap, Frags),
        ("xdp/devmap", ProgramType.Xdp, AttachType.XdpDevmap, None),
        ("xdp.frags/cpumap", ProgramType.Xdp, AttachType.XdpCpumap, Frags),
        ("xdp/cpumap", ProgramType.Xdp, AttachType.XdpCpumap, None),
        ("xdp.frags", ProgramType.Xdp, AttachType.Xdp, Frags),
        ("xdp", ProgramType.Xdp, AttachType.Xdp, None),
        ("perf_event", ProgramType.PerfEvent, 0, None),
        ("lwt_in", ProgramType.LwtIn, 0, None),
        ("lwt_out", ProgramType.LwtOut, 0, None),
        ("lwt_xmit", ProgramType.LwtXmit, 0, None),
        ("lwt_seg6local", ProgramType.LwtSeg6local, 0, None),
        ("sockops", ProgramType.SockOps, AttachType.CgroupSockOps, None),
        ("sk_skb/stream_parser", ProgramType.SkSkb, AttachType.SkSkbStreamParser, None),
        ("sk_skb/stream_verdict", ProgramType.SkSkb, AttachType.SkSkbStreamVerdict, None),
        ("sk_skb/verdict", ProgramType.SkSkb, AttachType.SkSkbVerdict, None),
        ("sk_skb", ProgramType.SkSkb, 0, None),
        ("sk_msg", ProgramType.SkMsg, AttachType.SkMsgVerdict, None),
        ("lirc_mode2", ProgramType.LircMode2, AttachType.LircMode2, None),
        ("flow_dissector", ProgramType.FlowDissector, AttachType.FlowDissector, None),
        ("cgroup_skb/ingress", ProgramType.CgroupSkb, AttachType.CgroupInetIngress, None),
        ("cgroup_skb/egress", ProgramType.CgroupSkb, AttachType.CgroupInetEgress, None),
        ("cgroup/skb", ProgramType.CgroupSkb, 0, None),
        ("cgroup/sock_create", ProgramType.CgroupSock, AttachType.CgroupInetSockCreate, None),
        ("cgroup/sock_release", ProgramType.CgroupSock, AttachType.CgroupInetSockRelease, None),
        ("cgroup/sock", ProgramType.CgroupSock, AttachType.CgroupInetSockCreate, None),
        ("cgroup/post_bind4", ProgramType.CgroupSock, AttachType.CgroupInet4PostBind, None),
        ("cgroup/post_bind6", ProgramType.CgroupSock, AttachType.CgroupInet6PostBind, None),
        ("cgroup/bind4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4Bind, None),
        ("cgroup/bind6", ProgramType.CgroupSockAddr, AttachType.CgroupInet6Bind, None),
        ("cgroup/connect4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4Connect, None),
        ("cgroup/connect6", ProgramType.CgroupSockAddr, AttachType.CgroupInet6Connect, None),
        ("cgroup/connect_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixConnect, None),
        ("cgroup/sendmsg4", ProgramType.CgroupSockAddr, AttachType.CgroupUdp4Sendmsg, None),
        ("cgroup/sendmsg6", ProgramType.CgroupSockAddr, AttachType.CgroupUdp6Sendmsg, None),
        ("cgroup/sendmsg_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixSendmsg, None),
        ("cgroup/recvmsg4", ProgramType.CgroupSockAddr, AttachType.CgroupUdp4Recvmsg, None),
        ("cgroup/recvmsg6", ProgramType.CgroupSockAddr, AttachType.CgroupUdp6Recvmsg, None),
        ("cgroup/recvmsg_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixRecvmsg, None),
        ("cgroup/getpeername4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4Getpeername, None),
        ("cgroup/getpeername6", ProgramType.CgroupSockAddr, AttachType.CgroupInet6Getpeername, None),
        ("cgroup/getpeername_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixGetpeername, None),
        ("cgroup/getsockname4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4Getsockname, None),
        ("cgroup/getsockname6", ProgramType.CgroupSockAddr, AttachType.CgroupInet6Getsockname, None),
        ("cgroup/getsockname_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixGetsockname, None),
        ("cgroup/sysctl", ProgramType.CgroupSysctl, AttachType.CgroupSysctl, None),
        ("cgroup/getsockopt", ProgramType.CgroupSockopt, AttachType.CgroupGetsockopt, None),
        ("cgroup/setsockopt", ProgramType.CgroupSockopt, AttachType.CgroupSetsockopt, None),
        ("cgroup/dev", ProgramType.CgroupDevice, AttachType.CgroupDevice, None),
        ("struct_ops+", ProgramType.StructOps, 0, None),
        ("struct_ops.s+", ProgramType.StructOps, 0, Sleepable),
        ("sk_lookup", ProgramType.SkLookup, AttachType.SkLookup, None),
        ("netfilter", ProgramType.Netfilter, AttachType.Netfilter, None),
    ];

    // libbpf 0.x (before strict section names): "xdp_devmap/" and "xdp_cpumap/" definitions, then the
    // SEC_SLOPPY_PFX definitions matched as bare prefixes, in that table's order.
    private static readonly (string Prefix, ProgramType Type, AttachType Attach)[] s_legacy =
    [
        ("xdp_devmap/", ProgramType.Xdp, AttachType.XdpDevmap),
        ("xdp_cpumap/", ProgramType.Xdp, AttachType.XdpCpumap),
        ("socket", ProgramType.SocketFilter, 0),
        ("sk_reuseport/migrate", ProgramType.SkReuseport, AttachType.SkReuseportSelectOrMigrate),
        ("sk_reuseport", ProgramType.SkReuseport, AttachType.SkReuseportSelect),
        ("classifier", ProgramType.SchedCls, 0),
        ("action", ProgramType.SchedAct, 0),
        ("xdp", ProgramType.Xdp, AttachType.Xdp),
        ("perf_event", ProgramType.PerfEvent, 0),
        ("lwt_in", ProgramType.LwtIn, 0),
        ("lwt_out", ProgramType.LwtOut, 0),
        ("lwt_xmit", ProgramType.LwtXmit, 0),
        ("lwt_seg6local", ProgramType.LwtSeg6local, 0),
        ("cgroup_skb/ingress", ProgramType.CgroupSkb, AttachType.CgroupInetIngress),
        ("cgroup_skb/egress", ProgramType.CgroupSkb, AttachType.CgroupInetEgress),
        ("cgroup/skb", ProgramType.CgroupSkb, 0),
        ("cgroup/sock", ProgramType.CgroupSock, AttachType.CgroupInetSockCreate),
        ("sockops", ProgramType.SockOps, AttachType.CgroupSockOps),
        ("sk_skb/stream_parser", ProgramType.SkSkb, AttachType.SkSkbStreamParser),
        ("sk_skb/stream_verdict", ProgramType.SkSkb, AttachType.SkSkbStreamVerdict),
        ("sk_skb", ProgramType.SkSkb, 0),
        ("sk_msg", ProgramType.SkMsg, AttachType.SkMsgVerdict),
        ("lirc_mode2", ProgramType.LircMode2, AttachType.LircMode2),
        ("flow_dissector", ProgramType.FlowDissector, AttachType.FlowDissector),
        ("cgroup/dev", ProgramType.CgroupDevice, AttachType.CgroupDevice),
    ];

    /// <summary>Reads a program section name.</summary>
    /// <param name="sectionName">The ELF section name, possibly starting with '?'.</param>
    public static ProgramSectionInfo Parse(string sectionName)
    {
        ArgumentNullException.ThrowIfNull(sectionName);
        bool autoLoad = true;
        string name = sectionName;
        if (name.StartsWith('?'))
        {
            autoLoad = false;
            name = name[1..];
        }

        foreach (var d in s_defs)
        {
            if (Matches(d.Def, name))
            {
                return new ProgramSectionInfo(name, d.Type, d.Attach, (d.Flags & Frags) != 0, (d.Flags & Sleepable) != 0, autoLoad, d.Def);
            }
        }

        foreach (var l in s_legacy)
        {
            if (name.StartsWith(l.Prefix, StringComparison.Ordinal))
            {
                return new ProgramSectionInfo(name, l.Type, l.Attach, false, false, autoLoad, l.Prefix);
            }
        }

        return new ProgramSectionInfo(name, ProgramType.Unspec, 0, false, false, autoLoad, null);
    }

    // kernel: libbpf.c sec_def_matches()
    private static bool Matches(string def, string name)
    {
        if (def[^1] == '/')
        {
            return name.StartsWith(def, StringComparison.Ordinal);
        }

        if (def[^1] == '+')
        {
            var stem = def.AsSpan(0, def.Length - 1);
            return name.AsSpan().StartsWith(stem, StringComparison.Ordinal)
                && (name.Length == stem.Length || name[stem.Length] == '/');
        }

        return name == def;
    }
}
