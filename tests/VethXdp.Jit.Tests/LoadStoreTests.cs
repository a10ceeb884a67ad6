using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using static VethXdp.Jit.Tests.Asm;

namespace VethXdp.Jit.Tests;

/// <summary>BPF_LDX, BPF_ST, BPF_STX and LD_ABS/LD_IND on the JIT: every size, sign extension, the stack, the XDP
/// context's rules, and the memory after the run.</summary>
public class LoadStoreTests
{
    private static readonly byte[] s_mem = [0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a];

    [Theory]
    [InlineData(Op.LdxB, 0x82UL)]
    [InlineData(Op.LdxH, 0x8382UL)]
    [InlineData(Op.LdxW, 0x85848382UL)]
    [InlineData(Op.LdxDw, 0x8988878685848382UL)]
    [InlineData(Op.LdxSB, 0xffffffffffffff82UL)]
    [InlineData(Op.LdxSH, 0xffffffffffff8382UL)]
    [InlineData(Op.LdxSW, 0xffffffff85848382UL)]
    public void Load_Size_ReadsLittleEndianAndExtends(byte op, ulong expected) =>
        Assert.Equal(expected, Engines.Same(Prog(I(op, R0, R1, 1), Exit()), s_mem).R0);

    [Theory]
    [InlineData(Op.StxB, "81ff838485868788898a")]
    [InlineData(Op.StxH, "81ffee8485868788898a")]
    [InlineData(Op.StxW, "81ffeeddcc868788898a")]
    [InlineData(Op.StxDw, "81ffeeddccbbaa99888a")]
    public void Store_Size_WritesLowBytes(byte op, string expected)
    {
        var o = Engines.Same(Prog(LdDw(R2, 0x8899aabbccddeeff), I(op, R1, R2, 1), Mov64(R0, 0), Exit()), s_mem);
        Assert.Equal(Convert.FromHexString(expected.Replace(" ", string.Empty, StringComparison.Ordinal)), o.Memory);
    }

    [Theory]
    [InlineData(Op.StB, -2, "81fe838485868788898a")]
    [InlineData(Op.StH, -2, "81feff8485868788898a")]
    [InlineData(Op.StW, -2, "81feffffff868788898a")]
    [InlineData(Op.StDw, -2, "81feffffffffffffff8a")]   // imm sign-extended to 64 bits
    public void StoreImmediate_Size_WritesSignExtendedImm(byte op, int imm, string expected)
    {
        var o = Engines.Same(Prog(I(op, R1, off: 1, imm: imm), Mov64(R0, 0), Exit()), s_mem);
        Assert.Equal(Convert.FromHexString(expected), o.Memory);
    }

    [Fact]
    public void Stack_EveryOffsetOfTheFrame_RoundTrips()
    {
        // Store at fp-512 and fp-1 (the frame's ends) and read back; misaligned 8-byte access at fp-13.
        var o = Engines.Same(Prog(
            I(Op.StDw, R10, off: -512, imm: 7), I(Op.StB, R10, off: -1, imm: 9), LdDw(R2, 0x0102030405060708), I(Op.StxDw, R10, R2, -13),
            I(Op.LdxDw, R0, R10, -512), I(Op.LdxB, R3, R10, -1), I(Op.Add64Reg, R0, R3), I(Op.LdxDw, R3, R10, -13), I(Op.Add64Reg, R0, R3), Exit()));
        Assert.Equal(7UL + 9 + 0x0102030405060708, o.R0);
    }

