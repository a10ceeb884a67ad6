using VethXdp.Reports.Trace;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;

namespace VethXdp.Reports.Tests.Trace;

/// <summary>The interpreter's tracing hook and the recorder, on hand-assembled programs.</summary>
public class TraceRecorderTests
{
    private static (TraceRecorder Recorder, RunResult Result) Trace(string source, byte[] memory, int maxSteps = TraceRecorder.DefaultMaxSteps)
    {
        using var vm = new BpfInterpreter(BpfProgram.Create(Assembler.Assemble(source), "t"), HelperTable.CreateDefault());
        var recorder = new TraceRecorder(maxSteps: maxSteps);
        vm.Tracer = recorder;
        var result = vm.RunWithMemory(memory);
        return (recorder, result);
    }

    [Fact]
    public void OnStep_LoadsStoresAndAtomics_AreNamedByRegionWithValues()
    {
        var (rec, result) = Trace("""
            r2 = *(u8 *)(r1 +1)
            *(u64 *)(r10 -8) = r2
            r0 = *(u64 *)(r10 -8)
            lock *(u64 *)(r10 -8) += r0
            r0 = *(u64 *)(r10 -8)
            exit
            """, [0x01, 0x29, 0x03]);

        Assert.Equal(0x52UL, result.R0);
        var r = rec.Records;
        Assert.Equal(6, r.Count);
        Assert.Equal([1L, 2, 3, 4, 5, 6], r.Select(x => x.Step));
        Assert.Equal([new TraceMemoryAccess("load", "mem", 1, 1, 0x29, r[0].Memory[0].Address, null)], r[0].Memory);
        Assert.Equal([new TraceRegisterChange(2, 3, 0x29, null)], r[0].Registers);   // r2 held the memory's length
        Assert.Equal("store", r[1].Memory[0].Op);
        Assert.Equal("fp-8", r[1].Memory[0].Location);
        Assert.Equal((0x29UL, 8), (r[1].Memory[0].Value, r[1].Memory[0].Size));
        Assert.Empty(r[1].Registers);

        // The atomic add reads 0x29 and writes 0x52.
        Assert.Equal(["load fp-8 0x29", "store fp-8 0x52"], r[3].Memory.Select(m => $"{m.Op} {m.Location} 0x{m.Value:x}"));
        Assert.Equal(new TraceCall("exit", 0, null, [], [], 0x52, null, null), r[5].Call);
        Assert.Equal(-1, r[5].Next);
    }

    [Fact]
    public void OnStep_Registers_ShowOldAndNewAndWhereTheyPoint()
    {
        var (rec, _) = Trace("""
            r3 = r10
            r3 += -16
            r4 = r1
            r4 += 2
            r0 = 7
            exit
            """, [1, 2, 3, 4]);

        var r = rec.Records;
        Assert.Equal("fp", r[0].Registers.Single().Pointer);
        Assert.Equal("fp-16", r[1].Registers.Single().Pointer);
        Assert.Equal("mem+2", r[3].Registers.Single().Pointer);
        Assert.Equal(new TraceRegisterChange(0, 0, 7, null), r[4].Registers.Single());
        Assert.Equal("r3 += -16", r[1].Text);
    }

    [Fact]
    public void OnStep_LocalCallAndReturn_ChangeFrameAndNameTargets()
    {
        var (rec, result) = Trace("""
            r1 = 5
            call pc+2
            r0 += 1
            exit
            r0 = r1
            r0 *= 2
            exit
            """, []);

        Assert.Equal(11UL, result.R0);
        var r = rec.Records;
        Assert.Equal([0, 1, 4, 5, 6, 2, 3], r.Select(x => x.Insn));
        Assert.Equal([0, 0, 1, 1, 1, 0, 0], r.Select(x => x.Frame));
        Assert.Equal(("call", 4), (r[1].Call!.Kind, r[1].Call!.Target!.Value));
        Assert.Equal(4, r[1].Next);
        Assert.Equal(("return", 2, 10UL), (r[4].Call!.Kind, r[4].Call!.Target!.Value, r[4].Call!.Result!.Value));
        Assert.Equal("exit", r[6].Call!.Kind);
    }

    [Fact]
    public void OnStep_ConditionalJumps_SayWhetherTheyJumped()
    {
        var (rec, _) = Trace("""
            r0 = 0
            if r0 == 0x0 goto pc+1
            r0 = 1
            if r0 != 0x0 goto pc+1
            exit
            exit
            """, []);

        var r = rec.Records;
        Assert.Equal([null, true, false, null], r.Select(x => x.Taken));
        Assert.Equal(3, r[1].Next);
    }

    [Fact]
    public void OnStep_HelperCall_ShowsItsArgumentsAndResult()
    {
        var (rec, _) = Trace("""
            *(u32 *)(r10 -8) = 0x636261
            *(u32 *)(r10 -16) = 0x646261
            r1 = r10
            r1 += -8
            r2 = 3
            r3 = r10
            r3 += -16
            call bpf_strncmp#182
            exit
            """, []);

        var step = rec.Records[7];
        var call = step.Call!;
        Assert.Equal(("helper", 182L, "bpf_strncmp"), (call.Kind, call.Id, call.Name));
        Assert.Equal(["fp-8", "0x3", "fp-16"], call.ArgText);
        Assert.Equal(3, call.Args.Count);
        Assert.Equal(unchecked((ulong)-1L), call.Result);   // "abc" < "abd"
        Assert.Equal(call.Result, step.Registers.Single(g => g.Register == 0).New);
    }

    [Fact]
    public void Tracer_Detached_RecordsNothingMore()
    {
        using var vm = new BpfInterpreter(BpfProgram.Create(Assembler.Assemble("r0 = 1\nexit"), "t"), HelperTable.CreateDefault());
        var recorder = new TraceRecorder();
        vm.Tracer = recorder;
        vm.RunWithMemory([]);
        vm.Tracer = null;
        vm.RunWithMemory([]);

        Assert.Equal(2, recorder.Records.Count);
    }

    [Fact]
    public void OnStep_PastMaxSteps_CountsWhatItDrops()
    {
        var (rec, result) = Trace("""
            r0 = 0
            r0 += 1
            if r0 < 0x64 goto pc-2
            exit
            """, [], maxSteps: 10);

        Assert.Equal(10, rec.Records.Count);
        Assert.Equal(result.InstructionsExecuted - 10, rec.Dropped);
        Assert.Contains("more instructions not recorded", TraceRenderer.RenderText(rec), StringComparison.Ordinal);
    }

    [Fact]
    public void Tracer_Set_RunGivesTheSameResultAsUntraced()
    {
        const string source = """
            r0 = 0
            r2 = *(u32 *)(r1 +0)
            r0 += r2
            r0 *= 31
            r2 += -1
            *(u32 *)(r1 +0) = r2
            if r2 != 0x0 goto pc-5
            exit
            """;
        using var plain = new BpfInterpreter(BpfProgram.Create(Assembler.Assemble(source), "t"), HelperTable.CreateDefault());
        using var traced = new BpfInterpreter(BpfProgram.Create(Assembler.Assemble(source), "t"), HelperTable.CreateDefault()) { Tracer = new TraceRecorder() };
        byte[] a = [20, 0, 0, 0], b = [20, 0, 0, 0];

        var x = plain.RunWithMemory(a);
        var y = traced.RunWithMemory(b);

        Assert.Equal(x, y);
        Assert.Equal(a, b);
    }
}
