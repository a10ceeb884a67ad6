using VethXdp.Verifier.Context;
using VethXdp.Verifier.State;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Context;

public class XdpContextModelTests
{
    public static TheoryData<uint> AttachTypes => new() { 0, (uint)AttachType.Xdp, (uint)AttachType.XdpDevmap, (uint)AttachType.XdpCpumap };

    [Theory]
    [MemberData(nameof(AttachTypes))]
    public void IsValidAccess_EveryOffsetSizeAndDirection_OnlyWholeWordReads(uint attach)
    {
        var model = ContextModel.For(ProgramType.Xdp, attach);
        foreach (var type in new[] { CtxAccessType.Read, CtxAccessType.Write })
        {
            foreach (int size in new[] { 1, 2, 4, 8 })
            {
                for (int off = -8; off < XdpMd.Size + 8; off++)
                {
                    bool expected = type == CtxAccessType.Read && size == 4 && off >= 0 && off < XdpMd.Size && off % 4 == 0
                        && (off != XdpMd.EgressIfindex || attach == (uint)AttachType.XdpDevmap);
                    Assert.True(expected == model.IsValidAccess(off, size, type, out _), $"{type} off={off} size={size} attach={attach}");
                }
            }
        }
    }

    [Theory]
    [InlineData(XdpMd.Data, RegType.PtrToPacket)]
    [InlineData(XdpMd.DataEnd, RegType.PtrToPacketEnd)]
    [InlineData(XdpMd.DataMeta, RegType.PtrToPacketMeta)]
    [InlineData(XdpMd.IngressIfindex, RegType.Scalar)]
    [InlineData(XdpMd.RxQueueIndex, RegType.Scalar)]
    public void IsValidAccess_Read_GivesKernelRegType(int off, RegType expected)
    {
        Assert.True(ContextModel.For(ProgramType.Xdp, 0).IsValidAccess(off, 4, CtxAccessType.Read, out var info));
        Assert.Equal(expected, info.RegType);
        Assert.Equal(RegTypeFlags.None, info.Flags);
        Assert.Equal(0, info.CtxFieldSize);
    }

    [Fact]
    public void IsValidAccess_EgressIfindexForDevmap_Scalar()
    {
        var model = ContextModel.For(ProgramType.Xdp, (uint)AttachType.XdpDevmap);
        Assert.True(model.IsValidAccess(XdpMd.EgressIfindex, 4, CtxAccessType.Read, out var info));
        Assert.Equal(RegType.Scalar, info.RegType);
    }

    [Theory]
    [InlineData(XdpMd.Data, false)]
    [InlineData(XdpMd.DataEnd, false)]
    [InlineData(XdpMd.DataMeta, false)]
    [InlineData(XdpMd.IngressIfindex, true)]
    [InlineData(XdpMd.RxQueueIndex, true)]
    public void IsValidAccess_SignExtendingLoad_RefusedOnPointers(int off, bool expected)
    {
        Assert.Equal(expected, ContextModel.For(ProgramType.Xdp, 0).IsValidAccess(off, 4, CtxAccessType.Read, isLdsx: true, out _));
    }

    [Fact]
    public void IsValidAccess_DevBoundWrite_OnlyRxQueueIndex()
    {
        var model = new XdpContextModel(0, devBound: true);
        Assert.True(model.IsValidAccess(XdpMd.RxQueueIndex, 4, CtxAccessType.Write, out _));
        Assert.False(model.IsValidAccess(XdpMd.RxQueueIndex, 2, CtxAccessType.Write, out _));
        Assert.False(model.IsValidAccess(XdpMd.Data, 4, CtxAccessType.Write, out _));
        Assert.False(new XdpContextModel(0).IsValidAccess(XdpMd.RxQueueIndex, 4, CtxAccessType.Write, out _));
    }

    [Fact]
    public void Model_Xdp_DescribesXdpMd()
    {
        var model = ContextModel.For(ProgramType.Xdp, 0);
        Assert.Equal("xdp_md", model.StructName);
        Assert.Equal(24, model.Size);
        Assert.Equal(ProgramType.Xdp, model.Type);
        Assert.True(model.MayAccessDirectPacketData(CtxAccessType.Read));
        Assert.True(model.MayAccessDirectPacketData(CtxAccessType.Write));
    }

    [Fact]
    public void For_UnsupportedType_Throws()
    {
        Assert.Throws<NotSupportedException>(() => ContextModel.For(ProgramType.Kprobe, 0));
        Assert.Null(ContextModel.TryFor(ProgramType.CgroupSkb, 0));
    }
}