    [Fact]
    public void Stack_ThroughCopiedPointer_CheckedLikeAnyMemory()
    {
        // r2 = r10 - 4; *(u32 *)(r2 + 0) = 5; r0 = *(u32 *)(r2 + 0); then one past the frame faults.
        Assert.Equal(5UL, Engines.Same(Prog(Mov64(R2, R10), I(Op.Add64Imm, R2, imm: -4), I(Op.StW, R2, imm: 5), I(Op.LdxW, R0, R2, 0), Exit())).R0);
        var f = Engines.Same(Prog(Mov64(R2, R10), I(Op.LdxW, R0, R2, -2), Exit()));
        Assert.Equal(FaultKind.OutOfBounds, f.Fault);
        Assert.Contains("the last 2 bytes are past the end of stack frame 0", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Context_PointerLoads_GiveFullPointers()
    {
        // r0 = data_end - data (64-bit pointers), + ingress_ifindex (1)
        var o = Engines.Same(Prog(I(Op.LdxW, R2, R1, 0), I(Op.LdxW, R0, R1, 4), I(Op.Sub64Reg, R0, R2), I(Op.LdxW, R3, R1, 12), I(Op.Add64Reg, R0, R3), Exit()), new byte[37], xdp: true);
        Assert.Equal(38UL, o.R0);
    }

    [Theory]
    [InlineData(Op.LdxH, (short)0, "insn 0: invalid bpf_context access off=0 size=2 (xdp_md allows aligned 4-byte loads only)")]
    [InlineData(Op.LdxW, (short)2, "insn 0: invalid bpf_context access off=2 size=4 (xdp_md allows aligned 4-byte loads only)")]
    [InlineData(Op.LdxDw, (short)0, "insn 0: invalid bpf_context access off=0 size=8 (xdp_md allows aligned 4-byte loads only)")]
    [InlineData(Op.LdxSW, (short)4, "insn 0: invalid bpf_context access off=4 size=4 (data, data_end and data_meta cannot be loaded sign-extended)")]
    public void Context_BadLoad_FaultsAsInterpreter(byte op, short off, string message)
    {
        var o = Engines.Same(Prog(I(op, R0, R1, off), Exit()), new byte[20], xdp: true);
        Assert.Equal(FaultKind.InvalidContextAccess, o.Fault);
        Assert.Equal(message, o.Message);
    }

    [Fact]
    public void Context_SignExtendingLoadOfIfindex_Allowed()
    {
        Assert.Equal(1UL, Engines.Same(Prog(I(Op.LdxSW, R0, R1, 12), Exit()), new byte[20], xdp: true).R0);
    }

    [Fact]
    public void Context_Store_FaultsReadOnly()
    {
        var o = Engines.Same(Prog(I(Op.StW, R1, off: 12, imm: 3), Exit()), new byte[20], xdp: true);
        Assert.Equal(FaultKind.OutOfBounds, o.Fault);
        Assert.Contains("is read-only", o.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Op.LdAbsB, 0, 0x81UL)]
    [InlineData(Op.LdAbsH, 1, 0x8283UL)]          // big-endian
    [InlineData(Op.LdAbsW, 6, 0x8788898aUL)]
    [InlineData(Op.LdAbsW, 7, 0UL)]               // out of bounds: the program ends with r0 = 0
    [InlineData(Op.LdAbsB, -1, 0UL)]
    public void LdAbs_Offset_ReadsBigEndianOrEndsProgram(byte op, int imm, ulong expected)
    {
        var o = Engines.Same(Prog(Mov64(R0, 99), I(op, imm: imm), I(Op.Add64Imm, R0, imm: 0), Exit()), s_mem);
        Assert.Equal(expected, o.R0);
    }

    [Fact]
    public void LdInd_OutOfBoundsInSubprogram_EndsEveryFrame()
    {
        // main calls f, f does ldind at r6 + 100: the whole program ends with r0 = 0 (main's += 5 never runs).
        var o = Engines.Same(Prog(Mov64(R6, 100), CallLocal(2), I(Op.Add64Imm, R0, imm: 5), Exit(), I(Op.LdIndB, 0, R6, imm: 0), Exit()), s_mem);
        Assert.Equal(0UL, o.R0);
        Assert.Equal(3, o.Instructions);
    }

    [Fact]
    public void LdInd_InBounds_SrcPlusImm()
    {
        Assert.Equal(0x8586UL, Engines.Same(Prog(Mov64(R6, 3), I(Op.LdIndH, 0, R6, imm: 1), Exit()), s_mem).R0);
    }
}
