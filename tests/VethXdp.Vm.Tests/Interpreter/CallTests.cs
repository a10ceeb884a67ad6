using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>Helper calls, callx and BPF-to-BPF calls.</summary>
public class CallTests
{
    private static Instruction CallHelper(int id) => new(Op.Call, 0, 0, 0, id);
    private static Instruction CallLocal(int rel) => new(Op.Call, 0, (Register)CallKind.Local, 0, rel);

    [Fact]
    public void KtimeGetNs_VirtualClock_DoesNotMoveWhileRunning()
    {
        using var vm = new BpfInterpreter(BpfProgram.Create([CallHelper(5), Mov64(R6, R0), CallHelper(5), I(Op.Sub64Reg, R0, R6), Exit()]));
        vm.Env.ClockNs = 1000;
        Assert.Equal(0UL, vm.RunWithMemory([]).R0);
        Assert.Equal(1000UL, vm.Env.ClockNs);
        vm.Env.AdvanceClock(250);
        Assert.Equal(1250UL, vm.Env.ReadClock());
    }

    [Fact]
    public void KtimeGetNs_ReturnsClockValue()
    {
        using var vm = new BpfInterpreter(BpfProgram.Create([CallHelper((int)HelperId.KtimeGetNs), Exit()]));
        vm.Env.ClockNs = 123_456;
        Assert.Equal(123_456UL, vm.RunWithMemory([]).R0);
    }

    [Fact]
    public void Helper_Custom_GetsArgumentsAndEnv()
    {
        var table = new HelperTable();
        RuntimeEnv? seen = null;
        table.Register(77, "sum", (a, b, c, d, e, env) =>
        {
            seen = env;
            return a + (b * 10) + (c * 100) + (d * 1000) + (e * 10000);
        });
        using var vm = new BpfInterpreter(
            BpfProgram.Create([Mov64(R1, 1), Mov64(R2, 2), Mov64(R3, 3), Mov64(R4, 4), Mov64(R5, 5), CallHelper(77), Exit()]),
            table);
        Assert.Equal(54321UL, vm.RunWithMemory([]).R0);
        Assert.Same(vm.Env, seen);
        Assert.Equal("sum", table.GetName(77));
    }

    [Fact]
    public void CallX_HelperIdInDst_CallsIt()
    {
        var table = HelperTable.CreateDefault();
        table.Register(9, "nine", (_, _, _, _, _, _) => 9);
        // mov r2, 9; callx r2; exit  (callx: register number in dst)
        Assert.Equal(9UL, Run([Mov64(R2, 9), I(Op.CallX, R2), Exit()], helpers: table).R0);
    }

    [Fact]
    public void CallX_UnknownId_Faults()
    {
        var e = Fault([Mov64(R2, -1), I(Op.CallX, R2), Exit()]);
        Assert.Equal(FaultKind.UnknownHelper, e.Kind);
        Assert.Equal("insn 1: unknown helper id -1", e.Message);
    }

    [Fact]
    public void LocalCall_PassesArgsPreservesCalleeSaved()
    {
        // main: r1..r5 = 1..5; r6..r9 = 6..9; call f; r0 = r0*10000 + r6 + r7 + r8 + r9 (expect 15*10000 + 30)
        // f:    r0 = r1+..+r5; clobber r6..r9; exit
        var prog = Prog(
            Mov64(R1, 1), Mov64(R2, 2), Mov64(R3, 3), Mov64(R4, 4), Mov64(R5, 5),
            Mov64(R6, 6), Mov64(R7, 7), Mov64(R8, 8), Mov64(R9, 9),
            CallLocal(6),
            I(Op.Mul64Imm, R0, imm: 10000), I(Op.Add64Reg, R0, R6), I(Op.Add64Reg, R0, R7), I(Op.Add64Reg, R0, R8), I(Op.Add64Reg, R0, R9),
            Exit(),
            Mov64(R0, R1), I(Op.Add64Reg, R0, R2), I(Op.Add64Reg, R0, R3), I(Op.Add64Reg, R0, R4), I(Op.Add64Reg, R0, R5),
            Mov64(R6, 0), Mov64(R7, 0), Mov64(R8, 0), Mov64(R9, 0),
            Exit());
        Assert.Equal(150030UL, Run(prog).R0);
    }

