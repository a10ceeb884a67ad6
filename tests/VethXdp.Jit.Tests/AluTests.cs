using VethXdp.Vm.Isa;
using static VethXdp.Jit.Tests.Asm;

namespace VethXdp.Jit.Tests;

/// <summary>BPF_ALU and BPF_ALU64 on the JIT: the RFC 9669 edge cases, each checked against a known value and against
/// the interpreter (r0, instruction count).</summary>
public class AluTests
{
    private const ulong IntMin64 = 0x8000000000000000, IntMin32 = 0x80000000;

    // r0 = a; r1 = b; r0 op= r1; exit
    private static ulong Reg(byte op, ulong a, ulong b, short off = 0) =>
        Engines.Same(Prog(LdDw(R0, a), LdDw(R1, b), I(op, R0, R1, off), Exit())).R0;

    // r0 = a; r0 op= imm; exit
    private static ulong Imm(byte op, ulong a, int imm, short off = 0) =>
        Engines.Same(Prog(LdDw(R0, a), I(op, R0, 0, off, imm), Exit())).R0;

    [Theory]
    [InlineData(Op.Div64Reg, 7UL, 0UL, (short)0, 0UL)]                          // x / 0 = 0
    [InlineData(Op.Mod64Reg, 7UL, 0UL, (short)0, 7UL)]                          // x % 0 = x
    [InlineData(Op.Div64Reg, IntMin64, ulong.MaxValue, (short)1, IntMin64)]     // INT64_MIN s/ -1 wraps
    [InlineData(Op.Mod64Reg, IntMin64, ulong.MaxValue, (short)1, 0UL)]          // INT64_MIN s% -1 = 0
    [InlineData(Op.Div64Reg, unchecked((ulong)-7L), 2UL, (short)1, unchecked((ulong)-3L))]
    [InlineData(Op.Mod64Reg, unchecked((ulong)-7L), 2UL, (short)1, unchecked((ulong)-1L))]   // sign of the dividend
    [InlineData(Op.Div64Reg, unchecked((ulong)-7L), 2UL, (short)0, 0x7ffffffffffffffcUL)]
    [InlineData(Op.Div32Reg, 0xffffffff00000007UL, 0UL, (short)0, 0UL)]
    [InlineData(Op.Mod32Reg, 0xffffffff00000007UL, 0UL, (short)0, 7UL)]       // x % 0 = x, zero-extended
    [InlineData(Op.Div32Reg, IntMin32, 0xffffffffUL, (short)1, IntMin32)]     // INT32_MIN s/ -1, zero-extended
    [InlineData(Op.Mod32Reg, IntMin32, 0xffffffffUL, (short)1, 0UL)]
    [InlineData(Op.Lsh64Reg, 1UL, 65UL, (short)0, 2UL)]                        // count masked to 63
    [InlineData(Op.Rsh64Reg, 0x8000000000000000UL, 127UL, (short)0, 1UL)]
    [InlineData(Op.Arsh64Reg, 0x8000000000000000UL, 63UL, (short)0, ulong.MaxValue)]
    [InlineData(Op.Lsh32Reg, 1UL, 33UL, (short)0, 2UL)]                        // count masked to 31
    [InlineData(Op.Rsh32Reg, 0xffffffff80000000UL, 31UL, (short)0, 1UL)]      // operand truncated first
    [InlineData(Op.Arsh32Reg, 0x80000000UL, 4UL, (short)0, 0xf8000000UL)]     // sign of bit 31, zero-extended
    [InlineData(Op.Add32Reg, 0xffffffffUL, 1UL, (short)0, 0UL)]               // 32-bit wrap, upper half cleared
    [InlineData(Op.Sub32Reg, 0UL, 1UL, (short)0, 0xffffffffUL)]
    [InlineData(Op.Mul32Reg, 0x10000UL, 0x10000UL, (short)0, 0UL)]
    [InlineData(Op.Mul64Reg, IntMin64, ulong.MaxValue, (short)0, IntMin64)]
    [InlineData(Op.Mov32Reg, 0UL, 0x1234567880UL, (short)8, 0xffffff80UL)]    // movsx8 to 32, zero-extended
    [InlineData(Op.Mov32Reg, 0UL, 0x12348000UL, (short)16, 0xffff8000UL)]
    [InlineData(Op.Mov64Reg, 0UL, 0x80UL, (short)8, 0xffffffffffffff80UL)]
    [InlineData(Op.Mov64Reg, 0UL, 0x8000UL, (short)16, 0xffffffffffff8000UL)]
    [InlineData(Op.Mov64Reg, 0UL, 0x80000000UL, (short)32, 0xffffffff80000000UL)]
    [InlineData(Op.Mov32Reg, 0UL, 0xaaaaaaaa12345678UL, (short)0, 0x12345678UL)]
    public void RegisterOperand_EdgeCase_MatchesIsa(byte op, ulong a, ulong b, short off, ulong expected) =>
        Assert.Equal(expected, Reg(op, a, b, off));

