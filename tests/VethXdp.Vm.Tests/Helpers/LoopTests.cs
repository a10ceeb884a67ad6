using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.Helpers;

/// <summary>bpf_loop and bpf_for_each_map_elem: callbacks in new call frames, return values and errors.</summary>
public class LoopTests
{
    // fp-8 = 0; r0 = bpf_loop(N, cb, &fp-8, FLAGS); r0 += fp-8 * 100
    // cb(i, ctx): *ctx += i + 1; return i == STOP
    private static string Loop(long n, ulong flags = 0, int stop = -1) => $"""
        *(u64 *)(r10 -8) = 0
        r1 = {n} ll
        ld_pseudo r2, 4, 9
        r3 = r10
        r3 += -8
        r4 = {flags}
        call bpf_loop
        r1 = *(u64 *)(r10 -8)
        r1 *= 100
        r0 += r1
        exit
        r3 = *(u64 *)(r2 +0)
        r3 += r1
        r3 += 1
        *(u64 *)(r2 +0) = r3
        r0 = 0
        if r1 != {stop} goto out
        r0 = 1
        out:
        exit
        """;

    [Fact]
    public void Loop_FiveTimes_ReturnsFive() => Assert.Equal(5u + 1500, Rt.RunOnce(Loop(5)).Retval);

    [Fact]
    public void Loop_CallbackStopsAtTwo_ReturnsThree() => Assert.Equal(3u + 600, Rt.RunOnce(Loop(5, stop: 2)).Retval);

    [Fact]
    public void Loop_Zero_ReturnsZero() => Assert.Equal(0u, Rt.RunOnce(Loop(0)).Retval);

    [Fact]
    public void Loop_Flags_Einval() => Assert.Equal(Rt.Err(Errno.EINVAL), Rt.RunOnce(Loop(5, flags: 1)).Retval);

    [Fact]
    public void Loop_MoreThanEightMillion_E2big() =>
        Assert.Equal(Rt.Err(Errno.E2BIG), Rt.RunOnce(Loop((1 << 23) + 1)).Retval);

    [Fact]
    public void Loop_CountIsU32() =>
        Assert.Equal(3u + 600, Rt.RunOnce(Loop((1L << 32) + 3)).Retval);

    [Fact]
    public void Loop_CallbackFault_NamesCallbackInstruction()
    {
        // The callback dereferences r1 (the index): a fault at its first instruction (slot 7).
        var o = Rt.RunOnce("""
            r1 = 3
            ld_pseudo r2, 4, 5
            r3 = 0
            r4 = 0
            call bpf_loop
            exit
            r0 = *(u64 *)(r1 +0)
            exit
            """);
        Assert.NotNull(o.Error);
        Assert.Equal(7, o.Error.Insn);
    }

    [Fact]
    public void Loop_CallbackStackIsItsOwn()
    {
        // main writes 7 at fp-8; the callback writes 9 at its own fp-8; main still reads 7.
        var o = Rt.RunOnce("""
            *(u64 *)(r10 -8) = 7
            r1 = 1
            ld_pseudo r2, 4, 6
            r3 = 0
            r4 = 0
            call bpf_loop
            r0 = *(u64 *)(r10 -8)
            exit
            *(u64 *)(r10 -8) = 9
            r0 = 0
            exit
            """);
        Assert.Equal(7u, o.Retval);
    }

    [Fact]
    public void Loop_Nested_CountsInnerCalls()
    {
        // outer cb runs an inner bpf_loop of 3 each time: 4 * 3 inner calls, each adding 1 to fp-8 of main.
        var o = Rt.RunOnce("""
            *(u64 *)(r10 -8) = 0
            r1 = 4
            ld_pseudo r2, 4, 7
            r3 = r10
            r3 += -8
            r4 = 0
            call bpf_loop
            r0 = *(u64 *)(r10 -8)
            exit
            r3 = r2
            r1 = 3
            ld_pseudo r2, 4, 5
            r4 = 0
            call bpf_loop
            r0 = 0
            exit
            r3 = *(u64 *)(r2 +0)
            r3 += 1
            *(u64 *)(r2 +0) = r3
            r0 = 0
            exit
            """);
        Assert.Null(o.Error);
        Assert.Equal(12u, o.Retval);
    }

