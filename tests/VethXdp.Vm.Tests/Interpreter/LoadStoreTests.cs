using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>LD, LDX, ST and STX: sizes, sign extension, little-endian order, lddw and the legacy packet loads.</summary>
public class LoadStoreTests
{
    private static readonly byte[] s_bytes = [0x11, 0x22, 0x33, 0x44, 0x85, 0x86, 0x87, 0x88, 0x99, 0xaa];

    [Theory]
    [InlineData(Op.LdxB, 0, 0x11UL)]
    [InlineData(Op.LdxH, 1, 0x3322UL)]
    [InlineData(Op.LdxW, 2, 0x86854433UL)]
    [InlineData(Op.LdxDw, 1, 0x9988878685443322UL)]
    [InlineData(Op.LdxSB, 4, 0xffffffffffffff85UL)]
    [InlineData(Op.LdxSB, 0, 0x11UL)]
    [InlineData(Op.LdxSH, 4, 0xffffffffffff8685UL)]
    [InlineData(Op.LdxSW, 4, 0xffffffff88878685UL)]
    [InlineData(Op.LdxSW, 0, 0x44332211UL)]
    public void Ldx_InputMemory_LittleEndianValue(byte op, int offset, ulong expected)
    {
        var r = Run([I(op, R0, R1, (short)offset), Exit()], (byte[])s_bytes.Clone());
        Assert.Equal(expected, r.R0);
    }

    [Fact]
    public void Run_Memory_R1PointsAtItAndR2IsItsLength()
    {
        Assert.Equal(10UL, Run([Mov64(R0, R2), Exit()], new byte[10]).R0);
        Assert.Equal(0UL, Run([Mov64(R0, R1), Exit()]).R0);
        Assert.Equal(0UL, Run([Mov64(R0, R2), Exit()]).R0);
    }

    [Theory]
    [InlineData(Op.StxB, Op.LdxB, 0x88UL)]
    [InlineData(Op.StxH, Op.LdxH, 0x7788UL)]
    [InlineData(Op.StxW, Op.LdxW, 0x55667788UL)]
    [InlineData(Op.StxDw, Op.LdxDw, 0x1122334455667788UL)]
    public void Stx_Stack_ReadsBackTruncated(byte store, byte load, ulong expected)
    {
        // r1 = 0x1122334455667788; *(r10-8) = 0 (8 bytes); store r1; r0 = load
        var r0 = R0Of(LdDw(R1, 0x1122334455667788), I(Op.StDw, R10, off: -8, imm: 0), I(store, R10, R1, -8), I(Op.LdxDw, R0, R10, -8), Exit());
        Assert.Equal(expected, r0);
        Assert.Equal(expected, R0Of(LdDw(R1, 0x1122334455667788), I(store, R10, R1, -8), I(load, R0, R10, -8), Exit()));
    }

    [Theory]
    [InlineData(Op.StB, 0x1ff, 0xffUL)]
    [InlineData(Op.StH, 0x1fffe, 0xfffeUL)]
    [InlineData(Op.StW, -2, 0xfffffffeUL)]
    [InlineData(Op.StDw, -2, 0xfffffffffffffffeUL)]    // stdw sign-extends imm
    public void St_Imm_StoresLowBytes(byte store, int imm, ulong expected) =>
        Assert.Equal(expected, R0Of(I(Op.StDw, R10, off: -8, imm: 0), I(store, R10, off: -8, imm: imm), I(Op.LdxDw, R0, R10, -8), Exit()));

    [Fact]
    public void Stx_InputMemory_CallerSeesTheBytes()
    {
        var mem = new byte[4];
        Run([Mov32(R2, 0x11223344), I(Op.StxW, R1, R2, 0), Mov64(R0, 0), Exit()], mem);
        Assert.Equal(new byte[] { 0x44, 0x33, 0x22, 0x11 }, mem);
    }

    [Fact]
    public void Stack_NewRun_StartsZeroed()
    {
        using var vm = new BpfInterpreter(BpfProgram.Create([I(Op.LdxDw, R0, R10, -8), I(Op.StDw, R10, off: -8, imm: 7), Exit()]));
        Assert.Equal(0UL, vm.RunWithMemory([]).R0);
        Assert.Equal(0UL, vm.RunWithMemory([]).R0);
    }

    [Fact]
    public void LdDw_TwoSlots_Combined()
    {
        var r = Run(Prog(LdDw(R0, 0x1122334455667788), Exit()));
        Assert.Equal(0x1122334455667788UL, r.R0);
        Assert.Equal(2, r.InstructionsExecuted);
    }

    [Fact]
    public void LdDw_UnresolvedMapFd_FaultsNotSupported()
    {
        var e = Fault([new Instruction(Op.LdDw, R1, (Register)1, 0, 3), new Instruction(0, 0, 0, 0, 0), Mov64(R0, 0), Exit()]);
        Assert.Equal(FaultKind.NotSupported, e.Kind);
        Assert.Equal(0, e.Pc);
        Assert.StartsWith("insn 0: unresolved map reference (lddw src=1)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Op.LdAbsB, 1, 0x22UL)]
    [InlineData(Op.LdAbsH, 1, 0x2233UL)]        // big-endian
    [InlineData(Op.LdAbsW, 0, 0x11223344UL)]
    [InlineData(Op.LdAbsW, 6, 0x878899aaUL)]
    public void LdAbs_InBounds_BigEndianValue(byte op, int imm, ulong expected) =>
        Assert.Equal(expected, Run([I(op, imm: imm), Exit()], (byte[])s_bytes.Clone()).R0);

    [Fact]
    public void LdInd_RegisterPlusImm_BigEndianValue() =>
        Assert.Equal(0x4485UL, Run([Mov64(R3, 2), I(Op.LdIndH, 0, R3, imm: 1), Exit()], (byte[])s_bytes.Clone()).R0);

    [Theory]
    [InlineData(Op.LdAbsW, 7)]
    [InlineData(Op.LdAbsB, 10)]
    [InlineData(Op.LdAbsH, -1)]
    [InlineData(Op.LdAbsB, int.MaxValue)]
    public void LdAbs_OutOfBounds_EndsProgramWithZero(byte op, int imm)
    {
        // r0 = 99; ldabs; r0 = 98; exit  -> the program stops at the load with r0 = 0.
        var r = Run([Mov64(R0, 99), I(op, imm: imm), Mov64(R0, 98), Exit()], (byte[])s_bytes.Clone());
        Assert.Equal(0UL, r.R0);
        Assert.Equal(2, r.InstructionsExecuted);
    }

    [Fact]
    public void LdInd_NegativeSum_EndsProgramWithZero() =>
        Assert.Equal(0UL, Run([Mov64(R3, -5), I(Op.LdIndB, 0, R3, imm: 2), Mov64(R0, 1), Exit()], (byte[])s_bytes.Clone()).R0);

    [Fact]
    public void LdAbs_NoMemory_EndsProgramWithZero() =>
        Assert.Equal(0UL, Run([Mov64(R0, 1), I(Op.LdAbsB, imm: 0), Exit()]).R0);
}
