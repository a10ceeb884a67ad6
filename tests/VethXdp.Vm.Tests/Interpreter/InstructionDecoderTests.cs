using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

public class InstructionDecoderTests
{
    private static DecodedInstruction[] Decode(params object[] parts) => InstructionDecoder.Decode(Prog(parts));

    [Fact]
    public void Decode_StraightRuns_CountToTheNextJumpInclusive()
    {
        var code = Decode(Mov64(R0, 0), Mov64(R1, 1), I(Op.JeqImm, R1, off: 1), Mov64(R0, 2), Exit());
        Assert.Equal([3, 2, 1, 2, 1, 0], code.Select(d => d.Run));
    }

    [Fact]
    public void Decode_Sentinel_FollowsTheLastSlot()
    {
        var code = Decode(Mov64(R0, 0), Exit());
        Assert.Equal(3, code.Length);
        Assert.Equal(InstructionDecoder.FellOff, code[2].Opcode);
        Assert.Equal(0, code[2].Run);
    }

    [Fact]
    public void Decode_LdDw_CountsOnceAndKeepsTheHighHalfInTheSecondSlot()
    {
        var code = Decode(LdDw(R0, 0x1122334455667788), Mov64(R1, 1), Exit());
        Assert.Equal(3, code[0].Run);   // lddw, mov, exit
        Assert.Equal(0x55667788, code[0].Imm);
        Assert.Equal(0x11223344, code[1].Imm);
        Assert.Equal(0, code[1].Opcode);
    }

    [Fact]
    public void Decode_Jumps_TargetIsRelativeToTheSlot()
    {
        var code = Decode(I(Op.Ja, off: 2), Mov64(R0, 1), Mov64(R0, 2), I(Op.JneImm, R0, off: -2, imm: 7), I(Op.Ja32, imm: -4), Exit());
        Assert.Equal(3, code[0].Offset);
        Assert.Equal(-1, code[3].Offset);
        Assert.Equal(-3, code[4].Offset);
    }

    [Fact]
    public void Decode_LocalCall_TargetInOffsetImmKept()
    {
        var code = Decode(new Instruction(Op.Call, 0, Register.R1, 0, 1), Exit(), Mov64(R0, 3), Exit());
        Assert.Equal(2, code[0].Offset);
        Assert.Equal(1, code[0].Imm);
        Assert.Equal((int)CallKind.Local, code[0].Src);
    }

    [Fact]
    public void Decode_JumpOutsideTheProgram_TargetsTheSentinel()
    {
        var slots = Prog(I(Op.Ja, off: 100), Exit());
        var code = InstructionDecoder.Decode(slots);
        Assert.Equal(2, code[0].Offset);
        Assert.Equal(InstructionDecoder.FellOff, code[0 + code[0].Offset].Opcode);
    }

    [Fact]
    public void Decode_MovWithSignExtension_GetsItsOwnOpcode()
    {
        var code = Decode(I(Op.Mov64Reg, R0, R1, off: 8), I(Op.Mov32Reg, R0, R1, off: 16), Mov64(R0, R1), Exit());
        Assert.Equal(InstructionDecoder.MovSx64, code[0].Opcode);
        Assert.Equal(InstructionDecoder.MovSx32, code[1].Opcode);
        Assert.Equal(Op.Mov64Reg, code[2].Opcode);
    }

    [Fact]
    public void Decode_RawOpcodeEqualToAnInternalOne_IsUnknown()
    {
        var code = InstructionDecoder.Decode(Prog(I(InstructionDecoder.FellOff), I(InstructionDecoder.MovSx64), Exit()));
        Assert.Equal(0, code[0].Opcode);
        Assert.Equal(0, code[1].Opcode);
    }

    [Fact]
    public void Decode_RegisterAboveR10_IsMalformed()
    {
        var code = InstructionDecoder.Decode([new Instruction(Op.Mov64Imm, 0x0c, 0, 1), Exit()]);
        Assert.Equal(InstructionDecoder.Malformed, code[0].Opcode);
    }

    [Fact]
    public void Decode_NoJumpToTheEnd_RunReachesTheLastSlot()
    {
        var code = InstructionDecoder.Decode(Prog(Mov64(R0, 1), Mov64(R0, 2)));
        Assert.Equal([2, 1, 0], code.Select(d => d.Run));
    }

    [Fact]
    public void Decode_LegacyPacketLoad_EndsARun()
    {
        var code = Decode(Mov64(R6, R1), I(Op.LdAbsB, imm: 0), Mov64(R0, 0), Exit());
        Assert.Equal([2, 1, 2, 1, 0], code.Select(d => d.Run));
    }

    [Fact]
    public void Run_MalformedTailCallTarget_FaultsWithTheReason()
    {
        // The constructor validates the program it is given; a tail-call target is not validated, so a malformed slot
        // there faults when it runs (it used to escape as an IndexOutOfRangeException).
        var target = new ExecutableProgram(BpfProgram.CreateUnchecked([new Instruction(Op.Mov64Imm, 0x0c, 0, 1), Exit()]), "bad");
        Assert.Equal(InstructionDecoder.Malformed, target.Decoded[0].Opcode);
        var table = new HelperTable();
        table.Register(12, "bpf_tail_call", (_, _, _, _, _, env) =>
        {
            env.PendingTailCall = target;
            return 0;
        });
        var e = Fault(Prog(new Instruction(Op.Call, 0, 0, 0, 12), Mov64(R0, 0), Exit()), helpers: table);
        Assert.Equal(FaultKind.InvalidInstruction, e.Kind);
        Assert.Equal("insn 0: invalid dst register 12", e.Message);
    }
}
