using System.Text;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;
using Ph = VethXdp.Vm.Helpers.ProcessHelpers;

namespace VethXdp.Vm.Tests.CurrentTask;

/// <summary>The current-task helpers against the values the running 6.18 kernel gave BPF_PROG_TEST_RUN (the same
/// calls, made by an XDP program in a test process), with the VM's deterministic task.</summary>
public class ProcessHelperTests
{
    private static readonly ProcessContext Task = new()
    {
        Pid = 1234,
        Tgid = 1200,
        Uid = 1000,
        Gid = 100,
        Comm = "loader",
        CgroupPath = [1, 50, 77],
        CgroupClassid = 0x100001,
    };

    [Theory]
    [InlineData("bpf_get_current_pid_tgid", 0u, 0u)]
    [InlineData("bpf_get_current_uid_gid", 0u, 0u)]
    [InlineData("bpf_get_current_cgroup_id", 1u, 0u)]
    [InlineData("bpf_get_cgroup_classid", 0u, 0u)]
    public void Ids_Defaults_DeterministicRootTask(string helper, uint low, uint high)
    {
        Assert.Equal(low, Proc.Run($"call {helper}\nexit").Retval);
        Assert.Equal(high, Proc.Run($"call {helper}\nr0 >>= 32\nexit").Retval);
    }

    [Theory]
    [InlineData("bpf_get_current_pid_tgid", 1234u, 1200u)]
    [InlineData("bpf_get_current_uid_gid", 1000u, 100u)]
    [InlineData("bpf_get_current_cgroup_id", 77u, 0u)]
    [InlineData("bpf_get_cgroup_classid", 0x100001u, 0u)]
    public void Ids_Configured_LowAndHighHalves(string helper, uint low, uint high)
    {
        Assert.Equal(low, Proc.Run($"call {helper}\nexit", Task).Retval);
        Assert.Equal(high, Proc.Run($"call {helper}\nr0 >>= 32\nexit", Task).Retval);
    }

    [Theory]
    [InlineData(0, 1u)]
    [InlineData(1, 50u)]
    [InlineData(2, 77u)]
    [InlineData(3, 0u)]       // below the task's own cgroup
    [InlineData(100, 0u)]
    [InlineData(-1, 0u)]      // a negative level (the kernel gave 0)
    public void AncestorCgroupId_Level_IdOrZero(int level, uint expected) =>
        Assert.Equal(expected, Proc.Run($"r1 = {level}\ncall bpf_get_current_ancestor_cgroup_id\nexit", Task).Retval);

    [Fact]
    public void AncestorCgroupId_DefaultRootTask_LevelZeroIsRootLevelOneIsNone()
    {
        Assert.Equal(1u, Proc.Run("r1 = 0\ncall bpf_get_current_ancestor_cgroup_id\nexit").Retval);
        Assert.Equal(0u, Proc.Run("r1 = 1\ncall bpf_get_current_ancestor_cgroup_id\nexit").Retval);
    }

    // comm into out[0..] after filling the 24 bytes with 0x55; the kernel gave "loa\0" + 0x55... for size 4 and
    // "loader" + 14 zeros for size 20.
    private static byte[] Comm(int size, ProcessContext? context)
    {
        using var obj = Proc.Load(Proc.OutInR7 + $"""
            r1 = 0x5555555555555555 ll
            *(u64 *)(r7 +0) = r1
            *(u64 *)(r7 +8) = r1
            *(u64 *)(r7 +16) = r1
            r1 = r7
            r2 = {size}
            call bpf_get_current_comm
            *(u64 *)(r7 +24) = r0
            """ + Proc.Done, Proc.Out());
        using var runner = new XdpRunner(obj);
        if (context is not null)
        {
            ProcessState.Of(runner.Env).Context = context;
        }

        Assert.Equal(Rt.Pass, runner.Run(Rt.Frame()).Retval);
        var value = Proc.ReadOut(obj);
        Assert.Equal(0, Proc.U64(value, 3));
        return value[..24];
    }

    [Fact]
    public void Comm_SizeFour_CutWithNulRestUntouched() =>
        Assert.Equal([.. "loa\0"u8, .. Enumerable.Repeat((byte)0x55, 20)], Comm(4, Task));

