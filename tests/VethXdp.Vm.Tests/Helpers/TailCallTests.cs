using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.Helpers;

/// <summary>bpf_tail_call through a program array: chains, the limit of 33 (checked on Linux 6.18: a program that
/// tail-calls itself runs 34 times; calls to empty slots do not count), subprograms.</summary>
public class TailCallTests
{
    private static MapSpec Progs(params (uint Slot, string Prog)[] slots) =>
        Rt.Map("progs", MapType.ProgArray, 4, 4, 4) with { InitialSlots = [.. slots.Select(s => new MapSlotInit(s.Slot, s.Prog))] };

    private static string TailCall(int slot) => $"r1 = r6\nr2 = map[idx:0]\nr3 = {slot}\ncall bpf_tail_call\n";

    private static Outcome Run(MapSpec[] maps, params Programs.ProgramSpec[] programs)
    {
        using var obj = Rt.Load(maps, programs);
        using var runner = new XdpRunner(obj, programs[0].Name);
        return Outcome.Of(runner.Run(Rt.Frame()));
    }

    [Fact]
    public void Chain_ThreePrograms_LastVerdict()
    {
        var o = Run(
            [Progs((0, "b"), (1, "c"))],
            Rt.Xdp("r6 = r1\n" + TailCall(0) + "r0 = 1\nexit", "a"),
            Rt.Xdp("r6 = r1\n" + TailCall(1) + "r0 = 1\nexit", "b"),
            Rt.Xdp("r2 = *(u32 *)(r1 +0)\nr0 = *(u32 *)(r1 +4)\nr0 -= r2\nexit", "c"));
        Assert.Equal(60u, o.Retval);   // c sees the same context: data_end - data
    }

    [Fact]
    public void SelfTailCall_RunsThirtyFourTimes_ThenContinues()
    {
        var counter = Rt.Global(".bss", new byte[8], frozen: false);
        var self = Rt.Xdp("""
            r6 = r1
            r1 = map[idx:1][0]+0
            r2 = 1
            lock *(u64 *)(r1 +0) += r2
            r1 = r6
            r2 = map[idx:0]
            r3 = 0
            call bpf_tail_call
            r1 = map[idx:1][0]+0
            r0 = *(u64 *)(r1 +0)
            exit
            """, "self");
        var o = Run([Progs((0, "self")), counter], self);
        Assert.Equal(34u, o.Retval);
    }

    [Fact]
    public void EmptySlots_DoNotCount()
    {
        // 40 calls to an empty slot, then one to slot 0: it still succeeds.
        var a = Rt.Xdp("""
            r6 = r1
            r7 = 0
            again:
            r1 = r6
            r2 = map[idx:0]
            r3 = 1
            call bpf_tail_call
            r7 += 1
            if r7 < 40 goto again
            r1 = r6
            r2 = map[idx:0]
            r3 = 0
            call bpf_tail_call
            r0 = 1
            exit
            """, "a");
        var o = Run([Progs((0, "t"))], a, Rt.Xdp("r0 = 7\nexit", "t"));
        Assert.Equal(7u, o.Retval);
    }

    [Theory]
    [InlineData(1)]     // empty
    [InlineData(4)]     // past max_entries
    [InlineData(-1)]    // 0xffffffff
    public void MissingTarget_ContinuesAfterTheCall(int slot)
    {
        var o = Run([Progs((0, "t"))], Rt.Xdp("r6 = r1\n" + TailCall(slot) + "r0 = 3\nexit", "a"), Rt.Xdp("r0 = 7\nexit", "t"));
        Assert.Equal(3u, o.Retval);
        Assert.Null(o.Error);
    }

    [Fact]
    public void FromSubprogram_TargetReturnsToSubprogramsCaller()
    {
        var main = Rt.Xdp("""
            call sub
            r0 += 100
            exit
            sub:
            r2 = map[idx:0]
            r3 = 0
            call bpf_tail_call
            r0 = 1
            exit
            """, "main");
        var o = Run([Progs((0, "t"))], main, Rt.Xdp("r0 = 5\nexit", "t"));
        Assert.Equal(105u, o.Retval);
    }

    [Fact]
    public void Target_KeepsTheStackFrame()
    {
        var a = Rt.Xdp("r6 = r1\n*(u64 *)(r10 -8) = 42\n" + TailCall(0) + "r0 = 1\nexit", "a");
        var o = Run([Progs((0, "t"))], a, Rt.Xdp("r0 = *(u64 *)(r10 -8)\nexit", "t"));
        Assert.Equal(42u, o.Retval);
    }

    [Fact]
    public void SlotSetByUser_ProgramFdIsIndexInObjectPlusOne()
    {
        using var obj = Rt.Load([Progs()], Rt.Xdp("r6 = r1\n" + TailCall(2) + "r0 = 1\nexit", "a"), Rt.Xdp("r0 = 9\nexit", "t"));
        using var runner = new XdpRunner(obj, "a");
        Assert.Equal(1u, runner.Run(Rt.Frame()).Retval);
        Assert.Equal(0, obj.Maps["progs"].UserUpdate(Rt.U32(2), Rt.U32(2), 0));
        Assert.Equal(9u, runner.Run(Rt.Frame()).Retval);
        var id = new byte[4];
        Assert.Equal(0, obj.Maps["progs"].UserLookup(Rt.U32(2), id));
        Assert.Equal("t", obj.Names.ProgramName(BitConverter.ToUInt32(id)));
        Assert.Equal(-Errno.EBADF, obj.Maps["progs"].UserUpdate(Rt.U32(2), Rt.U32(0), 0));
        Assert.Equal(-Errno.EBADF, obj.Maps["progs"].UserUpdate(Rt.U32(2), Rt.U32(7), 0));
    }

    [Fact]
    public void NotAProgArray_Faults()
    {
        var o = Run([Rt.Map("h", MapType.Hash, 4, 4, 4)], Rt.Xdp("r6 = r1\n" + TailCall(0) + "r0 = 1\nexit", "a"));
        Assert.NotNull(o.Error);
        Assert.Equal("cannot pass map_type 1 into func bpf_tail_call#12", o.Error.Message);
    }
}
