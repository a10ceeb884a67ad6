using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using static VethXdp.Jit.Tests.Asm;

namespace VethXdp.Jit.Tests;

/// <summary>Runtime faults on the JIT: the same kind, instruction and message as the interpreter (both come from
/// ExecutionFaults), and the instruction budget exact to the instruction.</summary>
public class FaultTests
{
    [Fact]
    public unsafe void Load_PastInputMemory_SameMessageAsInterpreter()
    {
        var mem = GC.AllocateArray<byte>(4, pinned: true);
        ulong start;
        fixed (byte* p = mem)
        {
            start = (ulong)p;
        }

        using var vm = new JitEngine(JitCompiler.Compile(BpfProgram.Create([Mov64(R0, 0), I(Op.LdxW, R0, R1, 4), Exit()])));
        var e = Assert.Throws<ExecutionFaultException>(() => vm.RunWithMemory(mem));
        Assert.Equal(FaultKind.OutOfBounds, e.Kind);
        Assert.Equal(1, e.Pc);
        Assert.Equal($"insn 1: out-of-bounds load of 4 bytes at 0x{start + 4:x} (just past the end of input memory [0x{start:x}, 4 bytes))", e.Message);
    }

    [Fact]
    public void Store_PastStackTop_NamesStackFrame()
    {
        var o = Engines.Same(Prog(I(Op.StW, R10, off: 8, imm: 7), Exit()));
        Assert.Equal(FaultKind.OutOfBounds, o.Fault);
        Assert.Matches(@"^insn 0: out-of-bounds store of 4 bytes at 0x[0-9a-f]+ \(8 bytes past the end of stack frame 0 \[0x[0-9a-f]+, 512 bytes\)\)$", o.Message);
    }

    [Fact]
    public void Budget_EveryLimit_SameInstructionAsInterpreter()
    {
        // Straight code with loads and stores between ALU runs, a loop, a call: every budget from 1 to past the end.
        var prog = Prog(
            Mov64(R0, 0), Mov64(R2, 5), I(Op.StDw, R10, off: -8, imm: 1), I(Op.LdxB, R3, R1, 0), I(Op.Add64Reg, R0, R3),
            I(Op.Add64Imm, R0, imm: 1), I(Op.Sub64Imm, R2, imm: 1), I(Op.StxB, R1, R2, 1), I(Op.JneImm, R2, off: -4),
            LdDw(R4, 7), CallLocal(2), I(Op.Add64Reg, R0, R4), Exit(), I(Op.Mul64Imm, R0, imm: 3), Exit());
        for (long budget = 1; budget <= 40; budget++)
        {
            var o = Engines.Same(prog, [1, 2, 3], budget: budget);
            if (o.Fault is not null)
            {
                Assert.Equal(FaultKind.BudgetExceeded, o.Fault);
                Assert.Equal($"insn {o.FaultPc}: instruction budget of {budget} exceeded", o.Message);
            }
        }
    }

    [Fact]
    public void FellOffEnd_LastIsLddw_NamesTheLoad()
    {
        var o = Engines.Same(Prog(Mov64(R0, 1), LdDw(R1, 5)));
        Assert.Equal(FaultKind.FellOffEnd, o.Fault);
        Assert.Equal(1, o.FaultPc);
    }

    [Fact]
    public void FellOffEnd_CallReturnsPastTheEnd_Faults()
    {
        // goto +1; exit; call -2 (the exit), which returns past the last slot.
        var o = Engines.Same(Prog(I(Op.Ja, off: 1), Exit(), CallLocal(-2)));
        Assert.Equal(FaultKind.FellOffEnd, o.Fault);
        Assert.Equal(2, o.FaultPc);
    }

    [Fact]
    public void UnresolvedMapLoad_FaultsWhenReached()
    {
        var o = Engines.Same(Prog(new Instruction(Op.LdDw, R1, (Register)PseudoSrc.MapFd, 0, 3), new Instruction(0, 0, 0, 0, 0), Exit()));
        Assert.Equal(FaultKind.NotSupported, o.Fault);
        Assert.StartsWith("insn 0: unresolved map reference (lddw src=1)", o.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Engine_RunWhileRunning_Refused()
    {
        using var vm = new JitEngine(JitCompiler.Compile(BpfProgram.Create([Mov64(R0, 0), Exit()])));
        vm.Dispose();
        Assert.Throws<ObjectDisposedException>(() => vm.RunWithMemory([]));
    }
}
