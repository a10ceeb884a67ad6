using VethXdp.Verifier.Domains;
using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Tests.Domains;

/// <summary>Single cases whose expected text Linux 6.18.44 printed (the reference logs in ../shared/reference and
/// probes of the running kernel).</summary>
public class ScalarBoundsTests
{
    private static Instruction I(string asm) => Assembler.Assemble(asm)[0];

    private static ScalarBounds U8()
    {
        // an unknown byte, as a narrow load leaves it
        var b = ScalarBounds.Unknown;
        b.CoerceToSize(1);
        return b;
    }

    [Fact]
    public void CoerceToSize_Byte_ReferenceLogText()
    {
        // sample_xdp log, insn 16: r1 = *(u8 *)(r6 +12)
        Assert.Equal("scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))", U8().ToString());
    }

    [Fact]
    public void Alu_ReferenceLogSequence_SameTexts()
    {
        // sample_xdp log, insns 18-21: w2 <<= 8; w2 |= w1; if w2 != 0x8 goto (fall-through: R2=8)
        var r1 = U8();
        var r2 = U8();
        ScalarBounds.Alu(ref r2, ScalarBounds.ImmOperand(I("w2 <<= 8")), I("w2 <<= 8"));
        Assert.Equal("scalar(smin=smin32=0,smax=umax=smax32=umax32=0xff00,var_off=(0x0; 0xff00))", r2.ToString());
        ScalarBounds.Alu(ref r2, r1, I("w2 |= w1"));
        Assert.Equal("scalar(smin=smin32=0,smax=umax=smax32=umax32=0xffff,var_off=(0x0; 0xffff))", r2.ToString());
        var jne = I("if w2 != 0x8 goto pc+5");
        Assert.Equal(BranchOutcome.Unknown, ScalarBounds.IsBranchTaken(r2, ScalarBounds.ImmOperand(jne), JmpOp.Jne, true));
        var s = ScalarBounds.Branch(r2, ScalarBounds.ImmOperand(jne), JmpOp.Jne, true);
        Assert.Equal("8", s.FalseReg1.ToString());
        Assert.Equal("scalar(smin=smin32=0,smax=umax=smax32=umax32=0xffff,var_off=(0x0; 0xffff))", s.TrueReg1.ToString());
        Assert.Null(s.InvariantViolation);
    }

    [Fact]
    public void Alu_KernelProbeCases_SameTexts()
    {
        // probed on 6.18.44: [0,255] / 3 and % 10 are not tracked; -r3; be16; r7 += -2147483648
        var d = U8();
        ScalarBounds.Alu(ref d, ScalarBounds.ImmOperand(I("r1 /= 3")), I("r1 /= 3"));
        Assert.Equal("scalar()", d.ToString());
        d = U8();
        ScalarBounds.Alu(ref d, ScalarBounds.ImmOperand(I("r2 %= 10")), I("r2 %= 10"));
        Assert.True(d.IsUnknown);
        d = U8();
        ScalarBounds.Alu(ref d, d, I("r3 = -r3"));
        Assert.Equal("scalar(smin=smin32=-255,smax=smax32=0)", d.ToString());
        d = ScalarBounds.FromTnum(new Tnum(0, 0xff00));
        ScalarBounds.Alu(ref d, d, I("r4 = be16 r4"));
        Assert.Equal("scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))", d.ToString());
        d = U8();
        var add = new Instruction(Op.Add64Imm, Register.R7, Register.R0, 0, int.MinValue);
        ScalarBounds.Alu(ref d, ScalarBounds.ImmOperand(add), add);
        Assert.Equal(
            "scalar(smin=0xffffffff80000000,smax=0xffffffff800000ff,umin=0xffffffff80000000,umax=0xffffffff800000ff," +
            "smax32=umax32=0x800000ff,umin32=0x80000000,var_off=(0xffffffff80000000; 0xff))", d.ToString());
    }

    [Fact]
    public void SplitSignMask_ArshThenAnd_ForksLikeLinux()
    {
        // probed on 6.18.44: r5 s>>= 63 gives [-1, 0]; r5 &= 16 continues with 16 and pushes "from 19 to 19" with 0
        var r5 = ScalarBounds.Unknown;
        ScalarBounds.Alu(ref r5, ScalarBounds.ImmOperand(I("r5 s>>= 63")), I("r5 s>>= 63"));
        Assert.Equal("scalar(smin=smin32=-1,smax=smax32=0)", r5.ToString());
        Assert.True(ScalarBounds.IsSignMaskFork(r5, out bool alu32));
        Assert.False(alu32);
        var zero = ScalarBounds.SplitSignMask(ref r5, alu32);
        var and = I("r5 &= 16");
        ScalarBounds.Alu(ref r5, ScalarBounds.ImmOperand(and), and);
        ScalarBounds.Alu(ref zero, ScalarBounds.ImmOperand(and), and);
        Assert.Equal("16", r5.ToString());
        Assert.Equal("0", zero.ToString());
    }

    [Fact]
    public void Const_Texts_DecimalOrHex()
    {
        Assert.Equal("-1", ScalarBounds.Const(-1L).ToString());
        Assert.Equal("32767", ScalarBounds.Const(32767L).ToString());
        Assert.Equal("0x8000", ScalarBounds.Const(0x8000UL).ToString());
        Assert.Equal("0xffffffff", ScalarBounds.Const(0xffff_ffffUL).ToString());
        Assert.Equal("-32768", ScalarBounds.Const(-32768L).ToString());
        Assert.Equal("0xffffffffffff7fff", ScalarBounds.Const(-32769L).ToString());
    }

    [Fact]
    public void UpdateBounds64_RangeAndTnumShareOneValue_BecomesConst()
    {
        // "bpf: Improve bounds when tnum has a single possible value" (tnum_step), backported to 6.18.y
        var b = ScalarBounds.Unknown;
        b.VarOff = new Tnum(0, 0x101);   // {0, 1, 0x100, 0x101}
        b.UMin = 2;
        b.UMax = 0x100;
        b.Sync();
        Assert.True(b.IsConst);
        Assert.Equal("256", b.ToString());
    }

    [Fact]
    public void CheckSanity_MinAboveMax_KernelText()
    {
        var b = ScalarBounds.Const(5UL);
        b.UMin = 6;
        Assert.Equal(
            "REG INVARIANTS VIOLATION (alu): range bounds violation u64=[0x6, 0x5] s64=[0x5, 0x5] u32=[0x5, 0x5] " +
            "s32=[0x5, 0x5] var_off=(0x5, 0x0)", b.CheckSanity("alu"));
        Assert.Null(ScalarBounds.Const(5UL).CheckSanity("alu"));
        Assert.Throws<VerifierBugException>(() => InvariantsOn(b));
    }

    // AssertInvariants compiles away without VERIFIER_INVARIANTS; the test exercises the same check explicitly.
    private static void InvariantsOn(ScalarBounds b)
    {
        if (b.CheckSanity("test") is { } msg)
        {
            throw new VerifierBugException(msg);
        }
    }

    [Fact]
    public void FromRanges_Synced()
    {
        Assert.Equal("scalar(smin=umin=smin32=umin32=10,smax=umax=smax32=umax32=20,var_off=(0x0; 0x1f))",
            ScalarBounds.FromURange(10, 20).ToString());
        Assert.Equal("scalar(smin=smin32=-4,smax=smax32=3)", ScalarBounds.FromSRange(-4, 3).ToString());
    }
}
