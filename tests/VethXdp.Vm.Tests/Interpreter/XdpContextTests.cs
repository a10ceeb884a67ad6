using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Xdp;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>The xdp_md context: 4-byte loads of data, data_end and data_meta give full 64-bit pointers.</summary>
public class XdpContextTests
{
    private static ulong RunXdp(Instruction[] prog, byte[] packet, uint ifindex = 1, uint queue = 0)
    {
        using var vm = new BpfInterpreter(BpfProgram.Create(prog));
        return vm.RunXdp(packet, ifindex, queue).R0;
    }

    [Theory]
    [InlineData(XdpMd.Data, 0L)]
    [InlineData(XdpMd.DataMeta, 0L)]
    [InlineData(XdpMd.DataEnd, 60L)]
    public unsafe void LoadPointerField_FourBytes_FullHostAddress(int offset, long fromStart)
    {
        var packet = GC.AllocateArray<byte>(60, pinned: true);
        ulong start;
        fixed (byte* p = packet)
        {
            start = (ulong)p;
        }

        Assert.Equal(start + (ulong)fromStart, RunXdp([I(Op.LdxW, R0, R1, (short)offset), Exit()], packet));
        Assert.True(start > uint.MaxValue, "the packet lives above 4 GiB, so a 32-bit load could not give this value");
    }

    [Fact]
    public void DataEndMinusData_IsPacketLength() =>
        Assert.Equal(42UL, RunXdp([I(Op.LdxW, R2, R1, XdpMd.Data), I(Op.LdxW, R0, R1, XdpMd.DataEnd), I(Op.Sub64Reg, R0, R2), Exit()], new byte[42]));

    [Fact]
    public void ScalarFields_ReadTheirValues()
    {
        Assert.Equal(7UL, RunXdp([I(Op.LdxW, R0, R1, XdpMd.IngressIfindex), Exit()], new byte[14], ifindex: 7));
        Assert.Equal(3UL, RunXdp([I(Op.LdxW, R0, R1, XdpMd.RxQueueIndex), Exit()], new byte[14], queue: 3));
        Assert.Equal(0UL, RunXdp([I(Op.LdxW, R0, R1, XdpMd.EgressIfindex), Exit()], new byte[14]));
    }

    [Theory]
    [InlineData(Op.LdxH, 0)]
    [InlineData(Op.LdxB, 4)]
    [InlineData(Op.LdxDw, 0)]
    [InlineData(Op.LdxDw, 16)]
    [InlineData(Op.LdxSW, 0)]
    [InlineData(Op.LdxW, 2)]
    public void LoadContext_OtherSizeOrMisaligned_Faults(byte op, int offset)
    {
        using var vm = new BpfInterpreter(BpfProgram.Create([I(op, R0, R1, (short)offset), Exit()]));
        var e = Assert.Throws<ExecutionFaultException>(() => vm.RunXdp(new byte[14]));
        Assert.Equal(FaultKind.InvalidContextAccess, e.Kind);
        Assert.StartsWith($"insn 0: invalid bpf_context access off={offset} size=", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadContext_PastItsEnd_FaultsOutOfBounds()
    {
        using var vm = new BpfInterpreter(BpfProgram.Create([I(Op.LdxW, R0, R1, 24), Exit()]));
        var e = Assert.Throws<ExecutionFaultException>(() => vm.RunXdp(new byte[14]));
        Assert.Equal(FaultKind.OutOfBounds, e.Kind);
        Assert.Contains("past the end of context", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PacketWrite_ThroughData_VisibleToCaller()
    {
        var packet = new byte[14];
        // r2 = data; *(u8 *)(r2 + 13) = 0xab; r0 = XDP_PASS
        RunXdp([I(Op.LdxW, R2, R1, XdpMd.Data), I(Op.StB, R2, off: 13, imm: 0xab), Mov64(R0, 2), Exit()], packet);
        Assert.Equal(0xab, packet[13]);
    }

    [Fact]
    public void PacketRead_AtDataEnd_Faults()
    {
        using var vm = new BpfInterpreter(BpfProgram.Create([I(Op.LdxW, R2, R1, XdpMd.DataEnd), I(Op.LdxB, R0, R2, 0), Exit()]));
        var e = Assert.Throws<ExecutionFaultException>(() => vm.RunXdp(new byte[14]));
        Assert.Equal(FaultKind.OutOfBounds, e.Kind);
        Assert.Contains("just past the end of packet [0x", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyPacket_DataEqualsDataEnd_NonNull()
    {
        var prog = new[] { I(Op.LdxW, R2, R1, XdpMd.Data), I(Op.LdxW, R3, R1, XdpMd.DataEnd), Mov64(R0, R2), I(Op.JeqReg, R2, R3, 1), Mov64(R0, 0), Exit() };
        Assert.NotEqual(0UL, RunXdp(prog, []));
    }

    [Fact]
    public void Context_TryLoad_FollowsKernelRules()
    {
        var ctx = new XdpContext();
        ctx.Set(0x1000, 0x1040, 5, 6);
        Assert.True(ctx.TryLoad(XdpMd.DataEnd, 4, out ulong end));
        Assert.Equal(0x1040UL, end);
        Assert.False(ctx.TryLoad(XdpMd.Data, 8, out _));
        Assert.False(ctx.TryLoad(XdpMd.Size, 4, out _));
        Assert.Equal(24, XdpMd.Size);
    }
}
