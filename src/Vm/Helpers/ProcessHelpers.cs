using System.Buffers.Binary;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>The helpers about the current task (kernel/bpf/helpers.c, kernel/trace/bpf_trace.c, kernel/bpf/stackmap.c,
/// kernel/bpf/task_iter.c, net/core/filter.c): ids, name, cgroups, signals, its stack and registers.</summary>
/// <remarks>BPF_PROG_TEST_RUN runs a program in the calling process; here that process is the
/// <see cref="ProcessContext"/> of the run (<see cref="ProcessState.Of(RuntimeEnv)"/>). Pointers to the task are pointers to
/// read-only images of its task_struct and pt_regs (see <see cref="ProcessState"/>). A pointer argument the verifier
/// would have typed (a task, a map of the right type) faults when it is not one, with the kernel's message where it
/// has one.</remarks>
public static class ProcessHelpers
{
    /// <summary>BPF_F_SKIP_FIELD_MASK: frames to skip, in the low 8 bits of bpf_get_task_stack's flags.</summary>
    public const ulong StackSkipMask = 255UL;

    /// <summary>BPF_F_USER_STACK.</summary>
    public const ulong StackUser = 256UL;

    /// <summary>BPF_F_USER_BUILD_ID.</summary>
    public const ulong StackUserBuildId = 2048UL;

    /// <summary>sizeof(struct bpf_stack_build_id).</summary>
    private const int StackBuildIdSize = 32;

    /// <summary>True for the helpers Linux marks <c>might_sleep</c> among those an XDP program may name
    /// (bpf_copy_from_user 148, bpf_copy_from_user_task 191): the verifier refuses them in an XDP program, which is
    /// never sleepable, with "helper call might sleep in a non-sleepable prog".</summary>
    public static bool MightSleep(int id)
    {
        return id is 148 or 191;
    }

    /// <summary>bpf_get_current_pid_tgid() (14): tgid &lt;&lt; 32 | pid.</summary>
    public static ulong GetCurrentPidTgid(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ProcessContext context = ProcessState.Of(env).Context;
        return ((ulong)context.Tgid << 32) | context.Pid;
    }

    /// <summary>bpf_get_current_uid_gid() (15): gid &lt;&lt; 32 | uid.</summary>
    public static ulong GetCurrentUidGid(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ProcessContext context = ProcessState.Of(env).Context;
        return ((ulong)context.Gid << 32) | context.Uid;
    }

    /// <summary>bpf_get_current_comm(buf, size) (16): the task's name, cut to size - 1 bytes, NUL-terminated and
    /// zero-padded to size (strscpy_pad); returns 0.</summary>
    public static ulong GetCurrentComm(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ProcessState processState = ProcessState.Of(env);
        int num = (int)r2;
        Span<byte> destination = env.Store(r1, num);
        if (num == 0)
        {
            return 0UL;
        }
        ReadOnlySpan<byte> comm = processState.Comm;
        int num2 = comm.IndexOf<byte>(0);
        num2 = Math.Min((num2 < 0) ? comm.Length : num2, num - 1);
        comm.Slice(0, num2).CopyTo(destination);
        destination.Slice(num2).Clear();
        return 0UL;
    }

    /// <summary>bpf_get_cgroup_classid() (17), as XDP gets it (bpf_get_cgroup_classid_curr): the net_cls classid of
    /// the task's cgroup.</summary>
    public static ulong GetCgroupClassid(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        return ProcessState.Of(env).Context.CgroupClassid;
    }

    /// <summary>bpf_get_current_task() (35): the address of the task's task_struct (an integer for
    /// bpf_probe_read_kernel).</summary>
    public static ulong GetCurrentTask(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        ProcessState processState = ProcessState.Of(env);
        processState.RegisterRegions(env.Regions);
        return processState.TaskAddress;
    }

    /// <summary>bpf_get_current_task_btf() (158): the task's task_struct as a trusted pointer the program may read.</summary>
    public static ulong GetCurrentTaskBtf(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        return GetCurrentTask(r1, r2, r3, r4, r5, env);
    }

    /// <summary>bpf_current_task_under_cgroup(map, index) (37): 1 when the task is in the cgroup at
    /// <c>index</c> of the BPF_MAP_TYPE_CGROUP_ARRAY (or below it), else 0; -E2BIG for an index past the end,
    /// -EAGAIN for an empty slot.</summary>
    public static ulong CurrentTaskUnderCgroup(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        BpfMap bpfMap = env.ResolveMap(r1);
        RequireMapType(bpfMap, MapType.CgroupArray, 37);
        uint num = (uint)r2;
        if (num >= bpfMap.Spec.MaxEntries)
        {
            return Err(7);
        }
        if (!(bpfMap is ICgroupArrayMap cgroupArrayMap))
        {
            throw new ExecutionFaultException(FaultKind.NotSupported, "map " + bpfMap.Name + ": this cgroup array cannot resolve its cgroups");
        }
        if (!cgroupArrayMap.TryGetCgroupId(num, out var cgroupId))
        {
            return Err(11);
        }
        IReadOnlyList<ulong> cgroupPath = ProcessState.Of(env).Context.CgroupPath;
        for (int i = 0; i < cgroupPath.Count; i++)
        {
            if (cgroupPath[i] == cgroupId)
            {
                return 1UL;
            }
        }
        return 0UL;
    }

    /// <summary>bpf_get_current_cgroup_id() (80): the id of the task's cgroup (cgroup v2).</summary>
    public static ulong GetCurrentCgroupId(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        return ProcessState.Of(env).Context.CgroupId;
    }

    /// <summary>bpf_get_current_ancestor_cgroup_id(level) (123): the id of the task's ancestor cgroup at
    /// <c>level</c> (0 = the root), or 0 when the level is negative or below the task's own cgroup.</summary>
    public static ulong GetCurrentAncestorCgroupId(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        IReadOnlyList<ulong> cgroupPath = ProcessState.Of(env).Context.CgroupPath;
        int num = (int)r1;
        return num >= 0 && num < cgroupPath.Count ? cgroupPath[num] : 0;
    }

    /// <summary>bpf_send_signal(sig) (109): sends <c>sig</c> to the task's thread group; 0, -EPERM for a kernel
    /// thread or init (tgid 1), -EINVAL for a signal above 64. The signal is recorded
    /// (<see cref="ProcessState.SignalsSent(int, bool)"/>), not delivered.</summary>
    public static ulong SendSignal(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        return SendSignalCommon(env, (uint)r1, thread: false);
    }

    /// <summary>bpf_send_signal_thread(sig) (117): as <see cref="SendSignal"/>, to the task's thread only.</summary>
    public static ulong SendSignalThread(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        return SendSignalCommon(env, (uint)r1, thread: true);
    }

    /// <summary>bpf_get_ns_current_pid_tgid(dev, ino, nsdata, size) (120): fills <c>struct bpf_pidns_info</c> with
    /// the task's pid and tgid when (dev, ino) names its pid namespace; else -EINVAL with nsdata zeroed (also for a
    /// size other than 8 and a dev that is not a dev_t).</summary>
    public static ulong GetNsCurrentPidTgid(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ProcessState processState = ProcessState.Of(env);
        int num = (int)r4;
        Span<byte> destination = env.Store(r3, num);
        ProcessContext context = processState.Context;
        if (num != 8 || r1 > uint.MaxValue || r1 != context.PidNamespaceDev || r2 != context.PidNamespaceInode)
        {
            destination.Clear();
            return Err(22);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(destination, context.Pid);
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(4), context.Tgid);
        return 0UL;
    }

    /// <summary>bpf_get_task_stack(task, buf, size, flags) (141): the task's stack trace into buf. The VM's task has
    /// no frames to show, so a valid request returns 0 with buf zeroed; -EFAULT (buf zeroed) when it asks to skip
    /// frames; -EINVAL (buf zeroed) for unknown flags, a build-id request for the kernel stack, or a size that is not a
    /// multiple of the entry size (8, or 32 with BPF_F_USER_BUILD_ID).</summary>
    public static ulong GetTaskStack(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        ProcessState.Of(env).CheckTask(r1, 1);
        int num = (int)r3;
        Span<byte> span = env.Store(r2, num);
        bool flag = (r4 & StackUser) != 0;
        bool flag2 = (r4 & StackUserBuildId) != 0;
        if ((r4 & ~(StackSkipMask | StackUser | StackUserBuildId)) != 0 || (!flag && flag2))
        {
            span.Clear();
            return Err(22);
        }
        int num2 = (flag && flag2) ? StackBuildIdSize : 8;
        if (num % num2 != 0)
        {
            span.Clear();
            return Err(22);
        }
        span.Clear();
        return (r4 & 0xFF) != 0 ? Err(14) : 0;
    }

    /// <summary>bpf_copy_from_user(dst, size, user_ptr) (148): might sleep, so the verifier refuses it in an XDP
    /// program; it faults with the kernel's message.</summary>
    public static ulong CopyFromUser(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        return ThrowMightSleep(148);
    }

    /// <summary>bpf_copy_from_user_task(dst, size, user_ptr, task, flags) (191): refused like
    /// <see cref="CopyFromUser"/>.</summary>
    public static ulong CopyFromUserTask(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        return ThrowMightSleep(191);
    }

    /// <summary>bpf_task_pt_regs(task) (175): the task's user registers (the pt_regs image).</summary>
    public static ulong TaskPtRegs(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        ProcessState processState = ProcessState.Of(env);
        processState.CheckTask(r1, 1);
        processState.RegisterRegions(env.Regions);
        return processState.PtRegsAddress;
    }

    /// <summary>bpf_find_vma(task, addr, callback_fn, callback_ctx, flags) (180): -EINVAL for non-zero flags; else
    /// -ENOENT, as the VM's task maps no user memory (the callback is never called).</summary>
    public static ulong FindVma(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ProcessState.Of(env).CheckTask(r1, 1);
        return r5 != 0 ? Err(22) : Err(2);
    }

    private static ulong SendSignalCommon(RuntimeEnv env, uint sig, bool thread)
    {
        ProcessState processState = ProcessState.Of(env);
        ProcessContext context = processState.Context;
        if (context.IsKernelThread || context.Tgid == 1)
        {
            return Err(1);
        }
        if (sig > 64)
        {
            return Err(22);
        }

        if (sig != 0)
        {
            processState.RecordSignal((int)sig, thread);
        }

        return 0UL;
    }

    internal static void RequireMapType(BpfMap map, MapType type, int func)
    {
        if (map.Type != type)
        {
            throw new ExecutionFaultException(FaultKind.HelperFailed, $"cannot pass map_type {map.Type} into func {HelperNames.Name(func)}#{func}");
        }
    }

    internal static ulong Err(int errno)
    {
        return unchecked((ulong)-errno);
    }

    private static ulong ThrowMightSleep(int id)
    {
        throw new ExecutionFaultException(FaultKind.HelperFailed, $"call {HelperNames.Name(id)}#{id}: helper call might sleep in a non-sleepable prog");
    }
}