    [Fact]
    public void Comm_SizeTwenty_ZeroPadded() =>
        Assert.Equal([.. "loader"u8, .. new byte[14], .. Enumerable.Repeat((byte)0x55, 4)], Comm(20, Task));

    [Fact]
    public void Comm_Default_Vethxdp() =>
        Assert.Equal("vethxdp", Encoding.ASCII.GetString(Comm(16, null), 0, 16).TrimEnd('\0'));

    [Fact]
    public void Comm_LongName_FifteenBytes()
    {
        var bytes = Comm(20, Task with { Comm = "a-very-long-process-name" });
        Assert.Equal([.. "a-very-long-pro"u8, .. new byte[5]], bytes[..20]);
    }

    [Theory]
    [InlineData(0u, 0)]
    [InlineData(18u, 0)]              // SIGCONT: the kernel delivered it and returned 0
    [InlineData(64u, 0)]
    [InlineData(65u, -Errno.EINVAL)]
    [InlineData(0xffffffffu, -Errno.EINVAL)]
    public void SendSignal_Signal_KernelResult(uint sig, int expected)
    {
        Assert.Equal(Rt.Err(-expected), Proc.Run($"r1 = {sig} ll\ncall bpf_send_signal\nexit").Retval);
        Assert.Equal(Rt.Err(-expected), Proc.Run($"r1 = {sig} ll\ncall bpf_send_signal_thread\nexit").Retval);
    }

    [Theory]
    [InlineData(false, 1u)]     // init (tgid 1)
    [InlineData(true, 500u)]    // a kernel thread
    public void SendSignal_InitOrKernelThread_Eperm(bool kthread, uint tgid) =>
        Assert.Equal(Rt.Err(Errno.EPERM),
            Proc.Run("r1 = 10\ncall bpf_send_signal\nexit", Task with { Tgid = tgid, IsKernelThread = kthread }).Retval);

    [Fact]
    public void SendSignal_Recorded_ByKindAndNumber()
    {
        using var obj = Proc.Load("""
            r1 = 10
            call bpf_send_signal
            r1 = 10
            call bpf_send_signal
            r1 = 12
            call bpf_send_signal_thread
            r1 = 0
            call bpf_send_signal
            exit
            """);
        using var runner = new XdpRunner(obj);
        runner.Run(Rt.Frame());
        var state = ProcessState.Of(runner.Env);
        Assert.Equal(2UL, state.SignalsSent(10));
        Assert.Equal(0UL, state.SignalsSent(10, thread: true));
        Assert.Equal(1UL, state.SignalsSent(12, thread: true));
        Assert.Equal(0UL, state.SignalsSent(0));
        state.ClearSignals();
        Assert.Equal(0UL, state.SignalsSent(10));
    }

    // bpf_get_ns_current_pid_tgid(dev, ino, &out[0], size) -> out[1]; the kernel: matching namespace 0 and the ids,
    // another inode -EINVAL with the buffer zeroed, size 4 -EINVAL, a dev above 32 bits -EINVAL.
    [Theory]
    [InlineData(4UL, 0xEFFFFFFCUL, 8, 0, 0x000004b0000004d2L)]
    [InlineData(4UL, 0xEFFFFFFDUL, 8, -Errno.EINVAL, 0L)]
    [InlineData(5UL, 0xEFFFFFFCUL, 8, -Errno.EINVAL, 0L)]
    [InlineData(4UL, 0xEFFFFFFCUL, 4, -Errno.EINVAL, 0x5555555500000000L)]
    [InlineData(4UL | (1UL << 40), 0xEFFFFFFCUL, 8, -Errno.EINVAL, 0L)]
    public void NsCurrentPidTgid_Namespace_KernelResult(ulong dev, ulong ino, int size, int expected, long data)
    {
        using var obj = Proc.Load(Proc.OutInR7 + $"""
            r1 = 0x5555555555555555 ll
            *(u64 *)(r7 +0) = r1
            r1 = {dev} ll
            r2 = {ino} ll
            r3 = r7
            r4 = {size}
            call bpf_get_ns_current_pid_tgid
            *(u64 *)(r7 +8) = r0
            """ + Proc.Done, Proc.Out());
        using var runner = new XdpRunner(obj);
        ProcessState.Of(runner.Env).Context = Task;
        runner.Run(Rt.Frame());
        var value = Proc.ReadOut(obj);
        Assert.Equal(expected, Proc.U64(value, 1));
        Assert.Equal(data, Proc.U64(value, 0));
    }

