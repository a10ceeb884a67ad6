using VethXdp.Reports.Explain;
using VethXdp.Verifier;
using VethXdp.Vm.Isa;

namespace VethXdp.Reports.Tests.Explain;

/// <summary>One test (at least) per class of rejection: the class, and a hint that names the register, the offset
/// and the source line involved and says how to fix it.</summary>
public sealed class ExplainHintsTests
{
    [Fact]
    public void Build_PacketReadWithoutCheck_SaysCheckTheEthernetHeader()
    {
        var hint = ExplainCases.Hint("packet/no_check");

        Assert.Equal(RejectionClass.PacketBounds, hint.Class);
        Assert.Equal(1, hint.Insn);
        Assert.Equal(2, hint.Register);
        Assert.Equal(0, hint.Offset);
        Assert.Contains("R2", hint.What, StringComparison.Ordinal);
        Assert.Contains("no comparison with data_end", hint.What, StringComparison.Ordinal);
        Assert.Equal("if (data + sizeof(struct ethhdr) > data_end) return XDP_DROP;", hint.FixCode);
        Assert.Contains("Ethernet header", hint.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ReadPastTheCheckedIpv4Header_SaysCheckTheIpv4Header()
    {
        var hint = ExplainCases.Hint(ExplainCases.FromAsm("""
            r2 = *(u32 *)(r1 +0)
            r3 = *(u32 *)(r1 +4)
            r4 = r2
            r4 += 14
            if r4 > r3 goto l
            r0 = *(u8 *)(r2 +23)
            l:
            r0 = 2
            exit
            """));

        Assert.Equal(RejectionClass.PacketBounds, hint.Class);
        Assert.Equal(23, hint.Offset);
        Assert.Contains("at least 24 bytes long", hint.What, StringComparison.Ordinal);
        Assert.Contains("first 14 bytes", hint.What, StringComparison.Ordinal);
        Assert.Contains("sizeof(struct iphdr)", hint.FixCode, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_OffByOneObject_NamesRegisterSourceLineAndTheMissingByte()
    {
        var obj = Corpus.Load("../buggy/xdp_off_by_one.v4.o");
        var spec = obj.Programs.Single();
        var hint = ExplainCases.Hint(spec, obj.Maps);

        Assert.Equal(RejectionClass.PacketBounds, hint.Class);
        Assert.Equal(28, hint.Insn);
        Assert.Equal(1, hint.Register);
        Assert.Equal(14, hint.Offset);
        Assert.Equal(42, hint.Source?.Line);
        Assert.Contains("line 42 of xdp_off_by_one.c", hint.Where, StringComparison.Ordinal);
        Assert.Contains("if (l4[0] == 0)", hint.Where, StringComparison.Ordinal);
        Assert.Contains("1 byte past R1", hint.What, StringComparison.Ordinal);
        Assert.Equal("if ((void *)p + 1 > data_end) return XDP_DROP;", hint.FixCode);
    }

    [Fact]
    public void Build_MapValueWithoutNullCheck_NamesTheLookupAndTheMap()
    {
        var hint = ExplainCases.Hint("map_value/hash_lookup_no_null_check");

        Assert.Equal(RejectionClass.NullCheck, hint.Class);
        Assert.Equal(0, hint.Register);
        Assert.Contains("bpf_map_lookup_elem()", hint.What, StringComparison.Ordinal);
        Assert.Contains("instruction 5", hint.What, StringComparison.Ordinal);
        Assert.Contains("map 'm'", hint.What, StringComparison.Ordinal);
        Assert.Contains("NULL", hint.Why, StringComparison.Ordinal);
        Assert.Equal("if (!value) return XDP_PASS;", hint.FixCode);
    }

    [Fact]
    public void Build_RegisterNeverWritten_SaysItIsUninitialised()
    {
        var hint = ExplainCases.Hint("alu/uninit_src");

        Assert.Equal(RejectionClass.UninitializedRead, hint.Class);
        Assert.Equal(5, hint.Register);
        Assert.Contains("nothing has written R5", hint.What, StringComparison.Ordinal);
        Assert.Contains("= 0;", hint.FixCode, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ExitWithoutReturnValue_SaysReturnAValue()
    {
        var hint = ExplainCases.Hint("exit/r0_set_on_one_branch");

        Assert.Equal(RejectionClass.UninitializedRead, hint.Class);
        Assert.Equal(0, hint.Register);
        Assert.Contains("without having put a return value in R0", hint.What, StringComparison.Ordinal);
        Assert.Equal("return XDP_PASS;", hint.FixCode);
    }

    [Fact]
    public void Build_SpilledPointerReadInPart_IsAnInvalidStackRead()
    {
        var hint = ExplainCases.Hint("stack/spill_partial_fill_ctx");

        Assert.Equal(RejectionClass.UninitializedRead, hint.Class);
        Assert.Equal(10, hint.Register);
        Assert.Equal(-8, hint.Offset);
        Assert.Contains("fp-8", hint.What, StringComparison.Ordinal);
        Assert.Contains("4 bytes", hint.What, StringComparison.Ordinal);
        Assert.Contains("whole", hint.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_UnboundedValueAddedToPacketPointer_NamesBothRegisters()
    {
        var hint = ExplainCases.Hint("packet/var_offset_unmasked_u64");

        Assert.Equal(RejectionClass.UnboundedOffset, hint.Class);
        Assert.Equal(6, hint.Insn);
        Assert.Equal(5, hint.Register);
        Assert.Contains("adds R5 to R2, a pointer into the packet", hint.What, StringComparison.Ordinal);
        Assert.Contains("R5=scalar(): any 64-bit value", hint.What, StringComparison.Ordinal);
        Assert.Contains("if (off > 64) return XDP_DROP;", hint.FixCode, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ArithmeticOnPacketEnd_SaysMoveItToTheOtherSide()
    {
        var hint = ExplainCases.Hint("alu/pkt_end_add");

        Assert.Equal(RejectionClass.PktEndArithmetic, hint.Class);
        Assert.Equal(3, hint.Register);
        Assert.Contains("R3 holds data_end", hint.What, StringComparison.Ordinal);
        Assert.Contains("adds to it", hint.What, StringComparison.Ordinal);
        Assert.Contains("data + off + 4 > data_end", hint.FixCode, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ContextReadPastXdpMd_NamesTheOffsetAndTheLayout()
    {
        var hint = ExplainCases.Hint("ctx/xdp_past_end");

        Assert.Equal(RejectionClass.ContextAccess, hint.Class);
        Assert.Equal(24, hint.Offset);
        Assert.Equal(1, hint.Register);
        Assert.Contains("offset 24", hint.What, StringComparison.Ordinal);
        Assert.Contains("24 bytes long", hint.What, StringComparison.Ordinal);
        Assert.Contains("ctx->data_end", hint.FixCode, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ContextWrite_SaysXdpContextIsReadOnly()
    {
        var hint = ExplainCases.Hint("ctx/xdp_data_write");

        Assert.Equal(RejectionClass.ContextAccess, hint.Class);
        Assert.Equal(0, hint.Offset);
        Assert.Contains("writes 4 bytes at offset 0", hint.What, StringComparison.Ordinal);
        Assert.Contains("(data)", hint.What, StringComparison.Ordinal);
        Assert.Contains("never write", hint.What, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_InfiniteLoop_NamesTheInstructionAndSuggestsABound()
    {
        var hint = ExplainCases.Hint("cfg/infinite_loop_self");

        Assert.Equal(RejectionClass.UnboundedLoop, hint.Class);
        Assert.Equal(1, hint.Offset);
        Assert.Contains("instruction 1", hint.What, StringComparison.Ordinal);
        Assert.Contains("never end", hint.What, StringComparison.Ordinal);
        Assert.Contains("i < 64", hint.FixCode, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_TooManyPendingBranches_IsTheComplexityLimit()
    {
        var hint = ExplainCases.Hint(ExplainCases.FromAsm(ExplainCases.JumpChain(8200)));

        Assert.Equal(RejectionClass.ComplexityLimit, hint.Class);
        Assert.Contains("8193 branches", hint.What, StringComparison.Ordinal);
        Assert.Contains("8,192", hint.What, StringComparison.Ordinal);
        Assert.Contains("__noinline", hint.FixCode, StringComparison.Ordinal);
    }

    [Fact]
    public void Classify_TooLargeWithABackwardJump_IsALoop()
    {
        var loop = VerifierCase.LoadById("cfg/unbounded_loop_on_packet").Slots.ToArray();
        var error = new VerifierError(8, RejectKind.TooComplex, "BPF program is too large. Processed 1000001 insn");

        Assert.Equal(RejectionClass.UnboundedLoop, RejectionClassifier.Classify(error, loop));
        Assert.Equal([(8, 7)], RejectionClassifier.FindBackEdges(loop));
    }

    [Fact]
    public void Classify_TooLargeWithoutABackwardJump_IsComplexity()
    {
        var straight = Assembler.Assemble(ExplainCases.JumpChain(4));
        var error = new VerifierError(3, RejectKind.TooComplex, "BPF program is too large. Processed 1000001 insn");

        Assert.Equal(RejectionClass.ComplexityLimit, RejectionClassifier.Classify(error, straight));
        Assert.Empty(RejectionClassifier.FindBackEdges(straight));
    }

    [Fact]
    public void Build_UnclassifiedMessage_QuotesTheMessage()
    {
        var hint = ExplainCases.Hint("cfg/div_by_zero_imm");

        Assert.Equal(RejectionClass.Other, hint.Class);
        Assert.Contains("\"div by zero\"", hint.What, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_AcceptedProgram_GivesNoHint()
    {
        var spec = ExplainCases.FromAsm("r0 = 2\nexit");
        var result = BpfVerifier.Verify(spec, []);

        Assert.True(result.Accepted);
        Assert.Null(ExplainHints.Build(spec, result));
        Assert.Equal(RejectionClass.None, RejectionClassifier.Classify(result.Error, spec.Slots.ToArray()));
    }
}
