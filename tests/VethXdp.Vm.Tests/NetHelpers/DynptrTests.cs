using System.Buffers.Binary;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.NetHelpers;

/// <summary>The dynptr helpers and the XDP dynptr kfuncs: the kernel's bpf_dynptr_kern layout on the stack, its bound
/// checks and errors.</summary>
public class DynptrTests
{
    // A LOCAL dynptr at r10-16 over the 16 bytes at r10-48 (bytes 0x10..0x1f).
    private const string Local16 = """
        r1 = 0x1716151413121110 ll
        *(u64 *)(r10 -48) = r1
        r1 = 0x1f1e1d1c1b1a1918 ll
        *(u64 *)(r10 -40) = r1
        r1 = r10
        r1 += -48
        r2 = 16
        r3 = 0
        r4 = r10
        r4 += -16
        call bpf_dynptr_from_mem
        r6 = r0
        """;

    private static string ReadAt(int offset, uint length, ulong flags = 0) => Local16 + $"""

        r1 = r10
        r1 += -64
        r2 = {length}
        r3 = r10
        r3 += -16
        r4 = {offset}
        r5 = {flags}
        call bpf_dynptr_read
        if r0 != 0 goto out
        r0 = *(u32 *)(r10 -64)
        out:
        exit
        """;

    [Fact]
    public void FromMem_Layout_AsKernel()
    {
        // r0 = the dynptr's size word: 16 | BPF_DYNPTR_TYPE_LOCAL << 28; its offset word is 0 and data the memory.
        var o = NetRun.Once(Local16 + "\nr0 = *(u32 *)(r10 -8)\nr1 = *(u32 *)(r10 -4)\nr0 |= r1\nr1 = *(u64 *)(r10 -16)\nr2 = r10\nr2 += -48\nif r1 == r2 goto ok\nr0 = 0\nok:\nexit");
        Assert.Null(o.Error);
        Assert.Equal(16u | (1u << 28), o.Retval);
    }

    [Theory]
    [InlineData(0, 4u, 0ul, 0x13121110u)]
    [InlineData(12, 4u, 0ul, 0x1f1e1d1cu)]
    [InlineData(13, 4u, 0ul, unchecked((uint)-Errno.E2BIG))]
    [InlineData(0, 17u, 0ul, unchecked((uint)-Errno.E2BIG))]
    [InlineData(-4, 8u, 0ul, unchecked((uint)-Errno.E2BIG))]    // offset 0xfffffffc: no wrap-around
    [InlineData(0, 4u, 1ul, unchecked((uint)-Errno.EINVAL))]
    [InlineData(16, 0u, 0ul, 0u)]
    public void Read_Bounds_AsKernel(int offset, uint length, ulong flags, uint expected)
    {
        var o = NetRun.Once(ReadAt(offset, length, flags));
        Assert.Null(o.Error);
        Assert.Equal(expected, o.Retval);
    }

    [Theory]
    [InlineData(8u, 4u, 0ul, 0u, 0x44434241u)]
    [InlineData(13u, 4u, 0ul, unchecked((uint)-Errno.E2BIG), 0x1b1a1918u)]
    [InlineData(8u, 4u, 2ul, unchecked((uint)-Errno.EINVAL), 0x1b1a1918u)]
    public void Write_Bounds_AsKernel(uint offset, uint length, ulong flags, uint ret, uint wordAt8)
    {
        var o = NetRun.Once(Local16 + $"""

            *(u32 *)(r10 -64) = 0x44434241
            r1 = r10
            r1 += -16
            r2 = {offset}
            r3 = r10
            r3 += -64
            r4 = {length}
            r5 = {flags}
            call bpf_dynptr_write
            r1 = *(u32 *)(r10 -40)
            *(u32 *)(r10 -68) = r1
            r7 = r0
            r0 = *(u32 *)(r10 -40)
            if r7 == 0 goto out
            r0 = r7
            out:
            exit
            """);
        Assert.Null(o.Error);
        Assert.Equal(ret == 0 ? wordAt8 : ret, o.Retval);
    }

