namespace VethXdp.Vm.Helpers;

/// <summary>Who implements a group of helpers.</summary>
public enum HelperGroup
{
    /// <summary>Maps, time, CPU, printing, memory probes, strings, callbacks, tail calls, XDP packet helpers,
    /// redirects, ring buffers and perf events (HelperTable.Core.cs and the files it names).</summary>
    Core,
    /// <summary>Networking: checksums, FIB and MTU, socket lookups and casts, syncookies, spin locks (Net*.cs).</summary>
    Net,
    /// <summary>Dynamic pointers (Dynptr*.cs).</summary>
    Dynptr,
    /// <summary>The current task, its cgroups, signals and storage: BPF_PROG_TEST_RUN runs in the calling process.</summary>
    Process,
    /// <summary>BPF timers.</summary>
    Timer,
    /// <summary>Per-CPU kernel pointers, kptrs, BTF printing, branch records, user ring buffers.</summary>
    Other,
}

/// <summary>One helper an XDP program may call.</summary>
/// <param name="Id">The helper id (enum bpf_func_id).</param>
/// <param name="Name">The kernel's name for it.</param>
/// <param name="Group">Who implements it.</param>
public readonly record struct XdpHelperInfo(int Id, string Name, HelperGroup Group);

/// <summary>Every helper Linux 6.18 lets an XDP program call: what <c>xdp_func_proto()</c> grants, then
/// <c>bpf_sk_base_func_proto()</c>, then <c>bpf_base_func_proto()</c> (net/core/filter.c, kernel/bpf/helpers.c), for a
/// loader with CAP_BPF and CAP_PERFMON (root), as this VM loads.</summary>
/// <remarks>Taken from the running 6.18 kernel: for every id 1-211 a program <c>r1..r5 = 0; call id; exit</c> was
/// loaded as BPF_PROG_TYPE_XDP; these 104 ids are the ones the verifier did not refuse with "program of this type
/// cannot use helper". <see cref="HelperTable.CreateDefault"/> is to register every one of them.</remarks>
public static class XdpHelperSet
{
    private static readonly XdpHelperInfo[] s_entries =
    [
        new(1, "bpf_map_lookup_elem", HelperGroup.Core),
        new(2, "bpf_map_update_elem", HelperGroup.Core),
        new(3, "bpf_map_delete_elem", HelperGroup.Core),
        new(5, "bpf_ktime_get_ns", HelperGroup.Core),
        new(6, "bpf_trace_printk", HelperGroup.Core),
        new(7, "bpf_get_prandom_u32", HelperGroup.Core),
        new(8, "bpf_get_smp_processor_id", HelperGroup.Core),
        new(12, "bpf_tail_call", HelperGroup.Core),
        new(14, "bpf_get_current_pid_tgid", HelperGroup.Process),
        new(15, "bpf_get_current_uid_gid", HelperGroup.Process),
        new(16, "bpf_get_current_comm", HelperGroup.Process),
        new(17, "bpf_get_cgroup_classid", HelperGroup.Process),
        new(22, "bpf_perf_event_read", HelperGroup.Core),
        new(23, "bpf_redirect", HelperGroup.Core),
        new(25, "bpf_perf_event_output", HelperGroup.Core),
        new(28, "bpf_csum_diff", HelperGroup.Net),
        new(35, "bpf_get_current_task", HelperGroup.Process),
        new(37, "bpf_current_task_under_cgroup", HelperGroup.Process),
        new(42, "bpf_get_numa_node_id", HelperGroup.Core),
        new(44, "bpf_xdp_adjust_head", HelperGroup.Core),
        new(51, "bpf_redirect_map", HelperGroup.Core),
        new(54, "bpf_xdp_adjust_meta", HelperGroup.Core),
        new(55, "bpf_perf_event_read_value", HelperGroup.Core),
        new(65, "bpf_xdp_adjust_tail", HelperGroup.Core),
        new(69, "bpf_fib_lookup", HelperGroup.Net),
        new(80, "bpf_get_current_cgroup_id", HelperGroup.Process),
        new(84, "bpf_sk_lookup_tcp", HelperGroup.Net),
        new(85, "bpf_sk_lookup_udp", HelperGroup.Net),
        new(86, "bpf_sk_release", HelperGroup.Net),
        new(87, "bpf_map_push_elem", HelperGroup.Core),
        new(88, "bpf_map_pop_elem", HelperGroup.Core),
        new(89, "bpf_map_peek_elem", HelperGroup.Core),
        new(93, "bpf_spin_lock", HelperGroup.Net),
        new(94, "bpf_spin_unlock", HelperGroup.Net),
        new(99, "bpf_skc_lookup_tcp", HelperGroup.Net),
        new(100, "bpf_tcp_check_syncookie", HelperGroup.Net),
        new(105, "bpf_strtol", HelperGroup.Core),
        new(106, "bpf_strtoul", HelperGroup.Core),
        new(109, "bpf_send_signal", HelperGroup.Process),
        new(110, "bpf_tcp_gen_syncookie", HelperGroup.Net),
        new(112, "bpf_probe_read_user", HelperGroup.Core),
        new(113, "bpf_probe_read_kernel", HelperGroup.Core),
        new(114, "bpf_probe_read_user_str", HelperGroup.Core),
        new(115, "bpf_probe_read_kernel_str", HelperGroup.Core),
        new(117, "bpf_send_signal_thread", HelperGroup.Process),
        new(118, "bpf_jiffies64", HelperGroup.Core),
        new(120, "bpf_get_ns_current_pid_tgid", HelperGroup.Process),
        new(123, "bpf_get_current_ancestor_cgroup_id", HelperGroup.Process),
        new(125, "bpf_ktime_get_boot_ns", HelperGroup.Core),
        new(130, "bpf_ringbuf_output", HelperGroup.Core),
        new(131, "bpf_ringbuf_reserve", HelperGroup.Core),
        new(132, "bpf_ringbuf_submit", HelperGroup.Core),
        new(133, "bpf_ringbuf_discard", HelperGroup.Core),
        new(134, "bpf_ringbuf_query", HelperGroup.Core),
        new(136, "bpf_skc_to_tcp6_sock", HelperGroup.Net),
        new(137, "bpf_skc_to_tcp_sock", HelperGroup.Net),
        new(138, "bpf_skc_to_tcp_timewait_sock", HelperGroup.Net),
        new(139, "bpf_skc_to_tcp_request_sock", HelperGroup.Net),
        new(140, "bpf_skc_to_udp6_sock", HelperGroup.Net),
        new(141, "bpf_get_task_stack", HelperGroup.Process),
        new(148, "bpf_copy_from_user", HelperGroup.Process),
        new(149, "bpf_snprintf_btf", HelperGroup.Other),
        new(153, "bpf_per_cpu_ptr", HelperGroup.Other),
        new(154, "bpf_this_cpu_ptr", HelperGroup.Other),
        new(156, "bpf_task_storage_get", HelperGroup.Process),
        new(157, "bpf_task_storage_delete", HelperGroup.Process),
        new(158, "bpf_get_current_task_btf", HelperGroup.Process),
        new(160, "bpf_ktime_get_coarse_ns", HelperGroup.Core),
        new(163, "bpf_check_mtu", HelperGroup.Net),
        new(164, "bpf_for_each_map_elem", HelperGroup.Core),
        new(165, "bpf_snprintf", HelperGroup.Core),
        new(169, "bpf_timer_init", HelperGroup.Timer),
        new(170, "bpf_timer_set_callback", HelperGroup.Timer),
        new(171, "bpf_timer_start", HelperGroup.Timer),
        new(172, "bpf_timer_cancel", HelperGroup.Timer),
        new(175, "bpf_task_pt_regs", HelperGroup.Process),
        new(176, "bpf_get_branch_snapshot", HelperGroup.Other),
        new(177, "bpf_trace_vprintk", HelperGroup.Core),
        new(178, "bpf_skc_to_unix_sock", HelperGroup.Net),
        new(180, "bpf_find_vma", HelperGroup.Process),
        new(181, "bpf_loop", HelperGroup.Core),
        new(182, "bpf_strncmp", HelperGroup.Core),
        new(188, "bpf_xdp_get_buff_len", HelperGroup.Core),
        new(189, "bpf_xdp_load_bytes", HelperGroup.Core),
        new(190, "bpf_xdp_store_bytes", HelperGroup.Core),
        new(191, "bpf_copy_from_user_task", HelperGroup.Process),
        new(194, "bpf_kptr_xchg", HelperGroup.Other),
        new(195, "bpf_map_lookup_percpu_elem", HelperGroup.Core),
        new(196, "bpf_skc_to_mptcp_sock", HelperGroup.Net),
        new(197, "bpf_dynptr_from_mem", HelperGroup.Dynptr),
        new(198, "bpf_ringbuf_reserve_dynptr", HelperGroup.Dynptr),
        new(199, "bpf_ringbuf_submit_dynptr", HelperGroup.Dynptr),
        new(200, "bpf_ringbuf_discard_dynptr", HelperGroup.Dynptr),
        new(201, "bpf_dynptr_read", HelperGroup.Dynptr),
        new(202, "bpf_dynptr_write", HelperGroup.Dynptr),
        new(203, "bpf_dynptr_data", HelperGroup.Dynptr),
        new(204, "bpf_tcp_raw_gen_syncookie_ipv4", HelperGroup.Net),
        new(205, "bpf_tcp_raw_gen_syncookie_ipv6", HelperGroup.Net),
        new(206, "bpf_tcp_raw_check_syncookie_ipv4", HelperGroup.Net),
        new(207, "bpf_tcp_raw_check_syncookie_ipv6", HelperGroup.Net),
        new(208, "bpf_ktime_get_tai_ns", HelperGroup.Core),
        new(209, "bpf_user_ringbuf_drain", HelperGroup.Other),
        new(210, "bpf_cgrp_storage_get", HelperGroup.Process),
        new(211, "bpf_cgrp_storage_delete", HelperGroup.Process),    ];

    /// <summary>The helpers, by ascending id.</summary>
    public static IReadOnlyList<XdpHelperInfo> Entries => s_entries;

    /// <summary>True when an XDP program may call helper <paramref name="id"/>.</summary>
    public static bool Contains(int id) => Array.FindIndex(s_entries, e => e.Id == id) >= 0;
}
