using System.Buffers.Binary;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.CurrentTask;

/// <summary>bpf_timer_* over map values and the virtual clock; callbacks fire only through BpfTimerQueue.AdvanceTo.</summary>
public class TimerTests
{
    // Map 1: value { struct bpf_timer t; u32 fired; u32 key; } as in the kernel probe.
    private static MapSpec TimerMap(MapType type = MapType.Array) => Rt.Map("tmap", type, 4, 24, 2);

    private static string Step(int slot, string call) => $"""
        r1 = r6
        {call}
        *(u64 *)(r7 +{slot * 8}) = r0

        """;

    private const string TimerInR6 = """
        *(u32 *)(r10 -4) = 1
        r1 = map[idx:1]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto fail
        r6 = r0

        """;

    // cb(map, key, value): value->fired++; value->key = *key.
    private const string CountingCallback = """
        cb:
        r1 = *(u32 *)(r3 +16)
        r1 += 1
        *(u32 *)(r3 +16) = r1
        r1 = *(u32 *)(r2 +0)
        *(u32 *)(r3 +20) = r1
        r0 = 0
        exit
        """;

    /// <summary>The exact sequence the probe ran on Linux 6.18 through BPF_PROG_TEST_RUN, with its results.</summary>
    [Fact]
    public void KernelSequence_SameResultsAsLinux()
    {
        string asm = Proc.OutInR7 + TimerInR6
            + Step(0, "r2 = 1000\nr3 = 0\ncall bpf_timer_start")
            + Step(1, "ld_pseudo r2, 4, @cb\ncall bpf_timer_set_callback")
            + Step(2, "call bpf_timer_cancel")
            + Step(3, "r2 = map[idx:1]\nr3 = 7\ncall bpf_timer_init")
            + Step(4, "r2 = map[idx:1]\nr3 = 1\ncall bpf_timer_init")
            + Step(5, "r2 = map[idx:1]\nr3 = 1\ncall bpf_timer_init")
            + Step(6, "r2 = 1000\nr3 = 0\ncall bpf_timer_start")
            + Step(7, "ld_pseudo r2, 4, @cb\ncall bpf_timer_set_callback")
            + Step(8, "r2 = 1000000000\nr3 = 4\ncall bpf_timer_start")
            + Step(9, "r2 = 1000000000\nr3 = 0\ncall bpf_timer_start")
            + Step(10, "call bpf_timer_cancel")
            + Step(11, "call bpf_timer_cancel")
            + Step(12, "r2 = 0\nr3 = 0\ncall bpf_timer_start")
            + Step(13, "r0 = *(u32 *)(r6 +16)")
            + Step(14, "r2 = map[idx:1]\nr3 = 0\ncall bpf_timer_init")
            + Proc.Done + CountingCallback;
        using var obj = Proc.Load(asm, Proc.Out(), TimerMap());
        using var runner = new XdpRunner(obj);
        Assert.Equal(Rt.Pass, runner.Run(Rt.Frame()).Retval);
        var value = Proc.ReadOut(obj);
        long[] linux = [-22, -22, -22, 0, -16, -16, -22, 0, -22, 0, 1, 0, -22, 0, -16];
        Assert.Equal(linux, Enumerable.Range(0, 15).Select(i => Proc.U64(value, i)).ToArray());

        // The cancelled timer never fires.
        Assert.Equal(0, BpfTimerQueue.Of(runner.Env).AdvanceTo(runner.Env, 10_000_000_000));
    }

    // init(CLOCK), set_callback(cb), start(NS, FLAGS); returns init's result.
    private static string Arm(ulong ns, ulong flags = 0, int clock = 1, string callback = CountingCallback) =>
        Proc.OutInR7 + TimerInR6 + $"""
        r1 = r6
        r2 = map[idx:1]
        r3 = {clock}
        call bpf_timer_init
        r8 = r0
        r1 = r6
        ld_pseudo r2, 4, @cb
        call bpf_timer_set_callback
        r1 = r6
        r2 = {ns} ll
        r3 = {flags}
        call bpf_timer_start
        r0 = *(u32 *)(r6 +16)
        *(u64 *)(r7 +0) = r0
        r0 = r8
        exit
        """ + Proc.Done + callback;

    private static (uint Fired, uint Key) Value(LoadedObject obj)
    {
        var v = new byte[24];
        Assert.Equal(0, obj.Maps["tmap"].UserLookup(Rt.U32(1), v));
        return (BinaryPrimitives.ReadUInt32LittleEndian(v.AsSpan(16)), BinaryPrimitives.ReadUInt32LittleEndian(v.AsSpan(20)));
    }

