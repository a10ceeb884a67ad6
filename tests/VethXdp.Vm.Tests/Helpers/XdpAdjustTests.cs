using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.Helpers;

/// <summary>bpf_xdp_adjust_head / _meta / _tail bounds, checked against BPF_PROG_TEST_RUN on Linux 6.18: every
/// (offset, frame length) -> (return, data length, meta length) below was measured on the running kernel.</summary>
public class XdpAdjustTests
{
    private static string One(string helper, int offset) => $"r2 = {offset}\ncall {helper}\nexit";

    private static string Two(string first, int a, string second, int b) => $"""
        r6 = r1
        r2 = {a}
        call {first}
        r7 = r0
        r1 = r6
        r2 = {b}
        call {second}
        r7 <<= 8
        r0 &= 0xff
        r0 |= r7
        exit
        """;

    [Theory]
    [InlineData(-216, 60, 0, 276)]
    [InlineData(-217, 60, -Errno.EINVAL, 60)]
    [InlineData(-220, 60, -Errno.EINVAL, 60)]
    [InlineData(-1, 60, 0, 61)]
    [InlineData(46, 60, 0, 14)]
    [InlineData(47, 60, -Errno.EINVAL, 60)]
    [InlineData(3506, 5000, 0, 1494)]
    [InlineData(3507, 5000, -Errno.EINVAL, 5000)]
    [InlineData(-216, 5000, 0, 5216)]
    public void AdjustHead_Bounds_AsKernel(int offset, int length, int ret, int dataLength)
    {
        var o = Rt.RunOnce(One("bpf_xdp_adjust_head", offset), Rt.Frame(length));
        Assert.Null(o.Error);
        Assert.Equal(unchecked((uint)ret), o.Retval);
        Assert.Equal(dataLength, o.Data.Length);
        Assert.Empty(o.Meta);
    }

    [Theory]
    [InlineData(-216, 0, 216)]
    [InlineData(-220, -Errno.EINVAL, 0)]
    [InlineData(-252, -Errno.EINVAL, 0)]
    [InlineData(-4, 0, 4)]
    [InlineData(-2, -Errno.EACCES, 0)]
    [InlineData(4, -Errno.EINVAL, 0)]
    public void AdjustMeta_Bounds_AsKernel(int offset, int ret, int metaLength)
    {
        var o = Rt.RunOnce(One("bpf_xdp_adjust_meta", offset));
        Assert.Equal(unchecked((uint)ret), o.Retval);
        Assert.Equal(metaLength, o.Meta.Length);
        Assert.Equal(60, o.Data.Length);
    }

    [Theory]
    [InlineData(-8, -208, 0, 268, 8)]
    [InlineData(-8, -209, -Errno.EINVAL, 60, 8)]
    [InlineData(-8, 46, 0, 14, 8)]
    [InlineData(-8, -200, 0, 260, 8)]
    public void MetaThenHead_HeadroomShrinksByMeta_AsKernel(int meta, int head, int headRet, int dataLength, int metaLength)
    {
        var o = Rt.RunOnce(Two("bpf_xdp_adjust_meta", meta, "bpf_xdp_adjust_head", head));
        Assert.Equal(unchecked((uint)(byte)headRet), o.Retval & 0xff);
        Assert.Equal(0u, o.Retval >> 8);
        Assert.Equal(dataLength, o.Data.Length);
        Assert.Equal(metaLength, o.Meta.Length);
    }

    [Theory]
    [InlineData(-100, -116, 0, 160, 116)]
    [InlineData(-100, -120, -Errno.EINVAL, 160, 0)]
    [InlineData(-100, -4, 0, 160, 4)]
    public void HeadThenMeta_AsKernel(int head, int meta, int metaRet, int dataLength, int metaLength)
    {
        var o = Rt.RunOnce(Two("bpf_xdp_adjust_head", head, "bpf_xdp_adjust_meta", meta));
        Assert.Equal(unchecked((uint)(byte)metaRet), o.Retval & 0xff);
        Assert.Equal(dataLength, o.Data.Length);
        Assert.Equal(metaLength, o.Meta.Length);
    }

