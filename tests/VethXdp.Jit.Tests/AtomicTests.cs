using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using static VethXdp.Jit.Tests.Asm;

namespace VethXdp.Jit.Tests;

/// <summary>BPF_ATOMIC on the JIT: every operation at both widths, fetch results, cmpxchg, misaligned addresses, and the
/// fetch into r10 the interpreter refuses.</summary>
public class AtomicTests
{
    public static TheoryData<byte, int, bool> Ops()
    {
        var data = new TheoryData<byte, int, bool>();
        foreach (byte op in new[] { Op.AtomicW, Op.AtomicDw })
        {
            foreach (int a in new[] { 0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1 })
            {
                data.Add(op, a, false);
                data.Add(op, a, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void Atomic_Operation_SameMemoryAndRegisters(byte op, int atomic, bool misaligned)
    {
        // r0 = old-ish comparand; r2 = operand; atomic op at memory + (0 or 1); r0 ^= r2 << 1 shows both registers.
        var mem = new byte[] { 0x11, 0xf0, 0x0f, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99 };
        var o = Engines.Same(Prog(
            LdDw(R0, 0x77665544330ff011), LdDw(R2, 0x0123456789abcdef), I(op, R1, R2, (short)(misaligned ? 1 : 0), atomic),
            I(Op.Lsh64Imm, R2, imm: 1), I(Op.Xor64Reg, R0, R2), Exit()), mem);
        Assert.Null(o.Fault);
    }

    [Fact]
    public void FetchAdd_OnStack_ReturnsOld()
    {
        var o = Engines.Same(Prog(I(Op.StDw, R10, off: -8, imm: 40), Mov64(R2, 2), I(Op.AtomicDw, R10, R2, -8, 0x01), I(Op.LdxDw, R0, R10, -8), I(Op.Add64Reg, R0, R2), Exit()));
        Assert.Equal(42UL + 40, o.R0);
    }

    [Fact]
    public void FetchIntoFramePointer_Faults()
    {
        var o = Engines.Same(Prog(I(Op.AtomicDw, R10, R10, -8, 0x01), Exit()));
        Assert.Equal(FaultKind.InvalidInstruction, o.Fault);
        Assert.Equal("insn 0: frame pointer is read only", o.Message);
    }

    [Fact]
    public void Atomic_OutOfBounds_FaultsAsStore()
    {
        var o = Engines.Same(Prog(Mov64(R2, 1), I(Op.AtomicW, R1, R2, 2, 0x00), Exit()), new byte[4]);
        Assert.Equal(FaultKind.OutOfBounds, o.Fault);
        Assert.Contains("out-of-bounds store of 4 bytes", o.Message, StringComparison.Ordinal);
    }
}
