using System.Buffers.Binary;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>The helpers about the current task (kernel/bpf/helpers.c, kernel/trace/bpf_trace.c, kernel/bpf/stackmap.c,
/// kernel/bpf/task_iter.c, net/core/filter.c): ids, name, cgroups, signals, its stack and registers.</summary>
/// <remarks>BPF_PROG_TEST_RUN runs a program in the calling process; here that process is the
/// <see cref="ProcessContext"/> of the run (<see cref="ProcessState.Of"/>). Pointers to the task are pointers to
/// read-only images of its task_struct and pt_regs (see <see cref="ProcessState"/>). A pointer argument the verifier
/// would have typed (a task, a map of the right type) faults when it is not one, with the kernel's message where it
/// has one. Every result here was compared with what Linux 6.18 returned to an XDP program run by
/// BPF_PROG_TEST_RUN.</remarks>
public static class ProcessHelpers
{
    /// <summary>BPF_F_SKIP_FIELD_MASK: frames to skip, in the low 8 bits of bpf_get_task_stack's flags.</summary>
    public const ulong StackSkipMask = 0xff;

    /// <summary>BPF_F_USER_STACK.</summary>
    public const ulong StackUser = 1UL << 8;

    /// <summary>BPF_F_USER_BUILD_ID.</summary>
    public const ulong StackUserBuildId = 1UL << 11;

    /// <summary>sizeof(struct bpf_stack_build_id).</summary>
    private const int StackBuildIdSize = 32;

    /// <summary>True for the helpers Linux marks <c>might_sleep</c> among those an XDP program may name
    /// (bpf_copy_from_user 148, bpf_copy_from_user_task 191): the verifier refuses them in an XDP program, which is
    /// never sleepable, with "helper call might sleep in a non-sleepable prog".</summary>
    public static bool MightSleep(int id) => id is 148 or 191;

    /// <summary>bpf_get_current_pid_tgid() (14): tgid &lt;&lt; 32 | pid.</summary>
    public static ulong GetCurrentPidTgid(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        var c = ProcessState.Of(env).Context;
        return ((ulong)c.Tgid << 32) | c.Pid;
    }

    /// <summary>bpf_get_current_uid_gid() (15): gid &lt;&lt; 32 | uid.</summary>
    public static ulong GetCurrentUidGid(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        var c = ProcessState.Of(env).Context;
        return ((ulong)c.Gid << 32) | c.Uid;
    }

    /// <summary>bpf_get_current_comm(buf, size) (16): the task's name, cut to size - 1 bytes, NUL-terminated and
    /// zero-padded to size (strscpy_pad); returns 0.</summary>
    public static ulong GetCurrentComm(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var state = ProcessState.Of(env);
        int size = (int)(uint)r2;
        var buf = env.Store(r1, size);
        if (size == 0)
        {
            return 0;
        }

        var comm = state.Comm;
        int len = comm.IndexOf((byte)0);
        len = Math.Min(len < 0 ? comm.Length : len, size - 1);
        comm[..len].CopyTo(buf);
        buf[len..].Clear();
        return 0;
    }

    /// <summary>bpf_get_cgroup_classid() (17), as XDP gets it (bpf_get_cgroup_classid_curr): the net_cls classid of
    /// the task's cgroup.</summary>
    public static ulong GetCgroupClassid(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        ProcessState.Of(env).Context.CgroupClassid;

    /// <summary>bpf_get_current_task() (35): the address of the task's task_struct (an integer for
    /// bpf_probe_read_kernel).</summary>
    public static ulong GetCurrentTask(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var state = ProcessState.Of(env);
        state.RegisterRegions(env.Regions);
        return state.TaskAddress;
    }

    /// <summary>bpf_get_current_task_btf() (158): the task's task_struct as a trusted pointer the program may read.</summary>
    public static ulong GetCurrentTaskBtf(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        GetCurrentTask(r1, r2, r3, r4, r5, env);

    /// <summary>bpf_current_task_under_cgroup(map, index) (37): 1 when the task is in the cgroup at
    /// <c>index</c> of the BPF_MAP_TYPE_CGROUP_ARRAY (or below it), else 0; -E2BIG for an index past the end,
    /// -EAGAIN for an empty slot (every slot of a cgroup array that is not an <see cref="ICgroupArrayMap"/>).</summary>
    public static ulong CurrentTaskUnderCgroup(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        RequireMapType(map, MapType.CgroupArray, 37);
        uint index = (uint)r2;
        if (index >= map.Spec.MaxEntries)
        {
            return Err(Errno.E2BIG);
        }

        // A cgroup array that cannot hold cgroups (the VM's placeholder: user space cannot store a cgroup fd in it) has
        // every slot empty, as the kernel's has before user space fills it.
        ulong id = 0;
        if (map is not ICgroupArrayMap cgroups || !cgroups.TryGetCgroupId(index, out id))
        {
            return Err(Errno.EAGAIN);
        }

        // kernel: task_under_cgroup_hierarchy(): the cgroup is the task's or one of its ancestors.
        var path = ProcessState.Of(env).Context.CgroupPath;
        for (int i = 0; i < path.Count; i++)
        {
            if (path[i] == id)
            {
                return 1;
            }
        }

        return 0;
    }

    /// <summary>bpf_get_current_cgroup_id() (80): the id of the task's cgroup (cgroup v2).</summary>
    public static ulong GetCurrentCgroupId(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        ProcessState.Of(env).Context.CgroupId;

    /// <summary>bpf_get_current_ancestor_cgroup_id(level) (123): the id of the task's ancestor cgroup at
    /// <c>level</c> (0 = the root), or 0 when the level is negative or below the task's own cgroup.</summary>
    public static ulong GetCurrentAncestorCgroupId(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        var path = ProcessState.Of(env).Context.CgroupPath;
        int level = (int)r1;
        return level >= 0 && level < path.Count ? path[level] : 0;
    }

    /// <summary>bpf_send_signal(sig) (109): sends <c>sig</c> to the task's thread group; 0, -EPERM for a kernel
    /// thread or init (tgid 1), -EINVAL for a signal above 64. The signal is recorded
    /// (<see cref="ProcessState.SignalsSent"/>), not delivered.</summary>
    public static ulong SendSignal(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        SendSignalCommon(env, (uint)r1, thread: false);

    /// <summary>bpf_send_signal_thread(sig) (117): as <see cref="SendSignal"/>, to the task's thread only.</summary>
    public static ulong SendSignalThread(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        SendSignalCommon(env, (uint)r1, thread: true);

    /// <summary>bpf_get_ns_current_pid_tgid(dev, ino, nsdata, size) (120): fills <c>struct bpf_pidns_info</c> with
    /// the task's pid and tgid when (dev, ino) names its pid namespace; else -EINVAL with nsdata zeroed (also for a
    /// size other than 8 and a dev that is not a dev_t).</summary>
    public static ulong GetNsCurrentPidTgid(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var state = ProcessState.Of(env);
        int size = (int)(uint)r4;
        var nsdata = env.Store(r3, size);
        var c = state.Context;
        if (size != 8 || r1 > uint.MaxValue || r1 != c.PidNamespaceDev || r2 != c.PidNamespaceInode)
        {
            nsdata.Clear();
            return Err(Errno.EINVAL);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(nsdata, c.Pid);
        BinaryPrimitives.WriteUInt32LittleEndian(nsdata[4..], c.Tgid);
        return 0;
    }

    /// <summary>bpf_get_task_stack(task, buf, size, flags) (141): the task's stack trace into buf. The VM's task has
    /// no frames to show, so a valid request returns 0 with buf zeroed; -EFAULT (buf zeroed) when it asks to skip
    /// frames; -EINVAL (buf zeroed) for unknown flags, a build-id request for the kernel stack, or a size that is not a
    /// multiple of the entry size (8, or 32 with BPF_F_USER_BUILD_ID).</summary>
    public static ulong GetTaskStack(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        ProcessState.Of(env).CheckTask(r1, 1);
        int size = (int)(uint)r3;
        var buf = env.Store(r2, size);
        ulong flags = r4;
        bool user = (flags & StackUser) != 0;
        bool buildId = (flags & StackUserBuildId) != 0;

        // kernel: __bpf_get_stack()
        if ((flags & ~(StackSkipMask | StackUser | StackUserBuildId)) != 0 || (!user && buildId))
        {
            buf.Clear();
            return Err(Errno.EINVAL);
        }

        int elemSize = user && buildId ? StackBuildIdSize : sizeof(ulong);
        if (size % elemSize != 0)
        {
            buf.Clear();
            return Err(Errno.EINVAL);
        }

        // The trace has no entries: skipping any is "trace->nr < skip".
        buf.Clear();
        return (flags & StackSkipMask) != 0 ? Err(Errno.EFAULT) : 0;
    }

    /// <summary>bpf_copy_from_user(dst, size, user_ptr) (148): might sleep, so the verifier refuses it in an XDP
    /// program; it faults with the kernel's message.</summary>
    public static ulong CopyFromUser(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        ThrowMightSleep(148);

    /// <summary>bpf_copy_from_user_task(dst, size, user_ptr, task, flags) (191): refused like
    /// <see cref="CopyFromUser"/>.</summary>
    public static ulong CopyFromUserTask(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        ThrowMightSleep(191);

    /// <summary>bpf_task_pt_regs(task) (175): the task's user registers (the pt_regs image).</summary>
    public static ulong TaskPtRegs(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var state = ProcessState.Of(env);
        state.CheckTask(r1, 1);
        state.RegisterRegions(env.Regions);
        return state.PtRegsAddress;
    }

    /// <summary>bpf_find_vma(task, addr, callback_fn, callback_ctx, flags) (180): -EINVAL for non-zero flags; else
    /// -ENOENT, as the VM's task maps no user memory (the callback is never called).</summary>
    public static ulong FindVma(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ProcessState.Of(env).CheckTask(r1, 1);
        return r5 != 0 ? Err(Errno.EINVAL) : Err(Errno.ENOENT);
    }

    // kernel: bpf_send_signal_common(), in the order it checks.
    private static ulong SendSignalCommon(RuntimeEnv env, uint sig, bool thread)
    {
        var state = ProcessState.Of(env);
        var c = state.Context;
        if (c.IsKernelThread || c.Tgid == 1)
        {
            return Err(Errno.EPERM);
        }

        if (sig > ProcessState.MaxSignal)
        {
            return Err(Errno.EINVAL);
        }

        if (sig != 0)
        {
            state.RecordSignal((int)sig, thread);
        }

        return 0;
    }

    // Faults as check_map_func_compatibility() refuses a map of the wrong type.
    internal static void RequireMapType(BpfMap map, MapType type, int func)
    {
        if (map.Type != type)
        {
            throw new ExecutionFaultException(
                FaultKind.HelperFailed,
                $"cannot pass map_type {(uint)map.Type} into func {HelperNames.Name(func)}#{func}");
        }
    }

    internal static ulong Err(int errno) => unchecked((ulong)-errno);

    private static ulong ThrowMightSleep(int id) =>
        throw new ExecutionFaultException(
            FaultKind.HelperFailed,
            $"call {HelperNames.Name(id)}#{id}: helper call might sleep in a non-sleepable prog");
}

/// <summary>A BPF_MAP_TYPE_CGROUP_ARRAY as bpf_current_task_under_cgroup needs it: the cgroup in each slot.</summary>
public interface ICgroupArrayMap
{
    /// <summary>The id of the cgroup in slot <paramref name="index"/>; false when the slot is empty.</summary>
    bool TryGetCgroupId(uint index, out ulong cgroupId);
}
