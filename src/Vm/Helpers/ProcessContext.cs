namespace VethXdp.Vm.Helpers;

/// <summary>The task a program runs in: what the process helpers (bpf_get_current_pid_tgid, bpf_get_current_comm,
/// the cgroup helpers, bpf_send_signal, ...) report and act on.</summary>
/// <remarks>
/// BPF_PROG_TEST_RUN runs an XDP program in the context of the process that called bpf(), so "current" is that
/// process. The VM models one such task with deterministic defaults instead of its own process: pid and tgid 0,
/// uid and gid 0 (root), comm "vethxdp", in the root cgroup (id 1) of the cgroup v2 hierarchy, net_cls classid 0,
/// in the initial pid namespace. docs/differences.md lists every value and why.
/// </remarks>
public sealed record ProcessContext
{
    /// <summary>TASK_COMM_LEN: the kernel's task name holds 15 characters and a NUL.</summary>
    public const int CommLength = 16;

    /// <summary>PROC_PID_INIT_INO: the inode number of the initial pid namespace (0xEFFFFFFC).</summary>
    public const ulong InitPidNamespaceInode = 0xEFFFFFFC;

    /// <summary>The defaults.</summary>
    public static ProcessContext Default { get; } = new();

    /// <summary>The thread id (the kernel's task->pid): the low 32 bits of bpf_get_current_pid_tgid. 0.</summary>
    public uint Pid { get; init; }

    /// <summary>The process id (task->tgid): the high 32 bits of bpf_get_current_pid_tgid. 0.</summary>
    public uint Tgid { get; init; }

    /// <summary>The user id in the initial user namespace: the low 32 bits of bpf_get_current_uid_gid. 0 (root).</summary>
    public uint Uid { get; init; }

    /// <summary>The group id: the high 32 bits of bpf_get_current_uid_gid. 0 (root).</summary>
    public uint Gid { get; init; }

    /// <summary>The task's name (task->comm): bpf_get_current_comm copies it, cut to 15 bytes of UTF-8. "vethxdp".</summary>
    public string Comm { get; init; } = "vethxdp";

    /// <summary>The cgroup v2 ids from the root (level 0) down to the task's own cgroup (the last): what
    /// bpf_get_current_cgroup_id and bpf_get_current_ancestor_cgroup_id return. [1]: the root cgroup, whose id is 1.</summary>
    public IReadOnlyList<ulong> CgroupPath { get; init; } = [1];

    /// <summary>The net_cls classid of the task's cgroup (bpf_get_cgroup_classid). 0: no net_cls controller, as on a
    /// cgroup v2 system.</summary>
    public uint CgroupClassid { get; init; }

    /// <summary>The device of the task's pid namespace (st_dev of /proc/self/ns/pid): 4, the nsfs device of the
    /// reference machine. bpf_get_ns_current_pid_tgid compares it with its dev argument.</summary>
    public ulong PidNamespaceDev { get; init; } = 4;

    /// <summary>The inode of the task's pid namespace (st_ino of /proc/self/ns/pid): the initial namespace's.</summary>
    public ulong PidNamespaceInode { get; init; } = InitPidNamespaceInode;

    /// <summary>True to model a kernel thread (PF_KTHREAD): bpf_send_signal then returns -EPERM. False.</summary>
    public bool IsKernelThread { get; init; }

    /// <summary>The task's own cgroup id (the last of <see cref="CgroupPath"/>; 0 when the path is empty).</summary>
    public ulong CgroupId => CgroupPath.Count == 0 ? 0 : CgroupPath[^1];
}
