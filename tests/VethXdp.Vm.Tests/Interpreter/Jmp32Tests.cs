using VethXdp.Vm.Isa;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>The JMP32 class: compares on the low 32 bits, and gotol.</summary>
public class Jmp32Tests
{
    private static ulong TakenReg(byte op, ulong a, ulong b) =>
        R0Of(Mov64(R0, 0), LdDw(R1, a), LdDw(R2, b), I(op, R1, R2, 1), Exit(), Mov64(R0, 1), Exit());

    private static ulong TakenImm(byte op, ulong a, int imm) =>
        R0Of(Mov64(R0, 0), LdDw(R1, a), I(op, R1, 0, 1, imm), Exit(), Mov64(R0, 1), Exit());

    [Theory]
    [InlineData(Op.Jeq32Reg, 0x100000005UL, 5UL, 1UL)]       // high halves ignored
    [InlineData(Op.Jeq32Reg, 5UL, 6UL, 0UL)]
    [InlineData(Op.Jne32Reg, 0x100000005UL, 5UL, 0UL)]
    [InlineData(Op.Jgt32Reg, 0x80000000UL, 1UL, 1UL)]
    [InlineData(Op.Jgt32Reg, 0x1UL, 0xffffffff00000002UL, 0UL)]
    [InlineData(Op.Jge32Reg, 0xff00000002UL, 2UL, 1UL)]
    [InlineData(Op.Jlt32Reg, 1UL, 0x80000000UL, 1UL)]
    [InlineData(Op.Jle32Reg, 3UL, 2UL, 0UL)]
    [InlineData(Op.Jsgt32Reg, 0x80000000UL, 1UL, 0UL)]       // 0x80000000 is INT_MIN as s32
    [InlineData(Op.Jsgt32Reg, 0xffffffff00000001UL, 0UL, 1UL)]
    [InlineData(Op.Jsge32Reg, 0xffffffffUL, 0xffffffffUL, 1UL)]
    [InlineData(Op.Jslt32Reg, 0xffffffffUL, 0UL, 1UL)]
    [InlineData(Op.Jsle32Reg, 1UL, 0xffffffffUL, 0UL)]
    [InlineData(Op.Jset32Reg, 0x100000000UL, 0x100000000UL, 0UL)] // only the low halves count
    [InlineData(Op.Jset32Reg, 3UL, 2UL, 1UL)]
    public void RegisterCompare_Values_TakenOrNot(byte op, ulong a, ulong b, ulong taken) =>
        Assert.Equal(taken, TakenReg(op, a, b));

    [Theory]
    [InlineData(Op.Jeq32Imm, 0xffffffffUL, -1, 1UL)]
    [InlineData(Op.Jne32Imm, 0x7fffffffffffffffUL, -1, 0UL)]
    [InlineData(Op.Jgt32Imm, 0xffffffffUL, 1, 1UL)]
    [InlineData(Op.Jge32Imm, 0UL, -1, 0UL)]
    [InlineData(Op.Jlt32Imm, 0UL, -1, 1UL)]
    [InlineData(Op.Jle32Imm, 0xffffffffUL, -1, 1UL)]
    [InlineData(Op.Jsgt32Imm, 0UL, -1, 1UL)]
    [InlineData(Op.Jsge32Imm, 0xfffffffeUL, -1, 0UL)]
    [InlineData(Op.Jslt32Imm, 0xfffffffeUL, -1, 1UL)]
    [InlineData(Op.Jsle32Imm, 0x100000000UL, 0, 1UL)]
    [InlineData(Op.Jset32Imm, 0x80000000UL, int.MinValue, 1UL)]
    public void ImmediateCompare_Values_TakenOrNot(byte op, ulong a, int imm, ulong taken) =>
        Assert.Equal(taken, TakenImm(op, a, imm));

    [Fact]
    public void Ja32_ImmOffset_Jumps() =>
        Assert.Equal(1UL, R0Of(Mov64(R0, 1), I(Op.Ja32, imm: 1), Mov64(R0, 2), Exit()));

    [Fact]
    public void Ja32_Backward_Loops()
    {
        // r0 = 0; r0 += 1; if r0 == 3 goto exit; gotol -3; exit
        Assert.Equal(3UL, R0Of(Mov64(R0, 0), I(Op.Add64Imm, R0, imm: 1), I(Op.JeqImm, R0, off: 1, imm: 3), I(Op.Ja32, imm: -3), Exit()));
    }
}