    [Theory]
    [InlineData(0x1000000u, 0ul, -Errno.E2BIG)]   // DYNPTR_MAX_SIZE + 1
    [InlineData(16u, 1ul, -Errno.EINVAL)]
    public void FromMem_Refused_NullDynptrAndReadEinval(uint size, ulong flags, int errno)
    {
        var o = NetRun.Once($"""
            r1 = -1
            *(u64 *)(r10 -16) = r1
            *(u64 *)(r10 -8) = r1
            r1 = r10
            r1 += -48
            r2 = {size}
            r3 = {flags}
            r4 = r10
            r4 += -16
            call bpf_dynptr_from_mem
            r6 = r0
            r1 = *(u64 *)(r10 -16)
            r2 = *(u64 *)(r10 -8)
            r1 |= r2
            if r1 != 0 goto out
            r1 = r10
            r1 += -64
            r2 = 4
            r3 = r10
            r3 += -16
            r4 = 0
            r5 = 0
            call bpf_dynptr_read
            r6 <<= 8
            r0 &= 0xff
            r0 |= r6
            out:
            exit
            """);
        Assert.Null(o.Error);
        Assert.Equal(unchecked(((uint)errno << 8) | (byte)-Errno.EINVAL), o.Retval);
    }

    [Theory]
    [InlineData(4u, 8u, true)]
    [InlineData(9u, 8u, false)]
    [InlineData(16u, 0u, true)]
    public void Data_InsideOrNull(uint offset, uint length, bool inside)
    {
        var o = NetRun.Once(Local16 + $"""

            r1 = r10
            r1 += -16
            r2 = {offset}
            r3 = {length}
            call bpf_dynptr_data
            if r0 == 0 goto out
            r1 = r10
            r1 += -48
            r0 -= r1
            r0 += 100
            out:
            exit
            """);
        Assert.Equal(inside ? 100 + offset : 0u, o.Retval);
    }

    private static MapSpec Ring() => Rt.Map("rb", MapType.Ringbuf, 0, 0, 4096);

    private static string RingProgram(uint size, string commit, ulong flags = 0) => $"""
        r1 = map[idx:0]
        r2 = {size}
        r3 = {flags}
        r4 = r10
        r4 += -16
        call bpf_ringbuf_reserve_dynptr
        r6 = r0
        r1 = 0x0807060504030201 ll
        *(u64 *)(r10 -24) = r1
        r1 = r10
        r1 += -16
        r2 = 0
        r3 = r10
        r3 += -24
        r4 = 8
        r5 = 0
        call bpf_dynptr_write
        r7 = r0
        r1 = r10
        r1 += -16
        r2 = 0
        call {commit}
        r0 = *(u64 *)(r10 -16)
        if r0 != 0 goto out
        r0 = r6
        r0 <<= 8
        r7 &= 0xff
        r0 |= r7
        out:
        exit
        """;

