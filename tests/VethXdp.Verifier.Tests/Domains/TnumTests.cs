using VethXdp.Verifier.Domains;

namespace VethXdp.Verifier.Tests.Domains;

public class TnumTests
{
    [Fact]
    public void Range_ZeroToTwo_AlsoHoldsThree()
    {
        // include/linux/tnum.h: tnum_range(0, 2) is {0, 1, 2, 3}
        var t = Tnum.Range(0, 2);
        Assert.Equal(new Tnum(0, 3), t);
        Assert.True(Tnum.In(t, Tnum.Const(3)));
    }

    [Fact]
    public void Range_FullSpan_Unknown() => Assert.True(Tnum.Range(0, ulong.MaxValue).IsUnknown);

    [Fact]
    public void Range_Equal_Const() => Assert.Equal(Tnum.Const(42), Tnum.Range(42, 42));

    [Fact]
    public void ToString_VarOffText() => Assert.Equal("(0x0; 0xff)", new Tnum(0, 0xff).ToString());

    [Fact]
    public void ToBinaryString_KnownAndUnknownBits() =>
        Assert.Equal(new string('0', 60) + "1x0x", new Tnum(0b1000, 0b0101).ToBinaryString());

    [Fact]
    public void Step_KernelExample_NextMember()
    {
        // kernel/bpf/tnum.c: t = x11100x0, z = 11110001 (241) -> 11110010 (242)
        var t = new Tnum(0b0111_0000, 0b1000_0010);
        Assert.Equal(242UL, Tnum.Step(t, 241));
        Assert.Equal(t.Max, Tnum.Step(t, t.Max));
        Assert.Equal(t.Value, Tnum.Step(t, 0));
    }

    [Fact]
    public void Mul_ConstTimesTnum_KernelPrecision()
    {
        // Linux 6.18.44 printed var_off=(0x8e; 0x1fffffffff60) for r6 *= 840233191 with r6 var_off=(0x5002; 0x720)
        // (a regression: the first, less precise union-based tnum_mul gave (0xe; 0x1fffffffffe0))
        Assert.Equal(new Tnum(0x8e, 0x1f_ffff_ffff_60), Tnum.Mul(new Tnum(0x5002, 0x720), Tnum.Const(840233191)));
    }

    [Fact]
    public void Arshift_32Bit_SignSmearsIntoLowHalfOnly()
    {
        var t = Tnum.Arshift(new Tnum(0x8000_0000, 0), 31, 32);
        Assert.Equal(Tnum.Const(0xffff_ffff), t);
        Assert.Equal(Tnum.Const(ulong.MaxValue), Tnum.Arshift(new Tnum(0x8000_0000_0000_0000, 0), 63, 64));
    }

    [Fact]
    public void Intersect_Disagreeing_KnownOneWins()
    {
        // "if a and b disagree ... this will return a 'known 1' for that bit"
        Assert.Equal(Tnum.Const(1), Tnum.Intersect(Tnum.Const(0), Tnum.Const(1)));
    }

    [Fact]
    public void Subregs_HighAndLowHalves()
    {
        var t = new Tnum(0x1234_0000_0000_00f0, 0x0f);
        Assert.Equal(new Tnum(0xf0, 0x0f), Tnum.Subreg(t));
        Assert.Equal(new Tnum(0x1234_0000_0000_0000, 0), Tnum.ClearSubreg(t));
        Assert.Equal(new Tnum(0x1234_0000_dead_beef, 0), Tnum.ConstSubreg(t, 0xdead_beef));
        Assert.True(t.SubregIsConst == false && Tnum.ClearSubreg(t).SubregIsConst);
    }

    [Fact]
    public void Bswap_ByteOrder()
    {
        Assert.Equal(new Tnum(0x1256, 0xff00), Tnum.Bswap16(new Tnum(0x1234_5612, 0x00ff)));
        Assert.Equal(new Tnum(0x7856_3412, 0), Tnum.Bswap32(Tnum.Const(0xaaaa_1234_5678)));
        Assert.Equal(Tnum.Const(0x0100_0000_0000_0000), Tnum.Bswap64(Tnum.Const(1)));
    }

    [Fact]
    public void IsAligned_ZeroSize_AlwaysTrue()
    {
        Assert.True(Tnum.IsAligned(Tnum.Unknown, 0));
        Assert.True(Tnum.IsAligned(new Tnum(0x10, 0xf0), 16));
        Assert.False(Tnum.IsAligned(new Tnum(0x10, 0xf8), 16));
    }
}
