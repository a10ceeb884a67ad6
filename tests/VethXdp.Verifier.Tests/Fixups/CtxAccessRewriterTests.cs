using VethXdp.Verifier.Context;
using VethXdp.Verifier.Fixups;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Fixups;

public class CtxAccessRewriterTests
{
    [Fact]
    public void Rewrite_XdpIngressIfindex_ThreeLoads()
    {
        var slots = Assembler.Assemble("r2 = *(u32 *)(r1 +12)\nr0 = 2\nexit");
        var model = ContextModel.For(ProgramType.Xdp, 0);
        var result = CtxAccessRewriter.Rewrite(model, slots, [new CtxAccessMark(true, 0), default, default], seenDirectWrite: false);
        Assert.True(result.Succeeded);
        Assert.Equal(5, result.Slots.Length);
        Assert.Equal("r2 = *(u64 *)(r1 +32)", KernelFormatter.Format(result.Slots, 0));
        Assert.Equal("r2 = *(u64 *)(r2 +0)", KernelFormatter.Format(result.Slots, 1));
        Assert.Equal("r2 = *(u32 *)(r2 +224)", KernelFormatter.Format(result.Slots, 2));
        Assert.Equal([0, 3, 4], result.NewIndex);
    }

    [Fact]
    public void Rewrite_UnmarkedSlots_Unchanged()
    {
        var slots = Assembler.Assemble("r2 = *(u32 *)(r1 +12)\nr0 = 2\nexit");
        var result = CtxAccessRewriter.Rewrite(ContextModel.For(ProgramType.Xdp, 0), slots, new CtxAccessMark[3], seenDirectWrite: true);
        Assert.Equal(slots, result.Slots);
        Assert.Equal(0, result.PrologueLength);
    }

    [Fact]
    public void Rewrite_TcNarrowLoad_ShiftsAndMasks()
    {
        var slots = Assembler.Assemble("r2 = *(u8 *)(r1 +2)\nr0 = 0\nexit");
        var result = CtxAccessRewriter.Rewrite(ContextModel.For(ProgramType.SchedCls, 0), slots, [new CtxAccessMark(true, 4), default, default], false);
        Assert.Equal("r2 = *(u32 *)(r1 +112)", KernelFormatter.Format(result.Slots, 0));
        Assert.Equal("w2 >>= 16", KernelFormatter.Format(result.Slots, 1));
        Assert.Equal("w2 &= 255", KernelFormatter.Format(result.Slots, 2));
    }

    [Fact]
    public void Rewrite_TcDirectWrite_PrologueBeforeSlotZero()
    {
        var slots = Assembler.Assemble("r0 = 0\nexit");
        var result = CtxAccessRewriter.Rewrite(ContextModel.For(ProgramType.SchedCls, 0), slots, new CtxAccessMark[2], seenDirectWrite: true);
        Assert.Equal(10, result.PrologueLength);
        Assert.Equal(12, result.Slots.Length);
        Assert.Equal(10, result.NewIndex[0]);
        Assert.Equal(Op.Call, result.Slots[5].Opcode);
        Assert.Equal(39, result.Slots[5].Imm);
    }

    [Fact]
    public void Rewrite_MarkOnUnconvertibleField_ThrowsBug()
    {
        var slots = Assembler.Assemble("r2 = *(u32 *)(r1 +88)\nr0 = 0\nexit");
        Assert.Throws<VerifierBugException>(() =>
            CtxAccessRewriter.Rewrite(ContextModel.For(ProgramType.SchedCls, 0), slots, [new CtxAccessMark(true, 4), default, default], false));
    }
}
