using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>Runtime checks: memory bounds, budget, end of program; every fault names the instruction.</summary>
public class FaultTests
{
    [Fact]
    public unsafe void Load_PastInputMemory_MessageNamesInsnSizeAddressAndRegion()
    {
        var mem = GC.AllocateArray<byte>(4, pinned: true);
        ulong start;
        fixed (byte* p = mem)
        {
            start = (ulong)p;
        }

        var e = Fault([Mov64(R0, 0), I(Op.LdxW, R0, R1, 4), Exit()], mem);
        Assert.Equal(FaultKind.OutOfBounds, e.Kind);
        Assert.Equal(1, e.Pc);
        Assert.Equal($"insn 1: out-of-bounds load of 4 bytes at 0x{start + 4:x} (just past the end of input memory [0x{start:x}, 4 bytes))", e.Message);
    }

    [Fact]
    public void Store_PastStackTop_MessageNamesStackFrame()
    {
        // r0 = r10; if r2 == 0 goto exit; *(u32 *)(r10 + 8) = 7; exit
        using var vm = new BpfInterpreter(BpfProgram.Create([Mov64(R0, R10), I(Op.JeqImm, R2, off: 1, imm: 0), I(Op.StW, R10, off: 8, imm: 7), Exit()]));
        ulong fp = vm.RunWithMemory([]).R0;   // the frame pointer of frame 0 is the same in every run
        var e = Assert.Throws<ExecutionFaultException>(() => vm.RunWithMemory(new byte[1]));
        Assert.Equal(FaultKind.OutOfBounds, e.Kind);
        Assert.Equal(
            $"insn 2: out-of-bounds store of 4 bytes at 0x{fp + 8:x} (8 bytes past the end of stack frame 0 [0x{fp - 512:x}, 512 bytes))",
            e.Message);
    }

    [Fact]
    public void Load_StraddlingStackTop_Faults()
    {
        var e = Fault([I(Op.LdxDw, R0, R10, -4), Exit()]);
        Assert.Equal(FaultKind.OutOfBounds, e.Kind);
        Assert.Contains("out-of-bounds load of 8 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("the last 4 bytes are past the end of stack frame 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BelowStackBottom_Faults()
    {
        var e = Fault([I(Op.LdxB, R0, R10, -513), Exit()]);
        Assert.Contains("out-of-bounds load of 1 byte at", e.Message, StringComparison.Ordinal);
        Assert.Contains("1 byte before the start of stack frame 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NullPointer_Faults()
    {
        var e = Fault([I(Op.LdxB, R0, R1, 0), Exit()]);   // no memory: r1 = 0
        Assert.Equal(FaultKind.OutOfBounds, e.Kind);
        Assert.StartsWith("insn 0: out-of-bounds load of 1 byte at 0x0 (", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Store_ToContext_FaultsReadOnly()
    {
        using var vm = new BpfInterpreter(BpfProgram.Create([I(Op.StW, R1, off: 12, imm: 5), Mov64(R0, 0), Exit()]));
        var e = Assert.Throws<ExecutionFaultException>(() => vm.RunXdp(new byte[64]));
        Assert.Equal(FaultKind.OutOfBounds, e.Kind);
        Assert.Equal(0, e.Pc);
        Assert.Contains("out-of-bounds store of 4 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("(context [0x", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("24 bytes) is read-only)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InfiniteLoop_SmallBudget_FaultsBudgetExceeded()
    {
        var e = Fault([Mov64(R0, 0), I(Op.Ja, off: -1), Exit()], budget: 100);
        Assert.Equal(FaultKind.BudgetExceeded, e.Kind);
        Assert.Equal("insn 1: instruction budget of 100 exceeded", e.Message);
    }

    [Fact]
    public void InfiniteLoop_DefaultBudget_FaultsAfterOneMillion()
    {
        var e = Fault([I(Op.Ja, off: -1), Exit()]);
        Assert.Equal("insn 0: instruction budget of 1000000 exceeded", e.Message);
    }

    [Fact]
    public void Budget_Exact_Allowed()
    {
        var r = Run([Mov64(R0, 1), Mov64(R0, 2), Exit()], budget: 3);
        Assert.Equal(3, r.InstructionsExecuted);
    }

    [Fact]
    public void FallOffEnd_NoExit_Faults()
    {
        var e = Fault([Mov64(R0, 1), Mov64(R0, 2)]);
        Assert.Equal(FaultKind.FellOffEnd, e.Kind);
        Assert.Equal(1, e.Pc);
        Assert.StartsWith("insn 1: execution fell off the end of the program", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AtomicFetch_IntoR10_Faults()
    {
        var e = Fault([I(Op.AtomicDw, R10, R10, -8, 0x01), Exit()]);
        Assert.Equal(FaultKind.InvalidInstruction, e.Kind);
        Assert.Equal("insn 0: frame pointer is read only", e.Message);
    }

    [Fact]
    public void AfterFault_SameInterpreter_RunsAgain()
    {
        // if r2 == 0: r0 = *(u8 *)(r1) faults on the null pointer; else r0 = 5.
        using var vm = new BpfInterpreter(BpfProgram.Create([I(Op.JneImm, R2, off: 2, imm: 0), I(Op.LdxB, R0, R1, 0), Exit(), Mov64(R0, 5), Exit()]));
        Assert.Throws<ExecutionFaultException>(() => vm.RunWithMemory([]));
        int regions = vm.Env.Regions.Count;
        Assert.Equal(5UL, vm.RunWithMemory(new byte[3]).R0);
        Assert.Equal(0, regions);
        Assert.Equal(0, vm.Env.Regions.Count);
    }

    [Fact]
    public void Constructor_MalformedProgram_ThrowsFormatException()
    {
        var bad = BpfProgram.CreateUnchecked([new Instruction(Op.Mov64Imm, (Register)11, 0, 0, 1), Exit()]);
        var e = Assert.Throws<BpfFormatException>(() => new BpfInterpreter(bad));
        Assert.Equal(0, e.Pc);
    }

    [Fact]
    public void Run_AfterDispose_Throws()
    {
        var vm = new BpfInterpreter(BpfProgram.Create([Mov64(R0, 0), Exit()]));
        vm.Dispose();
        Assert.Throws<ObjectDisposedException>(() => vm.RunWithMemory([]));
    }
}