    [Fact]
    public void CurrentTask_ProbeReadPid_ReadsTheTaskImage()
    {
        var o = Proc.Run("""
            call bpf_get_current_task
            r3 = r0
            r3 += 1268
            r1 = r10
            r1 += -8
            r2 = 4
            call bpf_probe_read_kernel
            if r0 != 0 goto bad
            r0 = *(u32 *)(r10 -8)
            exit
            bad:
            r0 = 999
            exit
            """, Task);
        Assert.Equal(1200u, o.Retval);
    }

    [Fact]
    public void CurrentTaskBtf_DirectLoads_PidAndComm()
    {
        Assert.Equal(1234u, Proc.Run("call bpf_get_current_task_btf\nr0 = *(u32 *)(r0 +1264)\nexit", Task).Retval);
        Assert.Equal(BitConverter.ToUInt32("load"u8), Proc.Run("call bpf_get_current_task_btf\nr0 = *(u32 *)(r0 +1752)\nexit", Task).Retval);
    }

    [Fact]
    public void CurrentTask_Store_FaultsReadOnly()
    {
        var o = Proc.Run("call bpf_get_current_task_btf\n*(u32 *)(r0 +1264) = 1\nr0 = 2\nexit");
        Assert.NotNull(o.Error);
        Assert.Contains("read-only", o.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CurrentTask_BothHelpers_SamePointer() =>
        Assert.Equal(1u, Proc.Run("""
            call bpf_get_current_task
            r6 = r0
            call bpf_get_current_task_btf
            r1 = 1
            if r0 == r6 goto same
            r1 = 0
            same:
            r0 = r1
            exit
            """).Retval);

    [Theory]
    [InlineData(120, 321u)]                 // orig_ax: __NR_bpf
    [InlineData(80, 0xffffffdau)]           // ax: -ENOSYS
    [InlineData(112, 10u)]                  // di: BPF_PROG_TEST_RUN
    [InlineData(136, 0x33u)]                // cs
    [InlineData(160, 0x2bu)]                // ss
    public void TaskPtRegs_Registers_AsTheKernelShowedThem(int offset, uint expected) =>
        Assert.Equal(expected, Proc.Run($"call bpf_get_current_task_btf\nr1 = r0\ncall bpf_task_pt_regs\nr0 = *(u32 *)(r0 +{offset})\nexit").Retval);

    [Fact]
    public void TaskPtRegs_NotATask_Faults()
    {
        var o = Proc.Run("r1 = r10\ncall bpf_task_pt_regs\nexit");
        Assert.NotNull(o.Error);
        Assert.Contains("task_struct", o.Error.Message, StringComparison.Ordinal);
    }

    // bpf_get_task_stack(task, &out[0], SIZE, FLAGS) -> out[8], after filling out[0..8) with 0x55.
    [Theory]
    [InlineData(64, 0UL, 0)]
    [InlineData(64, 1UL << 8, 0)]                          // user stack
    [InlineData(64, 1UL << 12, -Errno.EINVAL)]             // unknown flag (the kernel gave -EINVAL)
    [InlineData(12, 0UL, -Errno.EINVAL)]                   // not a multiple of 8 (the kernel gave -EINVAL)
    [InlineData(64, 1UL << 11, -Errno.EINVAL)]             // build ids of the kernel stack
    [InlineData(64, (1UL << 8) | (1UL << 11), 0)]          // user build ids: 32-byte entries
    [InlineData(48, (1UL << 8) | (1UL << 11), -Errno.EINVAL)]
    [InlineData(64, 1UL, -Errno.EFAULT)]                   // skip one of no frames
    public void TaskStack_Flags_ResultAndZeroedBuffer(int size, ulong flags, int expected)
    {
        using var obj = Proc.Load(Proc.OutInR7 + $"""
            r1 = 0x5555555555555555 ll
            *(u64 *)(r7 +0) = r1
            *(u64 *)(r7 +56) = r1
            call bpf_get_current_task_btf
            r1 = r0
            r2 = r7
            r3 = {size}
            r4 = {flags} ll
            call bpf_get_task_stack
            *(u64 *)(r7 +64) = r0
            """ + Proc.Done, Proc.Out());
        using var runner = new XdpRunner(obj);
        runner.Run(Rt.Frame());
        var value = Proc.ReadOut(obj);
        Assert.Equal(expected, Proc.U64(value, 8));
        Assert.Equal(0, Proc.U64(value, 0));
        Assert.Equal(size == 64 ? 0 : 0x5555555555555555, Proc.U64(value, 7));
    }

    [Theory]
    [InlineData("bpf_copy_from_user")]
    [InlineData("bpf_copy_from_user_task")]
    public void CopyFromUser_XdpIsNotSleepable_RefusedWithKernelMessage(string helper)
    {
        // Linux 6.18: "helper call might sleep in a non-sleepable prog". Refused when the program is prepared (as the
        // verifier refuses it) or, failing that, when the call runs.
        string message;
        try
        {
            var o = Proc.Run($"r1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\ncall {helper}\nexit");
            Assert.NotNull(o.Error);
            message = o.Error.Message;
        }
        catch (RuntimeLoadException e)
        {
            message = e.Message;
        }

        Assert.Contains("helper call might sleep in a non-sleepable prog", message, StringComparison.Ordinal);
        Assert.True(Ph.MightSleep(148));
        Assert.True(Ph.MightSleep(191));
        Assert.False(Ph.MightSleep(14));
    }

    [Theory]
    [InlineData(148)]
    [InlineData(191)]
    public void CopyFromUser_CalledAnyway_FaultsWithKernelMessage(int id)
    {
        var table = Proc.Helpers();
        Assert.True(table.TryGet(id, out var f));
        var ex = Assert.Throws<VethXdp.Vm.Interpreter.ExecutionFaultException>(() => f(0, 0, 0, 0, 0, new RuntimeEnv()));
        Assert.Contains("helper call might sleep in a non-sleepable prog", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0UL, -Errno.ENOENT)]
    [InlineData(1UL, -Errno.EINVAL)]
    public void FindVma_NoUserMappings_KernelErrno(ulong flags, int expected) =>
        Assert.Equal(Rt.Err(-expected), Proc.Run($"""
            call bpf_get_current_task_btf
            r1 = r0
            r2 = 4096
            ld_pseudo r3, 4, @cb
            r4 = 0
            r5 = {flags}
            call bpf_find_vma
            exit
            cb:
            r0 = 0
            exit
            """).Retval);

    private static string UnderCgroup(uint index) => $"""
        r1 = map[idx:0]
        r2 = {index}
        call bpf_current_task_under_cgroup
        exit
        """;

    [Theory]
    [InlineData(0u, 1)]                   // the root: an ancestor
    [InlineData(1u, 1)]                   // the task's own cgroup
    [InlineData(2u, 0)]                   // another cgroup
    [InlineData(3u, -Errno.EAGAIN)]       // empty slot (the kernel gave -EAGAIN)
    [InlineData(5u, -Errno.E2BIG)]        // past max_entries (the kernel gave -E2BIG)
    public void CurrentTaskUnderCgroup_Slot_KernelResult(uint index, int expected)
    {
        using var obj = Proc.Load(UnderCgroup(index), Rt.Map("cg", MapType.CgroupArray, 4, 4, 4));
        var cg = (FakeCgroupArray)obj.Maps["cg"];
        cg.Cgroups[0] = 1;
        cg.Cgroups[1] = 77;
        cg.Cgroups[2] = 78;
        using var runner = new XdpRunner(obj);
        ProcessState.Of(runner.Env).Context = Task;
        Assert.Equal(Rt.Err(-expected), runner.Run(Rt.Frame()).Retval);
    }

    [Fact]
    public void CurrentTaskUnderCgroup_HashMap_FaultsWithVerifierMessage()
    {
        var o = Proc.Run(UnderCgroup(0), null, Rt.Map("h", MapType.Hash, 4, 4, 4));
        Assert.NotNull(o.Error);
        Assert.Contains("cannot pass map_type 1 into func bpf_current_task_under_cgroup#37", o.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProcessContext_SetOnState_RewritesTaskImage()
    {
        var state = new ProcessState();
        Assert.Equal("vethxdp"u8.ToArray(), state.Comm[..7].ToArray());
        state.Context = Task with { Comm = "é" + new string('x', 20) };
        Assert.Equal(15, state.Comm.IndexOf((byte)0));      // 2-byte 'é' + 13 x: 15 bytes, never a split character
        Assert.Equal(0, state.Comm[15]);
    }
}
