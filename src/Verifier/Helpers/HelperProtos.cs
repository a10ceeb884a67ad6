using System.Globalization;
using System.Text;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;
using P = VethXdp.Verifier.Helpers.KernelProtos;

namespace VethXdp.Verifier.Helpers;

/// <summary>Which prototype the verifier checks a helper call against: <c>env-&gt;ops-&gt;get_func_proto</c> for XDP
/// (<c>xdp_func_proto</c>), socket filter (<c>sk_filter_func_proto</c>) and tc (<c>tc_cls_act_func_proto</c>, shared by
/// sched_cls and sched_act), each falling back to <c>bpf_sk_base_func_proto</c> and then <c>bpf_base_func_proto</c> as
/// Linux 6.18 does (net/core/filter.c, kernel/bpf/helpers.c).</summary>
/// <remarks>We verify as root: the CAP_BPF and CAP_PERFMON gates of the base sets are open, kernel lockdown is off,
/// and the kernel configuration options these functions test (CONFIG_INET, CONFIG_SYN_COOKIES, CONFIG_XFRM,
/// CONFIG_CGROUP_NET_CLASSID, CONFIG_SOCK_CGROUP_DATA, CONFIG_CGROUPS) are on, as on the reference machine. Lookups
/// return shared immutable objects and allocate nothing.</remarks>
public static class HelperProtos
{
    /// <summary>"invalid func %s#%d" (<c>check_helper_call()</c>, for an id outside the helper range; %s is
    /// <c>func_id_name()</c>, which is "unknown" there).</summary>
    public const string InvalidFuncMessage = "invalid func {0}#{1}";

    /// <summary>"program of this type cannot use helper %s#%d" (<c>check_helper_call()</c>).</summary>
    public const string CannotUseHelperMessage = "program of this type cannot use helper {0}#{1}";

    private static readonly CompositeFormat s_invalidFunc = CompositeFormat.Parse(InvalidFuncMessage);
    private static readonly CompositeFormat s_cannotUse = CompositeFormat.Parse(CannotUseHelperMessage);

    /// <summary>The prototype the kernel uses for helper <paramref name="id"/> in a program of type
    /// <paramref name="type"/>, or null when that program type may not call it.</summary>
    public static HelperProto? GetProto(ProgramType type, int id) =>
        Lookup(type, 0, id, out var proto) == HelperAvailability.Available ? proto : null;

    /// <summary>Mirrors <c>get_helper_proto()</c>: range check, then the program type's <c>get_func_proto</c>.</summary>
    /// <param name="type">The program type.</param>
    /// <param name="expectedAttachType">The program's expected_attach_type; none of the modelled types' helper sets
    /// depends on it in 6.18 (it matters for context access, not helpers), so it is accepted for symmetry.</param>
    /// <param name="id">The call's imm (helper id).</param>
    /// <param name="proto">The prototype when available, else null.</param>
    public static HelperAvailability Lookup(ProgramType type, uint expectedAttachType, int id, out HelperProto? proto)
    {
        _ = expectedAttachType;
        proto = null;

        // kernel: get_helper_proto(): func_id < 0 || func_id >= __BPF_FUNC_MAX_ID -> -ERANGE -> "invalid func".
        if ((uint)id >= (uint)HelperNames.Count)
        {
            return HelperAvailability.Unknown;
        }

        if (!IsModelled(type))
        {
            return HelperAvailability.ProgramTypeNotModelled;
        }

        proto = type switch
        {
            ProgramType.Xdp => XdpFuncProto(id),
            ProgramType.SocketFilter => SkFilterFuncProto(id),
            _ => TcClsActFuncProto(id),
        };
        return proto is null ? HelperAvailability.NotForThisProgramType : HelperAvailability.Available;
    }

    /// <summary>True for the program types whose helper sets are modelled: xdp, socket_filter, sched_cls, sched_act.</summary>
    public static bool IsModelled(ProgramType type) =>
        type is ProgramType.Xdp or ProgramType.SocketFilter or ProgramType.SchedCls or ProgramType.SchedAct;

    /// <summary>The kernel's message for a refused helper id: "program of this type cannot use helper bpf_redirect#23"
    /// or "invalid func unknown#212"; null for <see cref="HelperAvailability.Available"/>.</summary>
    public static string? Message(HelperAvailability availability, int id) => availability switch
    {
        HelperAvailability.Available => null,
        HelperAvailability.Unknown => string.Format(CultureInfo.InvariantCulture, s_invalidFunc, HelperNames.Name(id) ?? "unknown", id),
        HelperAvailability.NotForThisProgramType => string.Format(CultureInfo.InvariantCulture, s_cannotUse, HelperNames.Name(id), id),
        _ => $"program type not supported by the verifier: cannot check helper {HelperNames.Name(id)}#{id}",
    };

