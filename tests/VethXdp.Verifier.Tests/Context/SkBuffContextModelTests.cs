using VethXdp.Verifier.Context;
using VethXdp.Verifier.State;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Context;

public class SkBuffContextModelTests
{
    private static readonly ContextModel s_tc = ContextModel.For(ProgramType.SchedCls, 0);
    private static readonly ContextModel s_sock = ContextModel.For(ProgramType.SocketFilter, 0);

    [Theory]
    [InlineData(SkBuffMd.Data, RegType.PtrToPacket)]
    [InlineData(SkBuffMd.DataEnd, RegType.PtrToPacketEnd)]
    [InlineData(SkBuffMd.DataMeta, RegType.PtrToPacketMeta)]
    public void IsValidAccess_TcPacketPointers_WholeWordOnly(int off, RegType expected)
    {
        Assert.True(s_tc.IsValidAccess(off, 4, CtxAccessType.Read, out var info));
        Assert.Equal(expected, info.RegType);
        Assert.False(s_tc.IsValidAccess(off, 2, CtxAccessType.Read, out _));
        Assert.False(s_tc.IsValidAccess(off, 4, CtxAccessType.Read, isLdsx: true, out _));
        Assert.False(s_tc.IsValidAccess(off, 4, CtxAccessType.Write, out _));
        Assert.False(s_sock.IsValidAccess(off, 4, CtxAccessType.Read, out _));
    }

    [Fact]
    public void IsValidAccess_Sk_SockCommonOrNull()
    {
        Assert.True(s_tc.IsValidAccess(SkBuffMd.Sk, 8, CtxAccessType.Read, out var info));
        Assert.Equal(RegType.PtrToSockCommon, info.RegType);
        Assert.Equal(RegTypeFlags.MaybeNull, info.Flags);
        Assert.False(s_tc.IsValidAccess(SkBuffMd.Sk, 4, CtxAccessType.Read, out _));
        Assert.False(s_tc.IsValidAccess(SkBuffMd.Sk + 4, 4, CtxAccessType.Read, out _));
        Assert.False(s_tc.IsValidAccess(SkBuffMd.Sk, 8, CtxAccessType.Write, out _));
        Assert.True(s_sock.IsValidAccess(SkBuffMd.Sk, 8, CtxAccessType.Read, out _));
    }

    [Theory]
    [InlineData(SkBuffMd.Mark, 4, true)]
    [InlineData(SkBuffMd.Mark, 2, false)]
    [InlineData(SkBuffMd.QueueMapping, 4, true)]
    [InlineData(SkBuffMd.Priority, 4, true)]
    [InlineData(SkBuffMd.TcIndex, 4, true)]
    [InlineData(SkBuffMd.TcClassid, 4, true)]
    [InlineData(SkBuffMd.Cb + 1, 1, true)]
    [InlineData(SkBuffMd.Cb + 8, 8, true)]
    [InlineData(SkBuffMd.Cb + 16, 8, false)]
    [InlineData(SkBuffMd.Tstamp, 8, true)]
    [InlineData(SkBuffMd.Tstamp, 4, false)]
    [InlineData(SkBuffMd.TstampType, 1, false)]
    [InlineData(SkBuffMd.Hwtstamp, 8, false)]
    [InlineData(SkBuffMd.Len, 4, false)]
    [InlineData(SkBuffMd.Hash, 4, false)]
    [InlineData(SkBuffMd.Ifindex, 4, false)]
    public void IsValidAccess_TcWrite_KernelList(int off, int size, bool expected) =>
        Assert.Equal(expected, s_tc.IsValidAccess(off, size, CtxAccessType.Write, out _));

    [Theory]
    [InlineData(SkBuffMd.Cb, 4, true)]
    [InlineData(SkBuffMd.Cb + 2, 2, true)]
    [InlineData(SkBuffMd.Mark, 4, false)]
    [InlineData(SkBuffMd.Priority, 4, false)]
    [InlineData(SkBuffMd.TcClassid, 4, false)]
    public void IsValidAccess_SocketFilterWrite_OnlyCb(int off, int size, bool expected) =>
        Assert.Equal(expected, s_sock.IsValidAccess(off, size, CtxAccessType.Write, out _));

    [Theory]
    [InlineData(SkBuffMd.Len + 1, 1)]
    [InlineData(SkBuffMd.Protocol + 2, 2)]
    [InlineData(SkBuffMd.NapiId + 2, 1)]
    public void IsValidAccess_NarrowRead_RecordsFieldSize(int off, int size)
    {
        Assert.True(s_tc.IsValidAccess(off, size, CtxAccessType.Read, out var info));
        Assert.Equal(4, info.CtxFieldSize);
        Assert.Equal(RegType.Scalar, info.RegType);
    }

    [Fact]
    public void IsValidAccess_Unaligned_Refused()
    {
        Assert.False(s_tc.IsValidAccess(SkBuffMd.Len + 1, 2, CtxAccessType.Read, out _));
        Assert.False(s_tc.IsValidAccess(SkBuffMd.Len + 2, 4, CtxAccessType.Read, out _));
        Assert.False(s_tc.IsValidAccess(SkBuffMd.Len, 8, CtxAccessType.Read, out _));
    }

    [Theory]
    [InlineData(SkBuffMd.Family)]
    [InlineData(SkBuffMd.RemoteIp4)]
    [InlineData(SkBuffMd.LocalIp6 + 4)]
    [InlineData(SkBuffMd.LocalPort)]
    [InlineData(SkBuffMd.FlowKeys)]
    public void IsValidAccess_SocketFieldsAndFlowKeys_RefusedForTcAndSocketFilter(int off)
    {
        Assert.False(s_tc.IsValidAccess(off, 4, CtxAccessType.Read, out _));
        Assert.False(s_sock.IsValidAccess(off, 4, CtxAccessType.Read, out _));
    }

    [Fact]
    public void IsValidAccess_TstampType_ByteReadInTcOnly()
    {
        Assert.True(s_tc.IsValidAccess(SkBuffMd.TstampType, 1, CtxAccessType.Read, out var info));
        Assert.Equal(0, info.CtxFieldSize);
        Assert.False(s_tc.IsValidAccess(SkBuffMd.TstampType, 2, CtxAccessType.Read, out _));
        Assert.False(s_tc.IsValidAccess(SkBuffMd.TstampType + 1, 1, CtxAccessType.Read, out _));
        Assert.False(s_sock.IsValidAccess(SkBuffMd.TstampType, 1, CtxAccessType.Read, out _));
    }

    [Theory]
    [InlineData(SkBuffMd.TcClassid, 4)]
    [InlineData(SkBuffMd.Tstamp, 8)]
    [InlineData(SkBuffMd.WireLen, 4)]
    [InlineData(SkBuffMd.Hwtstamp, 8)]
    public void IsValidAccess_TcOnlyFields_RefusedForSocketFilter(int off, int size)
    {
        Assert.True(s_tc.IsValidAccess(off, size, CtxAccessType.Read, out _));
        Assert.False(s_sock.IsValidAccess(off, size, CtxAccessType.Read, out _));
    }

    [Fact]
    public void Models_SkBuff_DescribeSkBuffAndPacketAccess()
    {
        Assert.Equal("__sk_buff", s_tc.StructName);
        Assert.Equal(192, s_sock.Size);
        Assert.True(s_tc.MayAccessDirectPacketData(CtxAccessType.Write));
        Assert.False(s_sock.MayAccessDirectPacketData(CtxAccessType.Read));
        Assert.Equal(ProgramType.SchedAct, ContextModel.For(ProgramType.SchedAct, 0).Type);
    }
}
