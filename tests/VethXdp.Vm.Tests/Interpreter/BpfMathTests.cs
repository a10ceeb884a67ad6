using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Vm.Interpreter;

namespace VethXdp.Vm.Tests.Interpreter;

public class BpfMathTests
{
    [Property]
    public bool UDiv64_NonZero_MatchesDotNet(ulong a, ulong b) => b == 0 ? BpfMath.UDiv64(a, b) == 0 : BpfMath.UDiv64(a, b) == a / b;

    [Property]
    public bool UMod64_Any_DivModIdentity(ulong a, ulong b) => b == 0 ? BpfMath.UMod64(a, b) == a : (BpfMath.UDiv64(a, b) * b) + BpfMath.UMod64(a, b) == a;

    [Property]
    public Property SDiv64_SMod64_DivModIdentity() => Prop.ForAll(
        ArbMap.Default.ArbFor<long>(),
        ArbMap.Default.ArbFor<long>(),
        (a, b) =>
        {
            ulong q = BpfMath.SDiv64((ulong)a, (ulong)b), r = BpfMath.SMod64((ulong)a, (ulong)b);
            // With wrapping arithmetic q * b + r == a holds for every b != 0 (INT_MIN / -1 included).
            return b == 0 ? q == 0 && r == (ulong)a : unchecked((q * (ulong)b) + r) == (ulong)a;
        });

    [Property]
    public bool SMod32_SignFollowsDividend(int a, int b)
    {
        int r = (int)BpfMath.SMod32((uint)a, (uint)b);
        return b == 0 ? r == a : r == 0 || Math.Sign(r) == Math.Sign(a);
    }

    [Fact]
    public void IntMinCases_NoTrap()
    {
        Assert.Equal(0x80000000u, BpfMath.SDiv32(0x80000000, 0xffffffff));
        Assert.Equal(0u, BpfMath.SMod32(0x80000000, 0xffffffff));
        Assert.Equal(0x8000000000000000UL, BpfMath.SDiv64(0x8000000000000000, ulong.MaxValue));
        Assert.Equal(0UL, BpfMath.SMod64(0x8000000000000000, ulong.MaxValue));
        Assert.Equal(7u, BpfMath.UMod32(7, 0));
        Assert.Equal(0u, BpfMath.UDiv32(7, 0));
    }
}
