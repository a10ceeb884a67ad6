using VethXdp.Vm.Isa;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

public class Alu64Tests
{
    private const ulong Max = ulong.MaxValue;
    private const ulong IntMin = 0x8000000000000000;

    // dst = a; src = b; dst OP= src (register form, with the given offset); exit.
    private static ulong RunReg(byte op, ulong a, ulong b, int offset = 0) =>
        R0Of(LdDw(R0, a), LdDw(R1, b), I(op, R0, R1, (short)offset), Exit());

    // dst = a; dst OP= imm; exit.
    private static ulong RunImm(byte op, ulong a, int imm, int offset = 0) =>
        R0Of(LdDw(R0, a), I(op, R0, 0, (short)offset, imm), Exit());

    [Theory]
    [InlineData(Op.Add64Reg, 5UL, 3UL, 0, 8UL)]
    [InlineData(Op.Add64Reg, Max, 2UL, 0, 1UL)]
    [InlineData(Op.Sub64Reg, 0UL, 1UL, 0, Max)]
    [InlineData(Op.Mul64Reg, IntMin, 2UL, 0, 0UL)]
    [InlineData(Op.Mul64Reg, 0x100000000UL, 0x100000001UL, 0, 0x100000000UL)]
    [InlineData(Op.Div64Reg, 100UL, 7UL, 0, 14UL)]
    [InlineData(Op.Div64Reg, Max, 2UL, 0, 0x7fffffffffffffffUL)]
    [InlineData(Op.Div64Reg, 100UL, 0UL, 0, 0UL)]
    [InlineData(Op.Div64Reg, 0xfffffffffffffff9UL, 2UL, 1, 0xfffffffffffffffdUL)] // sdiv: -7 / 2 = -3
    [InlineData(Op.Div64Reg, IntMin, Max, 1, IntMin)]                              // sdiv: INT_MIN / -1 = INT_MIN
    [InlineData(Op.Div64Reg, 5UL, 0UL, 1, 0UL)]                                    // sdiv by zero
    [InlineData(Op.Mod64Reg, 100UL, 7UL, 0, 2UL)]
    [InlineData(Op.Mod64Reg, 100UL, 0UL, 0, 100UL)]                                // mod by zero leaves dst
    [InlineData(Op.Mod64Reg, IntMin, Max, 1, 0UL)]                                 // smod: INT_MIN % -1 = 0
    [InlineData(Op.Mod64Reg, 0xfffffffffffffff9UL, 3UL, 1, Max)]                   // smod: -7 % 3 = -1
    [InlineData(Op.Mod64Reg, 7UL, 0xfffffffffffffffdUL, 1, 1UL)]                   // smod: 7 % -3 = 1
    [InlineData(Op.Mod64Reg, 0xfffffffffffffff9UL, 0UL, 1, 0xfffffffffffffff9UL)]  // smod by zero leaves dst
    [InlineData(Op.Or64Reg, 0xf0UL, 0x0fUL, 0, 0xffUL)]
    [InlineData(Op.And64Reg, 0xf0f0UL, 0xff00UL, 0, 0xf000UL)]
    [InlineData(Op.Xor64Reg, 0xffUL, 0x0fUL, 0, 0xf0UL)]
    [InlineData(Op.Lsh64Reg, 1UL, 63UL, 0, IntMin)]
    [InlineData(Op.Lsh64Reg, 1UL, 65UL, 0, 2UL)]                                   // count & 63
    [InlineData(Op.Rsh64Reg, IntMin, 63UL, 0, 1UL)]
    [InlineData(Op.Rsh64Reg, IntMin, Max, 0, 1UL)]                                 // -1 & 63 = 63
    [InlineData(Op.Arsh64Reg, IntMin, 63UL, 0, Max)]
    [InlineData(Op.Arsh64Reg, IntMin, 68UL, 0, 0xf800000000000000UL)]              // 68 & 63 = 4
    [InlineData(Op.Mov64Reg, 0UL, 0x123456789UL, 0, 0x123456789UL)]
    public void RegisterForm_Values_ExpectedR0(byte op, ulong a, ulong b, int offset, ulong expected) =>
        Assert.Equal(expected, RunReg(op, a, b, offset));

    [Theory]
    [InlineData(Op.Add64Imm, 5UL, -1, 0, 4UL)]                                     // imm sign-extended
    [InlineData(Op.Sub64Imm, 5UL, 6, 0, Max)]
    [InlineData(Op.Mul64Imm, 3UL, -2, 0, 0xfffffffffffffffaUL)]
    [InlineData(Op.Div64Imm, Max, -1, 0, 1UL)]                                     // unsigned: imm -1 is 2^64-1
    [InlineData(Op.Div64Imm, 0xfffffffffffffff6UL, -2, 1, 5UL)]                    // sdiv: -10 / -2
    [InlineData(Op.Div64Imm, 9UL, 0, 0, 0UL)]
    [InlineData(Op.Mod64Imm, 9UL, 0, 0, 9UL)]
    [InlineData(Op.Mod64Imm, 9UL, 4, 0, 1UL)]
    [InlineData(Op.Mod64Imm, 0xfffffffffffffff7UL, 4, 1, Max)]                     // smod: -9 % 4 = -1
    [InlineData(Op.Or64Imm, 0UL, int.MinValue, 0, 0xffffffff80000000UL)]
    [InlineData(Op.And64Imm, Max, 0x7fffffff, 0, 0x7fffffffUL)]
    [InlineData(Op.Xor64Imm, 0UL, -1, 0, Max)]
    [InlineData(Op.Lsh64Imm, 3UL, 4, 0, 48UL)]
    [InlineData(Op.Rsh64Imm, Max, 60, 0, 0xfUL)]
    [InlineData(Op.Arsh64Imm, 0xfffffffffffffff0UL, 2, 0, 0xfffffffffffffffcUL)]
    [InlineData(Op.Mov64Imm, 0UL, int.MinValue, 0, 0xffffffff80000000UL)]         // mov sign-extends imm
    public void ImmediateForm_Values_ExpectedR0(byte op, ulong a, int imm, int offset, ulong expected) =>
        Assert.Equal(expected, RunImm(op, a, imm, offset));

    [Fact]
    public void Neg64_IntMin_StaysIntMin()
    {
        Assert.Equal(IntMin, RunImm(Op.Neg64, IntMin, 0));
        Assert.Equal(Max, RunImm(Op.Neg64, 1, 0));
    }

    [Theory]
    [InlineData(8, 0x80UL, 0xffffffffffffff80UL)]
    [InlineData(8, 0x17fUL, 0x7fUL)]
    [InlineData(16, 0x8000UL, 0xffffffffffff8000UL)]
    [InlineData(32, 0x80000000UL, 0xffffffff80000000UL)]
    [InlineData(32, 0xffffffff7fffffffUL, 0x7fffffffUL)]
    public void MovSx64_Offset_SignExtendsLowBits(int offset, ulong src, ulong expected) =>
        Assert.Equal(expected, RunReg(Op.Mov64Reg, 0, src, offset));

    [Theory]
    [InlineData(16, 0x1122334455667788UL, 0x8877UL)]
    [InlineData(32, 0x1122334455667788UL, 0x88776655UL)]
    [InlineData(64, 0x1122334455667788UL, 0x8877665544332211UL)]
    public void Bswap_Width_SwapsAndZeroExtends(int width, ulong value, ulong expected) =>
        Assert.Equal(expected, RunImm(Op.Bswap, value, width));
}