    /// <summary>Every helper id a program of <paramref name="type"/> may call, ascending.</summary>
    public static int[] AvailableIds(ProgramType type)
    {
        var ids = new List<int>();
        for (int id = 0; id < HelperNames.Count; id++)
        {
            if (GetProto(type, id) is not null)
            {
                ids.Add(id);
            }
        }

        return [.. ids];
    }

    /// <summary><c>bpf_helper_changes_pkt_data()</c> (net/core/filter.c): after a call to one of these helpers every
    /// packet pointer is invalid (<c>clear_all_pkt_pointers</c>).</summary>
    public static bool ChangesPktData(int id) => id switch
    {
        9 or 10 or 11 or 13 or 18 or 19 or 31 or 38 or 39 or 43 or 50 => true,   // skb store, csum, clone_redirect, vlan, change_*, pull, adjust_room
        44 or 54 or 65 => true,                                                   // xdp_adjust_head/meta/tail
        63 or 90 or 91 => true,                                                   // msg_pull/push/pop_data
        73 or 74 or 75 or 76 => true,                                             // lwt_push_encap, lwt_seg6_*
        143 => true,                                                              // store_hdr_opt
        12 => true,                                                               // tail_call: the callee may change it (6.13+)
        _ => false,
    };

    // kernel: xdp_func_proto() (net/core/filter.c)
    private static HelperProto? XdpFuncProto(int id) => id switch
    {
        25 => P.XdpEventOutput,
        8 => P.GetSmpProcessorId,
        28 => P.CsumDiff,
        44 => P.XdpAdjustHead,
        54 => P.XdpAdjustMeta,
        23 => P.XdpRedirect,
        51 => P.XdpRedirectMap,
        65 => P.XdpAdjustTail,
        188 => P.XdpGetBuffLen,
        189 => P.XdpLoadBytes,
        190 => P.XdpStoreBytes,
        69 => P.XdpFibLookup,
        163 => P.XdpCheckMtu,
        85 => P.XdpSkLookupUdp,
        84 => P.XdpSkLookupTcp,
        86 => P.SkRelease,
        99 => P.XdpSkcLookupTcp,
        100 => P.TcpCheckSyncookie,
        110 => P.TcpGenSyncookie,
        204 => P.TcpRawGenSyncookieIpv4,
        205 => P.TcpRawGenSyncookieIpv6,
        206 => P.TcpRawCheckSyncookieIpv4,
        207 => P.TcpRawCheckSyncookieIpv6,
        _ => SkBaseFuncProto(id),
    };

    // kernel: sk_filter_func_proto() (net/core/filter.c)
    private static HelperProto? SkFilterFuncProto(int id) => id switch
    {
        26 => P.SkbLoadBytes,
        68 => P.SkbLoadBytesRelative,
        46 => P.GetSocketCookie,
        47 => P.GetSocketUid,
        25 => P.SkbEventOutput,
        122 => P.GetNetnsCookie,       // later than the mirror we read; confirmed against the running 6.18 kernel
        _ => SkBaseFuncProto(id),
    };

    // kernel: tc_cls_act_func_proto() (net/core/filter.c)
    private static HelperProto? TcClsActFuncProto(int id) => id switch
    {
        9 => P.SkbStoreBytes,
        26 => P.SkbLoadBytes,
        68 => P.SkbLoadBytesRelative,
        39 => P.SkbPullData,
        28 => P.CsumDiff,
        40 => P.CsumUpdate,
        135 => P.CsumLevel,
        10 => P.L3CsumReplace,
        11 => P.L4CsumReplace,
        13 => P.CloneRedirect,
        17 => P.GetCgroupClassid,
        18 => P.SkbVlanPush,
        19 => P.SkbVlanPop,
        31 => P.SkbChangeProto,
        32 => P.SkbChangeType,
        50 => P.SkbAdjustRoom,
        38 => P.SkbChangeTail,
        43 => P.SkbChangeHead,
        20 => P.SkbGetTunnelKey,
        21 => P.SkbSetTunnelKey,       // bpf_get_skb_set_tunnel_proto()
        29 => P.SkbGetTunnelOpt,
        30 => P.SkbSetTunnelOpt,       // bpf_get_skb_set_tunnel_proto()
        23 => P.Redirect,
        152 => P.RedirectNeigh,
        155 => P.RedirectPeer,
        24 => P.GetRouteRealm,
        34 => P.GetHashRecalc,
        41 => P.SetHashInvalid,
        48 => P.SetHash,
        25 => P.SkbEventOutput,
        8 => P.GetSmpProcessorId,
        33 => P.SkbUnderCgroup,
        46 => P.GetSocketCookie,
        47 => P.GetSocketUid,
        122 => P.GetNetnsCookie,       // confirmed against the running 6.18 kernel
        69 => P.SkbFibLookup,
        163 => P.SkbCheckMtu,
        95 => P.SkFullsock,
        107 => P.SkStorageGet,
        108 => P.SkStorageDelete,
        66 => P.SkbGetXfrmState,       // CONFIG_XFRM
        151 => P.SkbCgroupClassid,     // CONFIG_CGROUP_NET_CLASSID
        79 => P.SkbCgroupId,           // CONFIG_SOCK_CGROUP_DATA
        83 => P.SkbAncestorCgroupId,
        84 => P.TcSkLookupTcp,         // CONFIG_INET
        85 => P.TcSkLookupUdp,
        86 => P.SkRelease,
        96 => P.TcpSock,
        98 => P.GetListenerSock,
        99 => P.TcSkcLookupTcp,
        100 => P.TcpCheckSyncookie,
        97 => P.SkbEcnSetCe,
        110 => P.TcpGenSyncookie,
        124 => P.SkAssign,
        192 => P.SkbSetTstamp,
        204 => P.TcpRawGenSyncookieIpv4,  // CONFIG_SYN_COOKIES
        205 => P.TcpRawGenSyncookieIpv6,
        206 => P.TcpRawCheckSyncookieIpv4,
        207 => P.TcpRawCheckSyncookieIpv6,
        _ => SkBaseFuncProto(id),
    };

