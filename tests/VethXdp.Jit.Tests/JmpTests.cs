using VethXdp.Vm.Isa;
using static VethXdp.Jit.Tests.Asm;

namespace VethXdp.Jit.Tests;

/// <summary>BPF_JMP and BPF_JMP32 on the JIT: every condition, taken and not, signed and unsigned, 64 and 32 bits.</summary>
public class JmpTests
{
    // r0 = 0; r1 = a; r2 = b; if r1 op r2 goto +1; exit; r0 = 1; exit  -> 1 when taken
    private static bool Taken(byte op, ulong a, ulong b) =>
        Engines.Same(Prog(Mov64(R0, 0), LdDw(R1, a), LdDw(R2, b), I(op, R1, R2, 1), Exit(), Mov64(R0, 1), Exit())).R0 == 1;

    private static bool TakenImm(byte op, ulong a, int imm) =>
        Engines.Same(Prog(Mov64(R0, 0), LdDw(R1, a), I(op, R1, 0, 1, imm), Exit(), Mov64(R0, 1), Exit())).R0 == 1;

    [Theory]
    [InlineData(Op.JeqReg, 5UL, 5UL, true)]
    [InlineData(Op.JneReg, 5UL, 5UL, false)]
    [InlineData(Op.JgtReg, ulong.MaxValue, 1UL, true)]        // unsigned
    [InlineData(Op.JsgtReg, ulong.MaxValue, 1UL, false)]      // signed: -1 > 1 is false
    [InlineData(Op.JgeReg, 1UL, 1UL, true)]
    [InlineData(Op.JsgeReg, 0x8000000000000000UL, 0UL, false)]
    [InlineData(Op.JltReg, 1UL, ulong.MaxValue, true)]
    [InlineData(Op.JsltReg, ulong.MaxValue, 0UL, true)]
    [InlineData(Op.JleReg, 2UL, 1UL, false)]
    [InlineData(Op.JsleReg, ulong.MaxValue, ulong.MaxValue, true)]
    [InlineData(Op.JsetReg, 0x100000000UL, 0x100000000UL, true)]
    [InlineData(Op.JsetReg, 0x100000000UL, 0xffffffffUL, false)]
    [InlineData(Op.Jeq32Reg, 0x1_00000005UL, 5UL, true)]       // upper halves ignored
    [InlineData(Op.Jgt32Reg, 0x80000000UL, 1UL, true)]
    [InlineData(Op.Jsgt32Reg, 0x80000000UL, 1UL, false)]       // INT32_MIN
    [InlineData(Op.Jslt32Reg, 0xffffffffUL, 0x1_00000000UL, true)]
    [InlineData(Op.Jset32Reg, 0x1_00000000UL, 0x1_00000000UL, false)]
    [InlineData(Op.Jne32Reg, 0x1_00000000UL, 0UL, false)]
    [InlineData(Op.Jle32Reg, 0xffffffffUL, 0UL, false)]
    [InlineData(Op.Jsle32Reg, 0xffffffffUL, 0UL, true)]
    [InlineData(Op.Jge32Reg, 0UL, 0UL, true)]
    [InlineData(Op.Jsge32Reg, 0x7fffffffUL, 0x80000000UL, true)]
    [InlineData(Op.Jlt32Reg, 0x1_00000000UL, 1UL, true)]
    public void Register_Condition_TakenAsIsa(byte op, ulong a, ulong b, bool taken) => Assert.Equal(taken, Taken(op, a, b));

    [Theory]
    [InlineData(Op.JeqImm, ulong.MaxValue, -1, true)]          // imm sign-extended for JMP
    [InlineData(Op.Jeq32Imm, 0xffffffffUL, -1, true)]
    [InlineData(Op.JgtImm, 0xfffffffeUL, -1, false)]           // vs 0xffff_ffff_ffff_ffff
    [InlineData(Op.Jgt32Imm, 0xfffffffeUL, -1, false)]
    [InlineData(Op.JsltImm, 0UL, 1, true)]
    [InlineData(Op.Jslt32Imm, 0x1_80000000UL, 0, true)]
    [InlineData(Op.JsetImm, 0x80000000_00000000UL, int.MinValue, true)]
    [InlineData(Op.Jset32Imm, 0x80000000_00000000UL, int.MinValue, false)]
    public void Immediate_Condition_TakenAsIsa(byte op, ulong a, int imm, bool taken) => Assert.Equal(taken, TakenImm(op, a, imm));

    [Fact]
    public void Gotol_LongForwardJump_LandsOnTarget()
    {
        // gotol +40000 over filler: r0 = 7 at the target.
        var filler = Enumerable.Repeat(Mov64(R0, 1), 40_000).ToArray();
        var o = Engines.Same(Prog(Mov64(R0, 0), I(Op.Ja32, imm: 40_000), filler, Mov64(R0, 7), Exit()));
        Assert.Equal(7UL, o.R0);
        Assert.Equal(4, o.Instructions);
    }

    [Fact]
    public void BackwardJump_Loop_CountsEveryInstruction()
    {
        // r0 = 0; r1 = 100; loop: r0 += r1; r1 -= 1; if r1 != 0 goto loop; exit
        var o = Engines.Same(Prog(Mov64(R0, 0), Mov64(R1, 100), I(Op.Add64Reg, R0, R1), I(Op.Sub64Imm, R1, imm: 1), I(Op.JneImm, R1, off: -3), Exit()));
        Assert.Equal(5050UL, o.R0);
        Assert.Equal(2 + (3 * 100) + 1, o.Instructions);
    }
}
