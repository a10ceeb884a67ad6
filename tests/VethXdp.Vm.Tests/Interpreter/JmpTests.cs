using VethXdp.Vm.Isa;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>The JMP class: 64-bit compares (imm sign-extended), ja, and loops.</summary>
public class JmpTests
{
    private const ulong Max = ulong.MaxValue;

    // r0 = 0; r1 = a; r2 = b; if (r1 OP r2) goto +1; exit; r0 = 1; exit  => 1 when taken.
    private static ulong TakenReg(byte op, ulong a, ulong b) =>
        R0Of(Mov64(R0, 0), LdDw(R1, a), LdDw(R2, b), I(op, R1, R2, 1), Exit(), Mov64(R0, 1), Exit());

    private static ulong TakenImm(byte op, ulong a, int imm) =>
        R0Of(Mov64(R0, 0), LdDw(R1, a), I(op, R1, 0, 1, imm), Exit(), Mov64(R0, 1), Exit());

    [Theory]
    [InlineData(Op.JeqReg, 5UL, 5UL, 1UL)]
    [InlineData(Op.JeqReg, 5UL, 6UL, 0UL)]
    [InlineData(Op.JneReg, 5UL, 6UL, 1UL)]
    [InlineData(Op.JneReg, 5UL, 5UL, 0UL)]
    [InlineData(Op.JgtReg, Max, 1UL, 1UL)]
    [InlineData(Op.JgtReg, 1UL, 1UL, 0UL)]
    [InlineData(Op.JgeReg, 1UL, 1UL, 1UL)]
    [InlineData(Op.JgeReg, 0UL, 1UL, 0UL)]
    [InlineData(Op.JltReg, 1UL, Max, 1UL)]
    [InlineData(Op.JltReg, 1UL, 1UL, 0UL)]
    [InlineData(Op.JleReg, 1UL, 1UL, 1UL)]
    [InlineData(Op.JleReg, 2UL, 1UL, 0UL)]
    [InlineData(Op.JsgtReg, 1UL, Max, 1UL)]
    [InlineData(Op.JsgtReg, Max, 1UL, 0UL)]
    [InlineData(Op.JsgeReg, Max, Max, 1UL)]
    [InlineData(Op.JsgeReg, 0x8000000000000000UL, 0UL, 0UL)]
    [InlineData(Op.JsltReg, Max, 0UL, 1UL)]
    [InlineData(Op.JsltReg, 0UL, Max, 0UL)]
    [InlineData(Op.JsleReg, Max, Max, 1UL)]
    [InlineData(Op.JsleReg, 1UL, 0UL, 0UL)]
    [InlineData(Op.JsetReg, 6UL, 2UL, 1UL)]
    [InlineData(Op.JsetReg, 4UL, 2UL, 0UL)]
    [InlineData(Op.JsetReg, 0x100000000UL, 0x100000000UL, 1UL)]
    public void RegisterCompare_Values_TakenOrNot(byte op, ulong a, ulong b, ulong taken) =>
        Assert.Equal(taken, TakenReg(op, a, b));

    [Theory]
    [InlineData(Op.JeqImm, Max, -1, 1UL)]                  // imm sign-extended to 64 bits
    [InlineData(Op.JeqImm, 0xffffffffUL, -1, 0UL)]
    [InlineData(Op.JneImm, 0xffffffffUL, -1, 1UL)]
    [InlineData(Op.JgtImm, 0xffffffffUL, -1, 0UL)]
    [InlineData(Op.JgtImm, 6UL, 5, 1UL)]
    [InlineData(Op.JgeImm, 5UL, 5, 1UL)]
    [InlineData(Op.JltImm, 4UL, 5, 1UL)]
    [InlineData(Op.JleImm, 6UL, 5, 0UL)]
    [InlineData(Op.JsgtImm, 0UL, -1, 1UL)]
    [InlineData(Op.JsgeImm, Max, -1, 1UL)]
    [InlineData(Op.JsltImm, 0xfffffffffffffffeUL, -1, 1UL)]
    [InlineData(Op.JsleImm, 0UL, -1, 0UL)]
    [InlineData(Op.JsetImm, 0x8000000000000000UL, int.MinValue, 1UL)]
    [InlineData(Op.JsetImm, 1UL, 2, 0UL)]
    public void ImmediateCompare_Values_TakenOrNot(byte op, ulong a, int imm, ulong taken) =>
        Assert.Equal(taken, TakenImm(op, a, imm));

    [Fact]
    public void Ja_Forward_SkipsInstruction() =>
        Assert.Equal(1UL, R0Of(Mov64(R0, 1), I(Op.Ja, off: 1), Mov64(R0, 2), Exit()));

    [Fact]
    public void Ja_OverLdDw_CountsTwoSlots() =>
        Assert.Equal(1UL, R0Of(Mov64(R0, 1), I(Op.Ja, off: 2), LdDw(R0, 7), Exit()));

    [Fact]
    public void BackwardJump_Loop_CountsToTen()
    {
        // r0 = 0; loop: r0 += 1; if r0 < 10 goto loop; exit
        var result = Run([Mov64(R0, 0), I(Op.Add64Imm, R0, imm: 1), I(Op.JltImm, R0, off: -2, imm: 10), Exit()]);
        Assert.Equal(10UL, result.R0);
        Assert.Equal(1 + (10 * 2) + 1, result.InstructionsExecuted);
    }

    [Fact]
    public void Exit_NotLast_StopsThere() =>
        Assert.Equal(3UL, R0Of(Mov64(R0, 3), Exit(), Mov64(R0, 4), Exit()));
}