    // kernel: bpf_sk_base_func_proto() (net/core/filter.c); the skc_to_* casts sit behind CAP_PERFMON (granted).
    private static HelperProto? SkBaseFuncProto(int id) => id switch
    {
        136 => P.SkcToTcp6Sock,
        137 => P.SkcToTcpSock,
        138 => P.SkcToTcpTimewaitSock,
        139 => P.SkcToTcpRequestSock,
        140 => P.SkcToUdp6Sock,
        178 => P.SkcToUnixSock,
        196 => P.SkcToMptcpSock,
        160 => P.KtimeGetCoarseNs,
        _ => BaseFuncProto(id),
    };

    // kernel: bpf_base_func_proto() (kernel/bpf/helpers.c): unprivileged set, then CAP_BPF, then CAP_PERFMON.
    private static HelperProto? BaseFuncProto(int id) => id switch
    {
        1 => P.MapLookupElem,
        2 => P.MapUpdateElem,
        3 => P.MapDeleteElem,
        87 => P.MapPushElem,
        88 => P.MapPopElem,
        89 => P.MapPeekElem,
        195 => P.MapLookupPercpuElem,
        7 => P.GetPrandomU32,
        8 => P.GetRawSmpProcessorId,
        42 => P.GetNumaNodeId,
        12 => P.TailCall,
        5 => P.KtimeGetNs,
        125 => P.KtimeGetBootNs,
        208 => P.KtimeGetTaiNs,
        130 => P.RingbufOutput,
        131 => P.RingbufReserve,
        132 => P.RingbufSubmit,
        133 => P.RingbufDiscard,
        134 => P.RingbufQuery,
        182 => P.Strncmp,
        105 => P.Strtol,
        106 => P.Strtoul,
        14 => P.GetCurrentPidTgid,
        120 => P.GetNsCurrentPidTgid,
        15 => P.GetCurrentUidGid,

        // CAP_BPF
        93 => P.SpinLock,
        94 => P.SpinUnlock,
        118 => P.Jiffies64,
        153 => P.PerCpuPtr,
        154 => P.ThisCpuPtr,
        169 => P.TimerInit,
        170 => P.TimerSetCallback,
        171 => P.TimerStart,
        172 => P.TimerCancel,
        194 => P.KptrXchg,
        164 => P.ForEachMapElem,
        181 => P.Loop,
        209 => P.UserRingbufDrain,
        198 => P.RingbufReserveDynptr,
        199 => P.RingbufSubmitDynptr,
        200 => P.RingbufDiscardDynptr,
        197 => P.DynptrFromMem,
        201 => P.DynptrRead,
        202 => P.DynptrWrite,
        203 => P.DynptrData,
        210 => P.CgrpStorageGet,
        211 => P.CgrpStorageDelete,
        80 => P.GetCurrentCgroupId,
        123 => P.GetCurrentAncestorCgroupId,
        37 => P.CurrentTaskUnderCgroup,
        17 => P.GetCgroupClassidCurr,
        156 => P.TaskStorageGet,
        157 => P.TaskStorageDelete,

        // CAP_PERFMON
        6 => P.TracePrintk,
        35 => P.GetCurrentTask,
        158 => P.GetCurrentTaskBtf,
        16 => P.GetCurrentComm,
        112 => P.ProbeReadUser,
        113 => P.ProbeReadKernel,
        114 => P.ProbeReadUserStr,
        115 => P.ProbeReadKernelStr,
        148 => P.CopyFromUser,
        191 => P.CopyFromUserTask,
        149 => P.SnprintfBtf,
        165 => P.Snprintf,
        175 => P.TaskPtRegs,
        177 => P.TraceVprintk,
        55 => P.PerfEventReadValue,
        22 => P.PerfEventRead,
        109 => P.SendSignal,
        117 => P.SendSignalThread,
        141 => P.GetTaskStack,
        176 => P.GetBranchSnapshot,
        180 => P.FindVma,
        _ => null,
    };
}
