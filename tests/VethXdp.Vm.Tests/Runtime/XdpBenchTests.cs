using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.Runtime;

/// <summary>XdpBench: BPF_PROG_TEST_RUN's repeat semantics (nothing reset between runs), the mean over frames, errors,
/// and a timed loop that allocates nothing.</summary>
public class XdpBenchTests
{
    /// <summary>Adds 1 to the frame's first byte (after the data_end check) and passes.</summary>
    public const string IncrementFirstByte = """
        r2 = *(u32 *)(r1 +0)
        r3 = *(u32 *)(r1 +4)
        r4 = r2
        r4 += 1
        if r4 > r3 goto out
        r5 = *(u8 *)(r2 +0)
        r5 += 1
        *(u8 *)(r2 +0) = r5
        out:
        r0 = 2
        exit
        """;

    // Moves data one byte forward per run (the context is not reset, so the frame keeps shrinking).
    private const string ShrinkHead = """
        r2 = 1
        call bpf_xdp_adjust_head
        r0 = 2
        exit
        """;

    // Counts runs in an array map, reads the clock, grows the head and shrinks it back, increments byte 0, drops.
    private const string Busy = """
        r6 = r1
        *(u32 *)(r10 -4) = 0
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto skip
        r1 = 1
        lock *(u64 *)(r0 +0) += r1
        skip:
        call bpf_ktime_get_ns
        r1 = r6
        r2 = -14
        call bpf_xdp_adjust_head
        r1 = r6
        r2 = 14
        call bpf_xdp_adjust_head
        r2 = *(u32 *)(r6 +0)
        r3 = *(u32 *)(r6 +4)
        r4 = r2
        r4 += 1
        if r4 > r3 goto out
        r5 = *(u8 *)(r2 +0)
        r5 += 1
        *(u8 *)(r2 +0) = r5
        out:
        r0 = 1
        exit
        """;

    // Faults once the first byte has reached 3: a load 1000 bytes past data.
    private const string FaultAtThree = """
        r2 = *(u32 *)(r1 +0)
        r3 = *(u32 *)(r1 +4)
        r4 = r2
        r4 += 1
        if r4 > r3 goto out
        r5 = *(u8 *)(r2 +0)
        if r5 == 3 goto bad
        r5 += 1
        *(u8 *)(r2 +0) = r5
        out:
        r0 = 2
        exit
        bad:
        r0 = *(u8 *)(r2 +1000)
        exit
        """;

    private static readonly XdpBenchOptions s_quick = new() { Repeat = 300, WarmupRuns = 50, Warmup = TimeSpan.Zero };

    [Fact]
    public void MeasurePacket_ProgramIncrementsByte_ByteGrewByRepeatMod256()
    {
        using var obj = Rt.Load(IncrementFirstByte);
        using var bench = new XdpBench(obj, null, null, null, s_quick);
        var frame = Rt.Frame(60);
        frame[0] = 250;
        var p = bench.MeasurePacket(0, frame);
        Assert.Null(p.Error);
        Assert.Equal((byte)((250 + 300) % 256), p.Data[0]);
        Assert.Equal(frame.AsSpan(1).ToArray(), p.Data.AsSpan(1).ToArray());
        Assert.Equal(Rt.Pass, p.Retval);
        Assert.True(p.NsPerRun > 0 && double.IsFinite(p.NsPerRun), $"ns per run {p.NsPerRun}");
    }

    [Fact]
    public void MeasurePacket_ProgramMovesData_ContextNotResetBetweenRuns()
    {
        using var obj = Rt.Load(ShrinkHead);
        using var bench = new XdpBench(obj, null, null, null, s_quick with { Repeat = 20, WarmupRuns = 5 });
        var p = bench.MeasurePacket(0, Rt.Frame(60));
        Assert.Null(p.Error);
        Assert.Equal(40, p.Data.Length);
        Assert.Equal(20, p.Data[0]);
    }

    [Fact]
    public void RunTimed_LoadedFrame_RunsExactlyAskedTimes()
    {
        using var obj = Rt.Load(IncrementFirstByte);
        using var bench = new XdpBench(obj, null, null, null, s_quick);
        Assert.Null(bench.Load(Rt.Frame(60)));
        long ticks = bench.RunTimed(7);
        Assert.True(ticks >= 0);
        Assert.Equal(7, bench.Frame.Packet.Span[0]);
        bench.RunTimed(3);
        Assert.Equal(10, bench.Frame.Packet.Span[0]);
    }

    [Fact]
    public void RunTimed_AfterWarmUp_AllocatesNothing()
    {
        using var obj = Rt.Load(Busy, Rt.Map("runs", MapType.Array, 4, 8, 1));
        using var bench = new XdpBench(obj, null, null, null, s_quick);
        Assert.Null(bench.Load(Rt.Frame(64)));
        bench.RunTimed(1000);
        Assert.Equal(Rt.Drop, bench.LastRetval);

        long before = GC.GetAllocatedBytesForCurrentThread();
        bench.RunTimed(10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal((byte)((1000 + 10_000) % 256), bench.Frame.Packet.Span[0]);
    }

    [Fact]
    public void Measure_SeveralFrames_MeanOverFramesThatRan()
    {
        using var obj = Rt.Load(IncrementFirstByte);
        using var bench = new XdpBench(obj, null, null, null, s_quick);
        var result = bench.Measure([Rt.Frame(60), new byte[10], Rt.Frame(100)]);

        Assert.Equal(3, result.Packets.Count);
        Assert.Equal(InterpreterEngine.Name, result.Engine);
        Assert.Equal(300, result.Repeat);
        Assert.Null(result.Packets[0].Error);
        Assert.Null(result.Packets[2].Error);
        var refused = result.Packets[1].Error;
        Assert.NotNull(refused);
        Assert.Null(refused.Insn);
        Assert.Contains("-EINVAL", refused.Message, StringComparison.Ordinal);
        Assert.Same(result.Packets[1], result.FirstError);
        double mean = (result.Packets[0].NsPerRun + result.Packets[2].NsPerRun) / 2;
        Assert.Equal(mean, result.NsPerRun, 9);
    }

    [Fact]
    public void MeasurePacket_FaultInLaterRun_ErrorNamesInstruction()
    {
        using var obj = Rt.Load(FaultAtThree);
        using var bench = new XdpBench(obj, null, null, null, s_quick);
        var p = bench.MeasurePacket(4, Rt.Frame(60));
        Assert.NotNull(p.Error);
        Assert.Equal(11, p.Error.Insn);
        Assert.Contains("warm-up", p.Error.Message, StringComparison.Ordinal);
        Assert.Equal(4, p.Index);
        Assert.True(double.IsNaN(p.NsPerRun));
    }

    [Fact]
    public void RunTimed_NothingLoaded_Throws()
    {
        using var obj = Rt.Load(IncrementFirstByte);
        using var bench = new XdpBench(obj, null, null, null, s_quick);
        Assert.Throws<InvalidOperationException>(() => bench.RunTimed(1));
    }

    [Fact]
    public void Constructor_RepeatZero_Throws()
    {
        using var obj = Rt.Load(IncrementFirstByte);
        Assert.Throws<ArgumentOutOfRangeException>(() => new XdpBench(obj, null, null, null, new XdpBenchOptions { Repeat = 0 }));
    }
}