    [Fact]
    public void LocalCall_CalleeStack_IsSeparateAndR10Restored()
    {
        // main: *(r10-8) = 1; call f; r0 = *(r10-8)   f: *(r10-8) = 2; exit
        var prog = Prog(
            I(Op.StDw, R10, off: -8, imm: 1),
            CallLocal(2),
            I(Op.LdxDw, R0, R10, -8),
            Exit(),
            I(Op.StDw, R10, off: -8, imm: 2),
            Exit());
        Assert.Equal(1UL, Run(prog).R0);
    }

    [Fact]
    public void LocalCall_CallerStackPointer_CalleeCanWriteThroughIt()
    {
        // main: r1 = r10 - 8; call f; r0 = *(r10-8)   f: *(r1+0) = 42; exit
        var prog = Prog(
            Mov64(R1, R10), I(Op.Add64Imm, R1, imm: -8),
            CallLocal(2),
            I(Op.LdxDw, R0, R10, -8),
            Exit(),
            I(Op.StDw, R1, imm: 42),
            Exit());
        Assert.Equal(42UL, Run(prog).R0);
    }

    [Fact]
    public void LocalCall_PointerIntoReturnedFrame_Faults()
    {
        // main: call f; r0 = *(u64 *)(r0 + 0)   f: r0 = r10 - 8; exit  -> the callee's frame is gone
        var prog = Prog(CallLocal(2), I(Op.LdxDw, R0, R0, 0), Exit(), Mov64(R0, R10), I(Op.Add64Imm, R0, imm: -8), Exit());
        var e = Fault(prog);
        Assert.Equal(FaultKind.OutOfBounds, e.Kind);
        Assert.Equal(1, e.Pc);
        Assert.StartsWith("insn 1: out-of-bounds load of 8 bytes at 0x", e.Message, StringComparison.Ordinal);
    }

    // main: r1 = depth; call f; exit.   f: if r1 == 0 goto out; r1 -= 1; call f; out: r0 += 1; exit
    private static Instruction[] Recursion(int calls) => Prog(
        Mov64(R1, calls), Mov64(R0, 0), CallLocal(1), Exit(),
        I(Op.JeqImm, R1, off: 2, imm: 0), I(Op.Sub64Imm, R1, imm: 1), CallLocal(-3),
        I(Op.Add64Imm, R0, imm: 1), Exit());

    [Fact]
    public void LocalCall_EightFrames_Allowed() =>
        Assert.Equal(7UL, Run(Recursion(6)).R0);   // main + 7 calls = 8 frames

    [Fact]
    public void LocalCall_NinthFrame_Faults()
    {
        var e = Fault(Recursion(7));
        Assert.Equal(FaultKind.CallStackExceeded, e.Kind);
        Assert.Equal("insn 6: the call stack of 8 frames is exceeded", e.Message);
    }

    [Fact]
    public void Kfunc_Call_FaultsNotSupported()
    {
        var e = Fault([new Instruction(Op.Call, 0, (Register)CallKind.Kfunc, 0, 1234), Exit()]);
        Assert.Equal(FaultKind.NotSupported, e.Kind);
        Assert.Equal("insn 0: kfunc call with id 1234 is not supported", e.Message);
    }

    [Fact]
    public void Helper_Unknown_Faults()
    {
        var e = Fault([Mov64(R0, 0), CallHelper(1234), Exit()]);
        Assert.Equal(FaultKind.UnknownHelper, e.Kind);
        Assert.Equal(1, e.Pc);
        Assert.Equal("insn 1: unknown helper id 1234", e.Message);
    }

    [Fact]
    public void Helper_Throws_BecomesHelperFailedFault()
    {
        var table = new HelperTable();
        table.Register(50, "boom", (_, _, _, _, _, _) => throw new InvalidOperationException("kaput"));
        var e = Fault([CallHelper(50), Exit()], helpers: table);
        Assert.Equal(FaultKind.HelperFailed, e.Kind);
        Assert.Equal("insn 0: helper boom failed: kaput", e.Message);
        Assert.IsType<InvalidOperationException>(e.InnerException);
    }

    [Fact]
    public void Helper_RaisesFault_GetsCallSitePc()
    {
        var table = new HelperTable();
        table.Register(51, "bad", (_, _, _, _, _, _) => throw new ExecutionFaultException(FaultKind.OutOfBounds, "bad pointer"));
        var e = Fault([Mov64(R0, 0), CallHelper(51), Exit()], helpers: table);
        Assert.Equal(FaultKind.OutOfBounds, e.Kind);
        Assert.Equal("insn 1: bad pointer", e.Message);
    }
}