    [Theory]
    [InlineData(3460, 60, 0, 3520)]
    [InlineData(3461, 60, -Errno.EINVAL, 60)]
    [InlineData(-46, 60, 0, 14)]
    [InlineData(-47, 60, -Errno.EINVAL, 60)]
    [InlineData(1, 3520, -Errno.EINVAL, 3520)]
    [InlineData(1, 3521, 0, 3522)]
    [InlineData(-1, 3521, 0, 3520)]
    [InlineData(-1480, 5000, 0, 3520)]
    [InlineData(-1500, 5000, 0, 3500)]
    [InlineData(-4986, 5000, 0, 14)]
    [InlineData(-4987, 5000, -Errno.EINVAL, 5000)]
    [InlineData(2616, 5000, 0, 7616)]
    [InlineData(2617, 5000, -Errno.EINVAL, 5000)]
    [InlineData(100, 5000, 0, 5100)]
    [InlineData(-100, 8000, 0, 7900)]
    public void AdjustTail_Bounds_AsKernel(int offset, int length, int ret, int dataLength)
    {
        var frame = Rt.Frame(length);
        var o = Rt.RunOnce(One("bpf_xdp_adjust_tail", offset), frame);
        Assert.Equal(unchecked((uint)ret), o.Retval);
        Assert.Equal(dataLength, o.Data.Length);
        int kept = Math.Min(length, dataLength);
        Assert.Equal(frame.AsSpan(0, kept).ToArray(), o.Data.AsSpan(0, kept).ToArray());
        Assert.All(o.Data.Skip(kept), b => Assert.Equal(0, b));   // grown bytes are zeroed
    }

    [Fact]
    public void AdjustHead_WithMeta_MetadataMovesAlong()
    {
        // meta -4, write 0xdeadbeef into it, head -10: the metadata is still just before data.
        var o = Rt.RunOnce("""
            r6 = r1
            r2 = -4
            call bpf_xdp_adjust_meta
            r2 = *(u32 *)(r6 +8)
            *(u32 *)(r2 +0) = 0xdeadbeef
            r1 = r6
            r2 = -10
            call bpf_xdp_adjust_head
            exit
            """);
        Assert.Equal(0u, o.Retval);
        Assert.Equal(new byte[] { 0xef, 0xbe, 0xad, 0xde }, o.Meta);
        Assert.Equal(70, o.Data.Length);
        // memmove leaves the old copy: the 10 new bytes are 6 zero bytes of headroom, then the metadata's old place.
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, 0 }, o.Data.Take(11).ToArray());
    }

    [Fact]
    public void AdjustHead_Grown_NewBytesWritable()
    {
        var o = Rt.RunOnce("""
            r6 = r1
            r2 = -4
            call bpf_xdp_adjust_head
            r2 = *(u32 *)(r6 +0)
            *(u32 *)(r2 +0) = 0x04030201
            r0 = 2
            exit
            """);
        Assert.Null(o.Error);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 0, 1 }, o.Data.Take(6).ToArray());
    }

    [Fact]
    public void AdjustTail_Shrunk_OldEndFaults()
    {
        // After shrinking by 10, the old last byte is no longer the program's (the region follows data_end).
        var o = Rt.RunOnce("""
            r6 = r1
            r7 = *(u32 *)(r6 +4)
            r2 = -10
            call bpf_xdp_adjust_tail
            r0 = *(u8 *)(r7 -1)
            exit
            """);
        Assert.NotNull(o.Error);
        Assert.Equal(4, o.Error.Insn);
    }

    [Fact]
    public void AdjustHead_NotTheContext_Faults()
    {
        var o = Rt.RunOnce("r1 = r10\nr2 = 0\ncall bpf_xdp_adjust_head\nexit");
        Assert.NotNull(o.Error);
        Assert.Equal(2, o.Error.Insn);
        Assert.Contains("not the XDP context", o.Error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0u, 8u, 0)]
    [InlineData(3516u, 8u, 0)]      // across the page and the first fragment
    [InlineData(4992u, 8u, 0)]      // the last 8 bytes
    [InlineData(4993u, 8u, -Errno.EINVAL)]
    [InlineData(0x10000u, 8u, -Errno.EFAULT)]
    public void LoadBytes_AcrossFragments(uint offset, uint length, int ret)
    {
        var frame = Rt.Frame(5000);
        var o = Rt.RunOnce($"""
            r2 = {offset}
            r3 = r10
            r3 += -8
            r4 = {length}
            call bpf_xdp_load_bytes
            if r0 != 0 goto out
            r0 = *(u64 *)(r10 -8)
            out:
            exit
            """, frame);
        if (ret == 0)
        {
            Assert.Equal(BitConverter.ToUInt32(frame, (int)offset), o.Retval);
        }
        else
        {
            Assert.Equal(unchecked((uint)ret), o.Retval);
        }
    }

    [Fact]
    public void StoreBytes_AcrossFragments_DataShowsIt()
    {
        var o = Rt.RunOnce("""
            r6 = 0x1122334455667788 ll
            *(u64 *)(r10 -8) = r6
            r2 = 3516
            r3 = r10
            r3 += -8
            r4 = 8
            call bpf_xdp_store_bytes
            exit
            """, Rt.Frame(5000));
        Assert.Equal(0u, o.Retval);
        Assert.Equal(0x1122334455667788UL, BitConverter.ToUInt64(o.Data, 3516));
        Assert.Equal(5000, o.Data.Length);
    }
}