    [Fact]
    public void Loop_RecursiveCallback_CallStackExceeded()
    {
        // The callback calls bpf_loop with itself: the ninth frame faults.
        var o = Rt.RunOnce("""
            r1 = 1
            ld_pseudo r2, 4, 5
            r3 = 0
            r4 = 0
            call bpf_loop
            exit
            r1 = 1
            ld_pseudo r2, 4, -2
            r3 = 0
            r4 = 0
            call bpf_loop
            r0 = 0
            exit
            """);
        Assert.NotNull(o.Error);
        Assert.Contains("call stack of 8 frames", o.Error.Message, StringComparison.Ordinal);
    }

    // sum = 0 at fp-8; r0 = bpf_for_each_map_elem(map, cb, &sum, 0); r0 += sum * 100
    // cb(map, key, value, ctx): *ctx += *value; return *key == STOP
    private static string ForEach(int stop = -1, ulong flags = 0) => $"""
        *(u64 *)(r10 -8) = 0
        r1 = map[idx:0]
        ld_pseudo r2, 4, 9
        r3 = r10
        r3 += -8
        r4 = {flags}
        call bpf_for_each_map_elem
        r1 = *(u64 *)(r10 -8)
        r1 *= 100
        r0 += r1
        exit
        r5 = *(u64 *)(r3 +0)
        r6 = *(u64 *)(r4 +0)
        r6 += r5
        *(u64 *)(r4 +0) = r6
        r0 = 0
        r5 = *(u32 *)(r2 +0)
        if r5 != {stop} goto out
        r0 = 1
        out:
        exit
        """;

    private static Outcome RunForEach(string asm, MapSpec spec)
    {
        using var obj = Rt.Load(asm, spec);
        for (uint k = 0; k < 4; k++)
        {
            Assert.Equal(0, obj.Maps[0].UserUpdate(Rt.U32(k), Rt.U64(k + 1), 0));
        }

        using var runner = new XdpRunner(obj);
        return Outcome.Of(runner.Run(Rt.Frame()));
    }

    [Fact]
    public void ForEach_Array_VisitsEveryElement() =>
        Assert.Equal(4u + 1000, RunForEach(ForEach(), Rt.Map("a", MapType.Array, 4, 8, 4)).Retval);

    [Fact]
    public void ForEach_StopAtKeyOne_CountsTheStoppingCall() =>
        Assert.Equal(2u + 300, RunForEach(ForEach(stop: 1), Rt.Map("a", MapType.Array, 4, 8, 4)).Retval);

    [Fact]
    public void ForEach_Hash_VisitsEveryElement() =>
        Assert.Equal(4u + 1000, RunForEach(ForEach(), Rt.Map("h", MapType.Hash, 4, 8, 8)).Retval);

    [Fact]
    public void ForEach_Flags_Einval() =>
        Assert.Equal(Rt.Err(Errno.EINVAL), RunForEach(ForEach(flags: 1), Rt.Map("a", MapType.Array, 4, 8, 4)).Retval);

    [Fact]
    public void ForEach_KeyIsReadOnly()
    {
        var asm = ForEach().Replace("r5 = *(u64 *)(r3 +0)", "*(u32 *)(r2 +0) = 1", StringComparison.Ordinal);
        var o = RunForEach(asm, Rt.Map("a", MapType.Array, 4, 8, 4));
        Assert.NotNull(o.Error);
        Assert.Contains("read-only", o.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForEach_Queue_NotAllowed()
    {
        var o = Rt.RunOnce(ForEach(), maps: Rt.Map("q", MapType.Queue, 0, 8, 4));
        Assert.Equal("callback function not allowed for map", o.Error!.Message);
    }
}