    [Fact]
    public void Start_FiresOnlyWhenTimeAdvancesPastExpiry()
    {
        using var obj = Proc.Load(Arm(1000), Proc.Out(), TimerMap());
        using var runner = new XdpRunner(obj, null, new RunOptions { TimeNs = 500 });
        var env = runner.Env;
        Assert.Equal(0u, runner.Run(Rt.Frame()).Retval);
        Assert.Equal(0, Proc.U64(Proc.ReadOut(obj), 0));        // not during the run

        var queue = BpfTimerQueue.Of(env);
        Assert.Equal(1, queue.Count);
        Assert.Equal(1, queue.ArmedCount);
        Assert.True(queue.TryGetNextExpiry(out ulong expires));
        Assert.Equal(1500UL, expires);

        Assert.Equal(0, queue.AdvanceTo(env, 1499));
        Assert.Equal((0u, 0u), Value(obj));
        Assert.Equal(1, queue.AdvanceTo(env, 2000));
        Assert.Equal((1u, 1u), Value(obj));                      // callback(map, &key 1, value)
        Assert.Equal(2000UL, env.ClockNs);
        Assert.Equal(0, queue.ArmedCount);
        Assert.Equal(1, queue.Count);                            // still initialised
    }

    [Fact]
    public void Init_Twice_EbusyAcrossRuns()
    {
        using var obj = Proc.Load(Arm(1000), Proc.Out(), TimerMap());
        using var runner = new XdpRunner(obj);
        Assert.Equal(0u, runner.Run(Rt.Frame()).Retval);
        Assert.Equal(Rt.Err(Errno.EBUSY), runner.Run(Rt.Frame()).Retval);
    }

    [Fact]
    public void Callback_RearmsItself_FiresPeriodically()
    {
        const string periodic = """
            cb:
            r6 = r3
            r1 = *(u32 *)(r6 +16)
            r1 += 1
            *(u32 *)(r6 +16) = r1
            r1 = r6
            r2 = 100
            r3 = 0
            call bpf_timer_start
            r0 = 0
            exit
            """;
        using var obj = Proc.Load(Arm(1000, callback: periodic), Proc.Out(), TimerMap());
        using var runner = new XdpRunner(obj);
        runner.Run(Rt.Frame());
        var queue = BpfTimerQueue.Of(runner.Env);
        Assert.Equal(4, queue.AdvanceTo(runner.Env, 1350));     // 1000, 1100, 1200, 1300
        Assert.Equal(4u, Value(obj).Fired);
        Assert.True(queue.TryGetNextExpiry(out ulong next));
        Assert.Equal(1400UL, next);
    }

    [Fact]
    public void Cancel_FromOwnCallback_Edeadlk()
    {
        const string selfCancel = """
            cb:
            r6 = r3
            r1 = r6
            call bpf_timer_cancel
            *(u64 *)(r6 +16) = r0
            r0 = 0
            exit
            """;
        using var obj = Proc.Load(Arm(10, callback: selfCancel), Proc.Out(), TimerMap());
        using var runner = new XdpRunner(obj);
        runner.Run(Rt.Frame());
        Assert.Equal(1, BpfTimerQueue.Of(runner.Env).AdvanceTo(runner.Env, 10));
        var v = new byte[24];
        obj.Maps["tmap"].UserLookup(Rt.U32(1), v);
        Assert.Equal(-35L, BinaryPrimitives.ReadInt64LittleEndian(v.AsSpan(16)));
    }

    [Fact]
    public void ElementUpdated_TimerGone_NeverFiresAndInitSucceedsAgain()
    {
        using var obj = Proc.Load(Arm(1000), Proc.Out(), TimerMap());
        using var runner = new XdpRunner(obj);
        Assert.Equal(0u, runner.Run(Rt.Frame()).Retval);
        Assert.Equal(0, obj.Maps["tmap"].UserUpdate(Rt.U32(1), new byte[24], 0));
        var queue = BpfTimerQueue.Of(runner.Env);
        Assert.Equal(0, queue.AdvanceTo(runner.Env, 5000));
        Assert.Equal(0, queue.Count);
        Assert.Equal(0u, runner.Run(Rt.Frame()).Retval);           // not -EBUSY: the kernel freed the timer too
    }

