using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>The fused stream (InstructionDecoder.Fuse) the untraced loop runs: which pairs fuse, and that runs give what
/// running one instruction at a time gives (r0, instruction counts, budget faults), jumps into a pair's second slot
/// included.</summary>
public class FusionTests
{
    private static DecodedInstruction[] Fused(params object[] parts) =>
        InstructionDecoder.Fuse(InstructionDecoder.Decode(Prog(parts)));

    // A traced run counts and runs the plain stream one instruction at a time.
    private static string Outcome(Instruction[] slots, long budget, bool traced, byte[]? memory = null)
    {
        using var vm = new BpfInterpreter(BpfProgram.Create(slots), null, new InterpreterOptions { InstructionBudget = budget });
        if (traced)
        {
            vm.Tracer = new NullTracer();
        }

        try
        {
            var r = vm.RunWithMemory(memory ?? [3]);
            return $"r0={r.R0} n={r.InstructionsExecuted}";
        }
        catch (ExecutionFaultException e)
        {
            return $"{e.Kind} at {e.Pc}: {e.Message}";
        }
    }

    [Fact]
    public void Fuse_MovThenAddImmOfDst_FusesTheFirstSlotOnly()
    {
        var code = Fused(Mov64(R2, R1), I(Op.Add64Imm, R2, imm: -8), Exit());
        Assert.Equal(InstructionDecoder.MovAddImm, code[0].Opcode);
        Assert.Equal(-8, code[0].Imm);
        Assert.Equal(Op.Add64Imm, code[1].Opcode);
        Assert.Equal(3, code[0].Run);
    }

    [Fact]
    public void Fuse_MovThenAddReg_KeepsTheSecondSource()
    {
        var code = Fused(Mov64(R2, R1), I(Op.Add64Reg, R2, R3), Exit());
        Assert.Equal(InstructionDecoder.MovAddReg, code[0].Opcode);
        Assert.Equal(3, code[0].Imm);
    }

    [Theory]
    [InlineData(Op.Add64Reg, 2, 2)]   // r2 = r1; r2 += r2: the second source is dst
    [InlineData(Op.Add64Imm, 3, 0)]   // the add is to another register
    [InlineData(Op.Add32Imm, 2, 0)]   // a 32-bit add
    public void Fuse_OtherPairs_NotFused(byte op, int dst, int src)
    {
        var code = Fused(Mov64(R2, R1), I(op, (Register)dst, (Register)src, imm: 4), Exit());
        Assert.Equal(Op.Mov64Reg, code[0].Opcode);
    }

    [Fact]
    public void Fuse_MovAtTheLastSlot_NotFusedWithTheSentinel()
    {
        var code = Fused(Exit(), Mov64(R2, R1));
        Assert.Equal(Op.Mov64Reg, code[1].Opcode);
        Assert.Equal(InstructionDecoder.FellOff, code[2].Opcode);
    }

    [Theory]
    [InlineData(InstructionDecoder.MovAddImm)]
    [InlineData(InstructionDecoder.MovAddReg)]
    public void RawInternalPairOpcode_DecodesAsUnknown(byte opcode)
    {
        var plain = InstructionDecoder.Decode(Prog(new Instruction(opcode, 0, 0, 0, 0), Exit()));
        Assert.Equal(0, plain[0].Opcode);
        Assert.Equal(0, InstructionDecoder.Fuse(plain)[0].Opcode);
    }

    [Fact]
    public void Pairs_Values_AsOneByOne()
    {
        // r1 = 5; r3 = 7; r2 = r1; r2 += -8; r4 = r3; r4 += r1; r5 = r5; r5 += 1 (r5 = 0 + 1); r0 = r2 ^ r4 ^ r5.
        var prog = Prog(
            Mov64(R1, 5),
            Mov64(R3, 7),
            Mov64(R2, R1),
            I(Op.Add64Imm, R2, imm: -8),
            Mov64(R4, R3),
            I(Op.Add64Reg, R4, R1),
            Mov64(R5, R5),
            I(Op.Add64Imm, R5, imm: 1),
            Mov64(R0, R2),
            I(Op.Xor64Reg, R0, R4),
            I(Op.Xor64Reg, R0, R5),
            Exit());
        Assert.Equal((unchecked((ulong)-3) ^ 12UL) ^ 1UL, Run(prog).R0);
        Assert.Equal(Outcome(prog, 100, traced: true), Outcome(prog, 100, traced: false));
    }

