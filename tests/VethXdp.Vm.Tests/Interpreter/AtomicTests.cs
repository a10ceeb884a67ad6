using VethXdp.Vm.Isa;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>BPF_ATOMIC on the stack: add/or/and/xor with and without fetch, xchg, cmpxchg, 32 and 64 bit.</summary>
public class AtomicTests
{
    private const ulong Initial = 0x1111111100000011;

    // *(u64 *)(r10-8) = Initial; r1 = operand; atomic op; r0 = which == 0 ? memory : r1 (fetched)
    private static ulong RunAtomic(byte opcode, int op, ulong operand, bool returnFetched, ulong r0 = 0)
    {
        var prog = Prog(
            LdDw(R2, Initial),
            I(Op.StxDw, R10, R2, -8),
            LdDw(R1, operand),
            LdDw(R0, r0),
            I(opcode, R10, R1, -8, op),
            returnFetched ? Mov64(R0, R1) : I(Op.LdxDw, R0, R10, -8),
            Exit());
        return Run(prog).R0;
    }

    [Theory]
    [InlineData(0x00, 0x0100000001UL, 0x1111111200000012UL)]   // add
    [InlineData(0x40, 0x0100000100UL, 0x1111111100000111UL)]   // or
    [InlineData(0x50, 0xff000000ffUL, 0x1100000011UL)]         // and
    [InlineData(0xa0, 0x1111111100000001UL, 0x10UL)]           // xor
    [InlineData(0xe1, 0x42UL, 0x42UL)]                         // xchg
    public void Atomic64_Op_UpdatesMemory(int op, ulong operand, ulong expected)
    {
        Assert.Equal(expected, RunAtomic(Op.AtomicDw, op, operand, returnFetched: false));
        if (op != 0xe1)
        {
            Assert.Equal(expected, RunAtomic(Op.AtomicDw, op | 1, operand, returnFetched: false));
        }
    }

    [Theory]
    [InlineData(0x01)]
    [InlineData(0x41)]
    [InlineData(0x51)]
    [InlineData(0xa1)]
    [InlineData(0xe1)]
    public void Atomic64_Fetch_SrcGetsOldValue(int op) =>
        Assert.Equal(Initial, RunAtomic(Op.AtomicDw, op, 5, returnFetched: true));

    [Fact]
    public void Atomic64_NoFetch_SrcUnchanged() =>
        Assert.Equal(5UL, RunAtomic(Op.AtomicDw, 0x00, 5, returnFetched: true));

    [Theory]
    [InlineData(0x00, 0xffffffffUL, 0x1111111100000010UL)]     // add32 wraps inside the low word only
    [InlineData(0x40, 0x100UL, 0x1111111100000111UL)]
    [InlineData(0x50, 0x1UL, 0x1111111100000001UL)]
    [InlineData(0xa0, 0x11UL, 0x1111111100000000UL)]
    [InlineData(0xe1, 0xdeadbeef00000042UL, 0x1111111100000042UL)]
    public void Atomic32_Op_UpdatesLowWord(int op, ulong operand, ulong expected) =>
        Assert.Equal(expected, RunAtomic(Op.AtomicW, op, operand, returnFetched: false));

    [Theory]
    [InlineData(0x01)]
    [InlineData(0x41)]
    [InlineData(0x51)]
    [InlineData(0xa1)]
    [InlineData(0xe1)]
    public void Atomic32_Fetch_OldValueZeroExtended(int op) =>
        Assert.Equal(0x11UL, RunAtomic(Op.AtomicW, op, 0xdeadbeef00000005, returnFetched: true));

    [Fact]
    public void CmpXchg64_Match_StoresAndReturnsOld()
    {
        Assert.Equal(7UL, RunAtomic(Op.AtomicDw, 0xf1, 7, returnFetched: false, r0: Initial));
        Assert.Equal(Initial, Run(Prog(LdDw(R2, Initial), I(Op.StxDw, R10, R2, -8), Mov64(R1, 7), LdDw(R0, Initial), I(Op.AtomicDw, R10, R1, -8, 0xf1), Exit())).R0);
    }

    [Fact]
    public void CmpXchg64_Mismatch_LeavesMemory() =>
        Assert.Equal(Initial, RunAtomic(Op.AtomicDw, 0xf1, 7, returnFetched: false, r0: 1));

    [Fact]
    public void CmpXchg32_ComparesLowHalfOfR0_LoadsOldZeroExtended()
    {
        // r0's high half differs but its low half matches: the exchange happens.
        Assert.Equal(0x1111111100000007UL, RunAtomic(Op.AtomicW, 0xf1, 7, returnFetched: false, r0: 0xffffffff00000011));
        var r0 = Run(Prog(LdDw(R2, Initial), I(Op.StxDw, R10, R2, -8), Mov64(R1, 7), LdDw(R0, 0xffffffff00000099), I(Op.AtomicW, R10, R1, -8, 0xf1), Exit())).R0;
        Assert.Equal(0x11UL, r0);
    }

    [Fact]
    public void Atomic64_Misaligned_StillComputes()
    {
        var mem = new byte[16];
        mem[1] = 5;
        var r = Run([Mov64(R2, 3), I(Op.AtomicDw, R1, R2, 1, 0x01), Mov64(R0, R2), Exit()], mem);
        Assert.Equal(5UL, r.R0);
        Assert.Equal(8, mem[1]);
    }
}