    [Theory]
    [InlineData(Op.Div64Imm, 7UL, 0, (short)0, 0UL)]
    [InlineData(Op.Mod64Imm, 7UL, 0, (short)0, 7UL)]
    [InlineData(Op.Div64Imm, IntMin64, -1, (short)1, IntMin64)]
    [InlineData(Op.Mod64Imm, IntMin64, -1, (short)1, 0UL)]
    [InlineData(Op.Div64Imm, 10UL, -1, (short)0, 0UL)]                         // imm sign-extended: 10 / 0xffff...ff
    [InlineData(Op.Div64Imm, unchecked((ulong)-9L), 4, (short)1, unchecked((ulong)-2L))]
    [InlineData(Op.Mod64Imm, unchecked((ulong)-9L), 4, (short)1, unchecked((ulong)-1L))]
    [InlineData(Op.Div32Imm, 0x100000009UL, 0, (short)0, 0UL)]
    [InlineData(Op.Mod32Imm, 0x100000009UL, 0, (short)0, 9UL)]
    [InlineData(Op.Div32Imm, IntMin32, -1, (short)1, IntMin32)]
    [InlineData(Op.Mod32Imm, IntMin32, -1, (short)1, 0UL)]
    [InlineData(Op.Div32Imm, 0xfffffff7UL, 4, (short)1, 0xfffffffeUL)]        // -9 s/ 4 = -2 in 32 bits
    [InlineData(Op.Div32Imm, 0xfffffff7UL, 4, (short)0, 0x3ffffffdUL)]
    [InlineData(Op.Add64Imm, 1UL, -1, (short)0, 0UL)]                          // imm sign-extended
    [InlineData(Op.Add32Imm, 0x100000000UL, -1, (short)0, 0xffffffffUL)]
    [InlineData(Op.Mov64Imm, 0UL, -2, (short)0, 0xfffffffffffffffeUL)]
    [InlineData(Op.Mov32Imm, 0UL, -2, (short)0, 0xfffffffeUL)]
    [InlineData(Op.Lsh64Imm, 1UL, 63, (short)0, 0x8000000000000000UL)]
    [InlineData(Op.Arsh32Imm, 0x80000000UL, 31, (short)0, 0xffffffffUL)]
    [InlineData(Op.Xor64Imm, 0UL, -1, (short)0, ulong.MaxValue)]
    [InlineData(Op.And32Imm, ulong.MaxValue, -1, (short)0, 0xffffffffUL)]
    [InlineData(Op.Or64Imm, 0x100000000UL, 1, (short)0, 0x100000001UL)]
    [InlineData(Op.Sub64Imm, 0UL, 1, (short)0, ulong.MaxValue)]
    [InlineData(Op.Mul64Imm, 3UL, -1, (short)0, unchecked((ulong)-3L))]
    public void ImmediateOperand_EdgeCase_MatchesIsa(byte op, ulong a, int imm, short off, ulong expected) =>
        Assert.Equal(expected, Imm(op, a, imm, off));

    [Theory]
    [InlineData(Op.Neg64, 1UL, ulong.MaxValue)]
    [InlineData(Op.Neg64, IntMin64, IntMin64)]
    [InlineData(Op.Neg32, 0x1_00000001UL, 0xffffffffUL)]
    [InlineData(Op.Neg32, IntMin32, IntMin32)]
    public void Neg_Value_IsTwosComplement(byte op, ulong a, ulong expected) => Assert.Equal(expected, Imm(op, a, 0));

    [Theory]
    [InlineData(Op.Be, 16, 0x1122334455667788UL, 0x8877UL)]
    [InlineData(Op.Be, 32, 0x1122334455667788UL, 0x88776655UL)]
    [InlineData(Op.Be, 64, 0x1122334455667788UL, 0x8877665544332211UL)]
    [InlineData(Op.Le, 16, 0x1122334455667788UL, 0x7788UL)]
    [InlineData(Op.Le, 32, 0x1122334455667788UL, 0x55667788UL)]
    [InlineData(Op.Le, 64, 0x1122334455667788UL, 0x1122334455667788UL)]
    [InlineData(Op.Bswap, 16, 0x1122334455667788UL, 0x8877UL)]
    [InlineData(Op.Bswap, 32, 0x1122334455667788UL, 0x88776655UL)]
    [InlineData(Op.Bswap, 64, 0x1122334455667788UL, 0x8877665544332211UL)]
    public void ByteSwap_Width_SwapsOrTruncates(byte op, int width, ulong a, ulong expected) => Assert.Equal(expected, Imm(op, a, width));
}
