using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>The untraced loop charges the budget per straight run; a traced run counts one instruction at a time. Both
/// must stop at the same instruction with the same fault, and count the same instructions, for every budget.</summary>
public class BudgetAccountingTests
{
    // r6 counts five calls of f (r0 = r1 + 3) in a loop; r0 = r6 * 10 + f's last r0; a 64-bit load on the way.
    private static readonly Instruction[] s_loopWithCalls = Prog(
        Mov64(R6, 0),
        Mov64(R1, 1),
        new Instruction(Op.Call, 0, Register.R1, 0, 7),   // call f (slot 10)
        I(Op.Add64Imm, R6, imm: 1),
        LdDw(R7, 0x100000000),
        I(Op.JltImm, R6, off: -5, imm: 5),                // back to the call
        I(Op.Mul64Imm, R6, imm: 10),
        I(Op.Add64Reg, R0, R6),
        Exit(),
        Mov64(R0, R1),                                     // f
        I(Op.Add64Imm, R0, imm: 3),
        Exit());

    public static TheoryData<int> Budgets()
    {
        var data = new TheoryData<int>();
        for (int b = 1; b <= 40; b++)
        {
            data.Add(b);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Budgets))]
    public void LoopWithCalls_EveryBudget_SameOutcomeAsCountingOneByOne(int budget)
    {
        Assert.Equal(Outcome(s_loopWithCalls, budget, traced: true), Outcome(s_loopWithCalls, budget, traced: false));
    }

    [Fact]
    public void LoopWithCalls_EnoughBudget_CountsEveryInstruction()
    {
        // 2 + 5 x (call + f's 3 + add + lddw + jlt) + mul, add, exit
        var r = Run(s_loopWithCalls, budget: 40);
        Assert.Equal(2 + (5 * 7) + 3, r.InstructionsExecuted);
        Assert.Equal(50UL + 4, r.R0);
    }

    [Fact]
    public void LoopWithCalls_OneShort_FaultsAtTheLastInstruction()
    {
        var e = Fault(s_loopWithCalls, budget: 39);
        Assert.Equal(FaultKind.BudgetExceeded, e.Kind);
        Assert.Equal(9, e.Pc);
    }

    [Theory]
    [InlineData(1, "insn 1: instruction budget of 1 exceeded")]
    [InlineData(2, "insn 2: instruction budget of 2 exceeded")]
    public void FaultingLoadInARun_BudgetEndsFirst_BudgetFault(int budget, string message)
    {
        // The run [mov, mov, load, exit] crosses the budget: the instructions before the load still count one by one.
        var e = Fault(Prog(Mov64(R0, 0), Mov64(R1, 0), I(Op.LdxDw, R2, R1), Exit()), budget: budget);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void FaultingLoadInARun_LoadBeforeTheBudget_OutOfBoundsFault()
    {
        var e = Fault(Prog(Mov64(R0, 0), Mov64(R1, 0), I(Op.LdxDw, R2, R1), Exit()), budget: 3);
        Assert.Equal(FaultKind.OutOfBounds, e.Kind);
        Assert.Equal(2, e.Pc);
    }

    [Fact]
    public void FallOffTheEnd_BudgetExactlyUsed_FellOffEndFault()
    {
        // Falling off is found before the budget, as when counting one by one.
        var e = Fault(Prog(Mov64(R0, 1), Mov64(R0, 2)), budget: 2);
        Assert.Equal(FaultKind.FellOffEnd, e.Kind);
    }

    [Fact]
    public void HelperCall_BudgetRunsOutAfterTheCall_FaultsAtTheExactInstruction()
    {
        // The count is exact at a call (what a callback run started by the helper would continue from), and the run
        // after the call is charged when the helper returns.
        var table = new HelperTable();
        table.Register(200, "bpf_test_nop", (_, _, _, _, _, _) => 0);
        var prog = Prog(Mov64(R1, 1), new Instruction(Op.Call, 0, 0, 0, 200), Mov64(R0, 1), Mov64(R0, 2), Exit());
        Assert.Equal(5, Run(prog, helpers: table, budget: 5).InstructionsExecuted);
        Assert.Equal("insn 3: instruction budget of 3 exceeded", Fault(prog, helpers: table, budget: 3).Message);
    }

    public static TheoryData<int> CorpusBudgets()
    {
        var data = new TheoryData<int>();
        for (int b = 1; b <= 30; b++)
        {
            data.Add(b);
        }

        for (int b = 31; b <= 660; b += 13)
        {
            data.Add(b);
        }

        data.Add(642);
        data.Add(643);
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(CorpusBudgets))]
    public void CorpusLoops_EveryBudget_SameOutcomeAsCountingOneByOne(int budget)
    {
        // xdp_loops: bpf_loop callbacks (nested runs of the loop), map lookups and xdp_load_bytes; 643 instructions
        // on the first frame of pcaps/checksums.pcap.
        string path = Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_loops.v4.o");
        Skip.IfNot(File.Exists(path), $"{path} is not built");
        using var obj = LoadedObject.Open(path, new LoadOptions { PossibleCpus = 1 });
        var frame = Convert.FromHexString(
            "02000000000202000000000108004500002c00014000401126be0a0000010a000002138800350018a8c730313233343536373839616263646566");
        Assert.Equal(CorpusOutcome(obj, frame, budget, traced: true), CorpusOutcome(obj, frame, budget, traced: false));
    }

    private static string CorpusOutcome(LoadedObject obj, byte[] frame, int budget, bool traced)
    {
        using var runner = new XdpRunner(obj, "xdp_loops", new RunOptions { InstructionBudget = budget });
        var vm = ((InterpreterEngine)runner.Engine).Interpreter;
        if (traced)
        {
            vm.Tracer = new NullTracer();
        }

        var buffer = new XdpBuffer();
        Assert.Equal(0, buffer.Load(frame, 1, 0));
        try
        {
            var r = vm.RunXdp(buffer);
            return $"r0={r.R0} n={r.InstructionsExecuted}";
        }
        catch (ExecutionFaultException e)
        {
            return e.Message;
        }
    }

    private static string Outcome(Instruction[] slots, long budget, bool traced)
    {
        using var vm = new BpfInterpreter(BpfProgram.Create(slots), null, new InterpreterOptions { InstructionBudget = budget });
        if (traced)
        {
            vm.Tracer = new NullTracer();
        }

        try
        {
            var r = vm.RunWithMemory([]);
            return $"r0={r.R0} n={r.InstructionsExecuted}";
        }
        catch (ExecutionFaultException e)
        {
            return e.Message;
        }
    }

    private sealed class NullTracer : IExecutionTracer
    {
        public void OnHelperEnter(in TraceStep step)
        {
        }

        public void OnStep(in TraceStep step)
        {
        }
    }
}