    [Fact]
    public void JumpIntoTheSecondSlot_RunsItAlone()
    {
        // if input[0] == 3 jump to the add: r2 = 10 (not the input) then += 1; else r2 = input + 1.
        var prog = Prog(
            I(Op.LdxB, R3, R1),
            Mov64(R2, 10),
            I(Op.JeqImm, R3, off: 1, imm: 3),
            Mov64(R2, R3),
            I(Op.Add64Imm, R2, imm: 1),
            Mov64(R0, R2),
            Exit());
        Assert.Equal(11UL, Run(prog, [3]).R0);
        Assert.Equal(5UL, Run(prog, [4]).R0);
        Assert.Equal(Outcome(prog, 100, traced: true, [3]), Outcome(prog, 100, traced: false, [3]));
        Assert.Equal(Outcome(prog, 100, traced: true, [4]), Outcome(prog, 100, traced: false, [4]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void BudgetInsideAPair_SameFaultAsOneByOne(int budget)
    {
        var prog = Prog(
            Mov64(R1, 9),
            Mov64(R2, R1),
            I(Op.Add64Imm, R2, imm: 1),
            Mov64(R3, R2),
            I(Op.Add64Reg, R3, R2),
            Mov64(R0, R3),
            Exit());
        Assert.Equal(Outcome(prog, budget, traced: true), Outcome(prog, budget, traced: false));
    }

    [Fact]
    public void Fuse_CounterBoundsAndNtohs_FuseTheirFirstSlots()
    {
        var code = Fused(
            I(Op.Add64Imm, R7, imm: 2),
            I(Op.JneImm, R6, off: -1, imm: 60),
            Mov32(R0, 1),
            I(Op.JgtReg, R9, R3, off: 1),
            I(Op.LdxH, R0, R8, 14),
            I(Op.Be, R0, imm: 16),
            I(Op.LdxH, R0, R8, 14),
            I(Op.Be, R1, imm: 16),      // another register: not a pair
            Exit());
        Assert.Equal(InstructionDecoder.AddJneImm, code[0].Opcode);
        Assert.Equal(Op.JneImm, code[1].Opcode);
        Assert.Equal(InstructionDecoder.Mov32JgtReg, code[2].Opcode);
        Assert.Equal(InstructionDecoder.LdxHBe16, code[4].Opcode);
        Assert.Equal(Op.LdxH, code[6].Opcode);
    }

    // Sums the big-endian u16 words of the input (6 bytes) in a counted loop with a bounds check, as clang writes it.
    private static readonly Instruction[] s_wordLoop = Prog(
        Mov64(R5, R1),               // data
        Mov64(R3, R1),
        I(Op.Add64Reg, R3, R2),      // data_end = data + length
        Mov64(R6, 0),                // sum
        Mov64(R7, 0),                // i
        Mov64(R8, R5),               // loop:
        I(Op.Add64Reg, R8, R7),
        Mov64(R9, R8),
        I(Op.Add64Imm, R9, imm: 2),
        Mov32(R0, 1),
        I(Op.JgtReg, R9, R3, off: 6),  // -> exit (r0 = 1)
        I(Op.LdxH, R0, R8, 0),
        I(Op.Be, R0, imm: 16),
        I(Op.Add64Reg, R6, R0),
        I(Op.Add64Imm, R7, imm: 2),
        I(Op.JneImm, R7, off: -11, imm: 6),
        Mov64(R0, R6),
        Exit());

    [Fact]
    public void WordLoop_Sum_AsOneByOne()
    {
        byte[] input = [0x01, 0x02, 0x10, 0x20, 0xff, 0x00];
        Assert.Equal(0x0102UL + 0x1020 + 0xff00, Run(s_wordLoop, input).R0);
        Assert.Equal(Outcome(s_wordLoop, 1000, traced: true, input), Outcome(s_wordLoop, 1000, traced: false, input));
    }

    [Fact]
    public void WordLoop_ShortInput_LeavesThroughTheBoundsCheck()
    {
        // 5 bytes: the third word fails the bounds check (r0 = 1 from the pair's mov).
        byte[] input = [0x01, 0x02, 0x10, 0x20, 0xff];
        Assert.Equal(1UL, Run(s_wordLoop, input).R0);
        Assert.Equal(Outcome(s_wordLoop, 1000, traced: true, input), Outcome(s_wordLoop, 1000, traced: false, input));
    }

    public static TheoryData<int> LoopBudgets()
    {
        var data = new TheoryData<int>();
        for (int b = 1; b <= 40; b++)
        {
            data.Add(b);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LoopBudgets))]
    public void WordLoop_EveryBudget_SameOutcomeAsOneByOne(int budget)
    {
        byte[] input = [0x01, 0x02, 0x10, 0x20, 0xff, 0x00];
        Assert.Equal(Outcome(s_wordLoop, budget, traced: true, input), Outcome(s_wordLoop, budget, traced: false, input));
    }

    [Fact]
    public void LdxHBe16_OutOfBounds_FaultsAtTheLoad()
    {
        var prog = Prog(I(Op.LdxH, R0, R1, 7), I(Op.Be, R0, imm: 16), Exit());
        var e = Assert.Throws<ExecutionFaultException>(() => Run(prog, [1, 2, 3, 4, 5, 6, 7, 8]));
        Assert.Equal(0, e.Pc);
        Assert.Equal(FaultKind.OutOfBounds, e.Kind);
        Assert.Equal(0x0809UL, Run(prog, [1, 2, 3, 4, 5, 6, 7, 8, 9]).R0);
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