    [Fact]
    public void RingbufDynptr_WriteSubmit_RecordAndNulledDynptr()
    {
        var o = NetRun.Once(RingProgram(8, "bpf_ringbuf_submit_dynptr"), maps: Ring());
        Assert.Null(o.Error);
        Assert.Equal(0u, o.Retval);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, Assert.Single(o.Events).Data);
    }

    [Fact]
    public void RingbufDynptr_Discard_NoRecord()
    {
        var o = NetRun.Once(RingProgram(8, "bpf_ringbuf_discard_dynptr"), maps: Ring());
        Assert.Equal(0u, o.Retval);
        Assert.Empty(o.Events);
    }

    [Theory]
    [InlineData(4096u, 0ul, -Errno.EINVAL)]     // no room: a NULL dynptr; write on it is -EINVAL too
    [InlineData(8u, 1ul, -Errno.EINVAL)]
    [InlineData(0x1000000u, 0ul, -Errno.E2BIG)]
    public void RingbufDynptr_Refused_NullDynptrSubmitIsNoop(uint size, ulong flags, int errno)
    {
        var o = NetRun.Once(RingProgram(size, "bpf_ringbuf_submit_dynptr", flags), maps: Ring());
        Assert.Null(o.Error);
        Assert.Equal(unchecked(((uint)errno << 8) | (byte)-Errno.EINVAL), o.Retval);
        Assert.Empty(o.Events);
    }

    [Fact]
    public void RingbufDynptr_WriteTooLong_E2big()
    {
        var o = NetRun.Once(RingProgram(4, "bpf_ringbuf_discard_dynptr"), maps: Ring());
        Assert.Equal(unchecked((uint)(byte)-Errno.E2BIG), o.Retval);
    }

    [Fact]
    public void RingbufReserveDynptr_NotARingbuf_Faults()
    {
        var o = NetRun.Once("r1 = map[idx:0]\nr2 = 8\nr3 = 0\nr4 = r10\nr4 += -16\ncall bpf_ringbuf_reserve_dynptr\nexit", maps: Rt.Map("a", MapType.Array, 4, 8, 1));
        Assert.Contains("cannot pass map_type 2 into func bpf_ringbuf_reserve_dynptr#198", NetRun.Fault(o));
    }

    // ---- XDP dynptrs (kfuncs) ----

    private const string FromXdp = """
        r6 = r1
        r1 = r6
        r2 = 0
        r3 = r10
        r3 += -16
        call bpf_dynptr_from_xdp#1
        if r0 != 0 goto out
        """;

    [Fact]
    public void DynptrFromXdp_SizeIsFrameLength_ReadWriteFrame()
    {
        // Read bytes 6..9 (0x09080706), write 0xaabb at 0, return the size word's size.
        var o = NetRun.Once(FromXdp + """

            r1 = r10
            r1 += -32
            r2 = 4
            r3 = r10
            r3 += -16
            r4 = 6
            r5 = 0
            call bpf_dynptr_read
            if r0 != 0 goto out
            r7 = *(u32 *)(r10 -32)
            *(u16 *)(r10 -40) = 0xbbaa
            r1 = r10
            r1 += -16
            r2 = 0
            r3 = r10
            r3 += -40
            r4 = 2
            r5 = 0
            call bpf_dynptr_write
            if r0 != 0 goto out
            r0 = *(u32 *)(r10 -8)
            r0 &= 0xffffff
            out:
            exit
            """, Rt.Frame(100));
        Assert.Null(o.Error);
        Assert.Equal(100u, o.Retval);
        Assert.Equal(new byte[] { 0xaa, 0xbb, 2, 3 }, o.Data.Take(4).ToArray());
    }

    [Fact]
    public void DynptrFromXdp_Type_IsXdp()
    {
        var o = NetRun.Once(FromXdp + "\nr0 = *(u32 *)(r10 -8)\nr0 >>= 28\nout:\nexit");
        Assert.Equal(Dynptr.TypeXdp, o.Retval);
    }

    [Fact]
    public void DynptrFromXdp_Flags_EinvalNull()
    {
        var o = NetRun.Once("r2 = -1\n*(u64 *)(r10 -16) = r2\nr2 = 1\nr3 = r10\nr3 += -16\ncall bpf_dynptr_from_xdp#1\nr1 = *(u64 *)(r10 -16)\nif r1 != 0 goto bad\nexit\nbad:\nr0 = 1\nexit");
        Assert.Equal(unchecked((uint)-Errno.EINVAL), o.Retval);
    }

    [Theory]
    [InlineData(12u, 2u, false, 0x0d0cu)]         // linear: a pointer into the packet
    [InlineData(3518u, 4u, true, 0xc1c0bfbeu)]    // across the page and the first fragment: a copy in the buffer
    [InlineData(3518u, 4u, false, 0u)]            // the same without a buffer: NULL
    [InlineData(4997u, 4u, true, 0u)]             // past the dynptr: NULL
    public void DynptrSlice_LinearPointerElseBuffer(uint offset, uint length, bool buffer, uint expected)
    {
        var o = NetRun.Once(FromXdp + $"""

            *(u32 *)(r10 -32) = 0
            r1 = r10
            r1 += -16
            r2 = {offset}
            r3 = {(buffer ? "r10\nr3 += -32" : "0")}
            r4 = {length}
            call bpf_dynptr_slice#2
            if r0 == 0 goto out
            r1 = r10
            r1 += -32
            r7 = 1
            if r0 == r1 goto copied
            r7 = 0
            copied:
            r0 = *(u16 *)(r0 +0)
            {(length == 4 ? "r0 = *(u32 *)(r1 +0)" : "")}
            out:
            exit
            """, Rt.Frame(5000));
        Assert.Null(o.Error);
        Assert.Equal(expected, o.Retval);
    }

    [Fact]
    public void DynptrSliceRdwr_WritesThroughToThePacket()
    {
        var o = NetRun.Once(FromXdp + """

            r1 = r10
            r1 += -16
            r2 = 12
            r3 = 0
            r4 = 2
            call bpf_dynptr_slice_rdwr#3
            if r0 == 0 goto out
            *(u16 *)(r0 +0) = 0xdd86
            r0 = 2
            out:
            exit
            """);
        Assert.Equal(2u, o.Retval);
        Assert.Equal(new byte[] { 0x86, 0xdd }, o.Data.Skip(12).Take(2).ToArray());
    }

    [Fact]
    public void DynptrData_OnXdpDynptr_Null()
    {
        var o = NetRun.Once(FromXdp + "\nr1 = r10\nr1 += -16\nr2 = 0\nr3 = 4\ncall bpf_dynptr_data\nout:\nexit");
        Assert.Equal(0u, o.Retval);
    }

    [Fact]
    public void DynptrRead_XdpPastTheFrame_Einval()
    {
        // The dynptr keeps its size; the frame shrank since (adjust_tail): bpf_xdp_load_bytes' -EINVAL.
        var o = NetRun.Once(FromXdp + """

            r1 = r6
            r2 = -20
            call bpf_xdp_adjust_tail
            r1 = r10
            r1 += -32
            r2 = 4
            r3 = r10
            r3 += -16
            r4 = 50
            r5 = 0
            call bpf_dynptr_read
            out:
            exit
            """);
        Assert.Equal(unchecked((uint)-Errno.EINVAL), o.Retval);
    }

    // ---- metadata kfuncs ----

    [Fact]
    public void CheckLoad_MetadataKfuncs_NeedDeviceBinding()
    {
        Assert.Equal("metadata kfuncs require device-bound program", KfuncHelpers.CheckLoad(KfuncId.XdpMetadataRxHash, deviceBound: false));
        Assert.Equal(KfuncHelpers.DeviceBoundRequired, KfuncHelpers.CheckLoad(KfuncId.XdpMetadataRxTimestamp, deviceBound: false));
        Assert.Equal(KfuncHelpers.DeviceBoundRequired, KfuncHelpers.CheckLoad(KfuncId.XdpMetadataRxVlanTag, deviceBound: false));
        Assert.Null(KfuncHelpers.CheckLoad(KfuncId.XdpMetadataRxHash, deviceBound: true));
        Assert.Null(KfuncHelpers.CheckLoad(KfuncId.DynptrSlice, deviceBound: false));
    }

    private const string RxHash = """
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -8
        call bpf_xdp_metadata_rx_hash#5
        if r0 != 0 goto out
        r0 = *(u32 *)(r10 -4)
        r1 = *(u32 *)(r10 -8)
        r0 += r1
        out:
        exit
        """;

    [Fact]
    public void MetadataKfunc_UnboundProgram_RefusedAtLoad()
    {
        var e = Assert.Throws<RuntimeLoadException>(() => new NetRun(RxHash));
        Assert.Contains("metadata kfuncs require device-bound program", e.Message);
    }

    [Fact]
    public void MetadataKfuncs_BoundWithoutMetadata_Enodata()
    {
        // Loaded bound, and no metadata source configured: a device whose frames carry none (veth's -ENODATA).
        using var run = new NetRun(RxHash, null, null, deviceBound: true);
        Assert.Equal(unchecked((uint)-Errno.ENODATA), run.Run().Retval);
        run.State.BoundDevice = NoRxMetadata.Instance;
        Assert.Equal(unchecked((uint)-Errno.ENODATA), run.Run().Retval);
    }

    private sealed class FixedMetadata : IXdpRxMetadata
    {
        public int RxTimestamp(out ulong timestamp)
        {
            timestamp = 0x1122334455667788;
            return 0;
        }

        public int RxHash(out uint hash, out uint rssType)
        {
            hash = 0x1000;
            rssType = 0x23;
            return 0;
        }

        public int RxVlanTag(out ushort vlanProto, out ushort vlanTci)
        {
            vlanProto = 0x0081;
            vlanTci = 5;
            return 0;
        }
    }

    [Fact]
    public void MetadataKfuncs_BoundDevice_ValuesWritten()
    {
        using var run = new NetRun(RxHash, null, null, deviceBound: true);
        run.State.BoundDevice = new FixedMetadata();
        Assert.Equal(0x1023u, run.Run().Retval);

        using var ts = new NetRun("r2 = r10\nr2 += -8\ncall bpf_xdp_metadata_rx_timestamp#4\nif r0 != 0 goto out\nr0 = *(u64 *)(r10 -8)\nr0 >>= 32\nout:\nexit", null, null, deviceBound: true);
        ts.State.BoundDevice = new FixedMetadata();
        Assert.Equal(0x11223344u, ts.Run().Retval);

        using var vlan = new NetRun("r2 = r10\nr2 += -2\nr3 = r10\nr3 += -4\ncall bpf_xdp_metadata_rx_vlan_tag#6\nif r0 != 0 goto out\nr0 = *(u16 *)(r10 -2)\nr0 <<= 16\nr1 = *(u16 *)(r10 -4)\nr0 |= r1\nout:\nexit", null, null, deviceBound: true);
        vlan.State.BoundDevice = new FixedMetadata();
        Assert.Equal(0x00810005u, vlan.Run().Retval);
    }
}
