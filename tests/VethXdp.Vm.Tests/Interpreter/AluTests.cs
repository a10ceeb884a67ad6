using VethXdp.Vm.Isa;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>The 32-bit ALU class: operands are the low 32 bits, results are zero-extended.</summary>
public class AluTests
{
    private const ulong High = 0xdeadbeef00000000;

    private static ulong RunReg(byte op, ulong a, ulong b, int offset = 0) =>
        R0Of(LdDw(R0, a), LdDw(R1, b), I(op, R0, R1, (short)offset), Exit());

    private static ulong RunImm(byte op, ulong a, int imm, int offset = 0) =>
        R0Of(LdDw(R0, a), I(op, R0, 0, (short)offset, imm), Exit());

    [Theory]
    [InlineData(Op.Add32Reg, High | 0xffffffff, 1UL, 0, 0UL)]
    [InlineData(Op.Add32Reg, High | 5, High | 3, 0, 8UL)]
    [InlineData(Op.Sub32Reg, 0UL, 1UL, 0, 0xffffffffUL)]
    [InlineData(Op.Mul32Reg, 0x80000000UL, 0xffffffffUL, 0, 0x80000000UL)]
    [InlineData(Op.Mul32Reg, 0x10000UL, 0x10000UL, 0, 0UL)]
    [InlineData(Op.Div32Reg, High | 100, 7UL, 0, 14UL)]
    [InlineData(Op.Div32Reg, High | 100, High, 0, 0UL)]                           // divisor's low half is 0
    [InlineData(Op.Div32Reg, 0x80000000UL, 0xffffffffUL, 1, 0x80000000UL)]        // sdiv32: INT_MIN / -1
    [InlineData(Op.Div32Reg, 0xfffffff9UL, 2UL, 1, 0xfffffffdUL)]                 // sdiv32: -7 / 2 = -3
    [InlineData(Op.Mod32Reg, High | 100, 7UL, 0, 2UL)]
    [InlineData(Op.Mod32Reg, 0x100000005UL, 0UL, 0, 5UL)]                         // mod32 by 0: low half, zero-extended
    [InlineData(Op.Mod32Reg, 0x80000000UL, 0xffffffffUL, 1, 0UL)]                 // smod32: INT_MIN % -1
    [InlineData(Op.Mod32Reg, 0xfffffff9UL, 3UL, 1, 0xffffffffUL)]                 // smod32: -7 % 3 = -1
    [InlineData(Op.Mod32Reg, High | 0xfffffff9, 0UL, 1, 0xfffffff9UL)]            // smod32 by 0
    [InlineData(Op.Or32Reg, High, 1UL, 0, 1UL)]
    [InlineData(Op.And32Reg, Ulong.All, High | 0xff, 0, 0xffUL)]
    [InlineData(Op.Xor32Reg, High | 0xff, 0x0fUL, 0, 0xf0UL)]
    [InlineData(Op.Lsh32Reg, 1UL, 31UL, 0, 0x80000000UL)]
    [InlineData(Op.Lsh32Reg, 1UL, 33UL, 0, 2UL)]                                  // count & 31
    [InlineData(Op.Rsh32Reg, 0x100000010UL, 4UL, 0, 1UL)]                         // operand truncated first
    [InlineData(Op.Arsh32Reg, 0x80000000UL, 16UL, 0, 0xffff8000UL)]
    [InlineData(Op.Arsh32Reg, 0x80000000UL, 48UL, 0, 0xffff8000UL)]               // 48 & 31 = 16
    [InlineData(Op.Mov32Reg, 0UL, High | 7, 0, 7UL)]
    [InlineData(Op.Mov32Reg, 0UL, 0x80UL, 8, 0xffffff80UL)]                       // movsx832
    [InlineData(Op.Mov32Reg, 0UL, 0x8000UL, 16, 0xffff8000UL)]                    // movsx1632
    public void RegisterForm_Values_ExpectedR0(byte op, ulong a, ulong b, int offset, ulong expected) =>
        Assert.Equal(expected, RunReg(op, a, b, offset));

    [Theory]
    [InlineData(Op.Add32Imm, High, -1, 0, 0xffffffffUL)]
    [InlineData(Op.Sub32Imm, 1UL, 2, 0, 0xffffffffUL)]
    [InlineData(Op.Mul32Imm, 7UL, -1, 0, 0xfffffff9UL)]
    [InlineData(Op.Div32Imm, 0xffffffffUL, -1, 0, 1UL)]                           // imm -1 is 0xffffffff unsigned
    [InlineData(Op.Div32Imm, 0xfffffffeUL, -1, 0, 0UL)]
    [InlineData(Op.Div32Imm, 0xfffffff6UL, -2, 1, 5UL)]                           // sdiv32: -10 / -2
    [InlineData(Op.Div32Imm, High | 5, 0, 0, 0UL)]
    [InlineData(Op.Mod32Imm, High | 5, 0, 0, 5UL)]
    [InlineData(Op.Lsh32Imm, 3UL, 36, 0, 48UL)]                                   // 36 & 31 = 4
    [InlineData(Op.Rsh32Imm, Ulong.All, 28, 0, 0xfUL)]
    [InlineData(Op.Arsh32Imm, 0xfffffff0UL, 2, 0, 0xfffffffcUL)]
    [InlineData(Op.Mov32Imm, High, -1, 0, 0xffffffffUL)]                          // mov32 zero-extends
    [InlineData(Op.Xor32Imm, High, -1, 0, 0xffffffffUL)]
    public void ImmediateForm_Values_ExpectedR0(byte op, ulong a, int imm, int offset, ulong expected) =>
        Assert.Equal(expected, RunImm(op, a, imm, offset));

    [Fact]
    public void Neg32_Values_ZeroExtended()
    {
        Assert.Equal(0xffffffffUL, RunImm(Op.Neg32, High | 1, 0));
        Assert.Equal(0x80000000UL, RunImm(Op.Neg32, 0x80000000, 0));
    }

    [Theory]
    [InlineData(Op.Le, 16, 0x7788UL)]
    [InlineData(Op.Le, 32, 0x55667788UL)]
    [InlineData(Op.Le, 64, 0x1122334455667788UL)]
    [InlineData(Op.Be, 16, 0x8877UL)]
    [InlineData(Op.Be, 32, 0x88776655UL)]
    [InlineData(Op.Be, 64, 0x8877665544332211UL)]
    public void ByteOrder_Width_ExpectedR0(byte op, int width, ulong expected) =>
        Assert.Equal(expected, RunImm(op, 0x1122334455667788, width));

    private static class Ulong
    {
        public const ulong All = ulong.MaxValue;
    }
}