    [Theory]
    [InlineData(1UL, 700UL, 700UL)]             // BPF_F_TIMER_ABS: at 700
    [InlineData(0UL, 700UL, 800UL)]             // relative to the clock (100)
    [InlineData(2UL, 700UL, 800UL)]             // BPF_F_TIMER_CPU_PIN
    public void Start_Flags_Expiry(ulong flags, ulong ns, ulong expected)
    {
        using var obj = Proc.Load(Arm(ns, flags), Proc.Out(), TimerMap());
        using var runner = new XdpRunner(obj, null, new RunOptions { TimeNs = 100 });
        runner.Run(Rt.Frame());
        var timers = BpfTimerQueue.Of(runner.Env).GetTimers();
        var t = Assert.Single(timers);
        Assert.True(t.Armed);
        Assert.True(t.HasCallback);
        Assert.Equal(expected, t.ExpiresNs);
        Assert.Equal("tmap", t.Map);
        Assert.Equal(flags == 2, t.Pinned);
    }

    [Fact]
    public void Start_NegativeRelative_NeverFires()
    {
        // ktime_add_safe(): a negative relative expiry saturates to KTIME_SEC_MAX.
        using var obj = Proc.Load(Arm(ulong.MaxValue - 5), Proc.Out(), TimerMap());
        using var runner = new XdpRunner(obj);
        runner.Run(Rt.Frame());
        var queue = BpfTimerQueue.Of(runner.Env);
        Assert.Equal(0, queue.AdvanceTo(runner.Env, 1UL << 62));
        Assert.Equal(1, queue.ArmedCount);
    }

    [Theory]
    [InlineData(0, 0)]        // CLOCK_REALTIME
    [InlineData(1, 0)]        // CLOCK_MONOTONIC
    [InlineData(7, 0)]        // CLOCK_BOOTTIME
    [InlineData(2, -Errno.EINVAL)]
    [InlineData(9, -Errno.EINVAL)]
    [InlineData(16, -Errno.EINVAL)]
    [InlineData(17, -Errno.EINVAL)]
    public void Init_Clock_KernelResult(int clock, int expected)
    {
        using var obj = Proc.Load(Arm(1000, clock: clock), Proc.Out(), TimerMap());
        using var runner = new XdpRunner(obj);
        Assert.Equal(Rt.Err(-expected), runner.Run(Rt.Frame()).Retval);
    }

    [Fact]
    public void Init_PerCpuArray_FaultsAsLinuxHasNoSuchMap()
    {
        using var obj = Proc.Load(Arm(1000), Proc.Out(), TimerMap(MapType.PercpuArray));
        using var runner = new XdpRunner(obj);
        var r = runner.Run(Rt.Frame());
        Assert.NotNull(r.Error);
        Assert.Contains("-EOPNOTSUPP", r.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Init_OtherMap_FaultsMapMismatch()
    {
        string asm = Proc.OutInR7 + TimerInR6 + """
            r1 = r6
            r2 = map[idx:2]
            r3 = 1
            call bpf_timer_init
            exit
            """ + Proc.Done;
        using var obj = Proc.Load(asm, Proc.Out(), TimerMap(), Rt.Map("other", MapType.Array, 4, 24, 2));
        using var runner = new XdpRunner(obj);
        var r = runner.Run(Rt.Frame());
        Assert.NotNull(r.Error);
        Assert.Contains("doesn't match map pointer", r.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HashMap_CallbackGetsKeyCopy()
    {
        // A hash element inserted by user space at key 1; the callback stores *key.
        using var obj = Proc.Load(Arm(5), Proc.Out(), TimerMap(MapType.Hash));
        Assert.Equal(0, obj.Maps["tmap"].UserUpdate(Rt.U32(1), new byte[24], 0));
        using var runner = new XdpRunner(obj);
        Assert.Equal(0u, runner.Run(Rt.Frame()).Retval);
        Assert.Equal(1, BpfTimerQueue.Of(runner.Env).AdvanceTo(runner.Env, 5));
        Assert.Equal((1u, 1u), Value(obj));
    }

    [Fact]
    public void Attach_SharedQueue_SeenFromBothEnvironments()
    {
        var a = new RuntimeEnv();
        var b = new RuntimeEnv();
        var shared = new BpfTimerQueue();
        BpfTimerQueue.Attach(a, shared);
        BpfTimerQueue.Attach(b, shared);
        Assert.Same(BpfTimerQueue.Of(a), BpfTimerQueue.Of(b));
        Assert.NotSame(BpfTimerQueue.Of(new RuntimeEnv()), shared);
    }
}
