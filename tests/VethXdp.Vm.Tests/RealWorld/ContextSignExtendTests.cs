using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Xdp;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.RealWorld;

/// <summary>clang -mcpu=v4 emits a sign-extending 4-byte load for an <c>int</c> read of a scalar xdp_md field
/// (the kernel selftests' xdp_redirect_multi_kern.c: <c>r2 = *(s32 *)(r1 + 12)</c>). The kernel accepts it and
/// sign-extends the field; it refuses one of data, data_end or data_meta.</summary>
public class ContextSignExtendTests
{
    [Theory]
    [InlineData(XdpMd.IngressIfindex)]
    [InlineData(XdpMd.RxQueueIndex)]
    [InlineData(XdpMd.EgressIfindex)]
    public void LdxSW_ScalarField_LoadsTheField(int offset)
    {
        using var vm = new BpfInterpreter(BpfProgram.Create([I(Op.LdxSW, R0, R1, (short)offset), Exit()]));
        ulong expected = offset == XdpMd.EgressIfindex ? 0UL : offset == XdpMd.IngressIfindex ? 5UL : 3UL;
        Assert.Equal(expected, vm.RunXdp(new byte[14], 5, 3).R0);
    }

    [Fact]
    public void LdxSW_IfindexWithTopBitSet_SignExtends()
    {
        using var vm = new BpfInterpreter(BpfProgram.Create([I(Op.LdxSW, R0, R1, XdpMd.IngressIfindex), Exit()]));
        Assert.Equal(0xffff_ffff_8000_0005UL, vm.RunXdp(new byte[14], 0x8000_0005u, 0).R0);
    }

    [Theory]
    [InlineData(XdpMd.Data)]
    [InlineData(XdpMd.DataEnd)]
    [InlineData(XdpMd.DataMeta)]
    public void LdxSW_PointerField_Faults(int offset)
    {
        using var vm = new BpfInterpreter(BpfProgram.Create([I(Op.LdxSW, R0, R1, (short)offset), Exit()]));
        var e = Assert.Throws<ExecutionFaultException>(() => vm.RunXdp(new byte[14]));
        Assert.Equal(FaultKind.InvalidContextAccess, e.Kind);
        Assert.StartsWith($"insn 0: invalid bpf_context access off={offset} size=4", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Op.LdxSH, XdpMd.IngressIfindex)]
    [InlineData(Op.LdxSB, XdpMd.RxQueueIndex)]
    public void LdxNarrowSigned_ScalarField_Faults(byte op, int offset)
    {
        using var vm = new BpfInterpreter(BpfProgram.Create([I(op, R0, R1, (short)offset), Exit()]));
        var e = Assert.Throws<ExecutionFaultException>(() => vm.RunXdp(new byte[14]));
        Assert.Equal(FaultKind.InvalidContextAccess, e.Kind);
    }
}
