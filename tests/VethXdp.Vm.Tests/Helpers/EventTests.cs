using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.Helpers;

/// <summary>Ring buffer and perf event helpers: records reach the result's events, in order; errors as the kernel's.</summary>
public class EventTests
{
    private static MapSpec Ring(uint size = 4096) => Rt.Map("rb", MapType.Ringbuf, 0, 0, size);

    private const string Value8 = "r7 = 0x8877665544332211 ll\n*(u64 *)(r10 -8) = r7\n";

    [Fact]
    public void RingbufOutput_RecordInEvents()
    {
        var o = Rt.RunOnce(Value8 + "r1 = map[idx:0]\nr2 = r10\nr2 += -8\nr3 = 8\nr4 = 0\ncall bpf_ringbuf_output\nexit", maps: Ring());
        Assert.Equal(0u, o.Retval);
        var e = Assert.Single(o.Events);
        Assert.Equal("rb", e.Map);
        Assert.Equal(new byte[] { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 }, e.Data);
    }

    [Fact]
    public void RingbufOutput_BadFlags_Einval() =>
        Assert.Equal(Rt.Err(Errno.EINVAL), Rt.RunOnce(Value8 + "r1 = map[idx:0]\nr2 = r10\nr2 += -8\nr3 = 8\nr4 = 4\ncall bpf_ringbuf_output\nexit", maps: Ring()).Retval);

    [Fact]
    public void RingbufReserveSubmit_RecordWrittenInPlace()
    {
        var o = Rt.RunOnce("""
            r1 = map[idx:0]
            r2 = 4
            r3 = 0
            call bpf_ringbuf_reserve
            if r0 == 0 goto out
            *(u32 *)(r0 +0) = 0x01020304
            r1 = r0
            r2 = 0
            call bpf_ringbuf_submit
            r0 = 2
            out:
            exit
            """, maps: Ring());
        Assert.Equal(2u, o.Retval);
        Assert.Equal(new byte[] { 4, 3, 2, 1 }, Assert.Single(o.Events).Data);
    }

    [Fact]
    public void RingbufReserveDiscard_NoRecord()
    {
        var o = Rt.RunOnce("r1 = map[idx:0]\nr2 = 4\nr3 = 0\ncall bpf_ringbuf_reserve\nif r0 == 0 goto out\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_discard\nr0 = 2\nout:\nexit", maps: Ring());
        Assert.Equal(2u, o.Retval);
        Assert.Empty(o.Events);
    }

    [Fact]
    public void RingbufReserve_TooBigOrFlags_Null()
    {
        Assert.Equal(0u, Rt.RunOnce("r1 = map[idx:0]\nr2 = 4096\nr3 = 0\ncall bpf_ringbuf_reserve\nexit", maps: Ring()).Retval);
        Assert.Equal(0u, Rt.RunOnce("r1 = map[idx:0]\nr2 = 8\nr3 = 1\ncall bpf_ringbuf_reserve\nexit", maps: Ring()).Retval);
    }

    [Fact]
    public void RingbufQuery_RingSize() =>
        Assert.Equal(8192u, Rt.RunOnce("r1 = map[idx:0]\nr2 = 1\ncall bpf_ringbuf_query\nexit", maps: Ring(8192)).Retval);

    [Fact]
    public void RingbufSubmit_NotARecord_Faults()
    {
        var o = Rt.RunOnce("r1 = r10\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 2\nexit", maps: Ring());
        Assert.Contains("not a reserved ring buffer record", o.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ringbuf_ManyPackets_RunnerConsumes()
    {
        // 4096-byte ring, 1000 records of 16 bytes each over 1000 packets: the runner reads them as they come.
        using var obj = Rt.Load(Value8 + "r1 = map[idx:0]\nr2 = r10\nr2 += -8\nr3 = 8\nr4 = 0\ncall bpf_ringbuf_output\nexit", Ring());
        using var runner = new XdpRunner(obj);
        for (int i = 0; i < 1000; i++)
        {
            var r = runner.Run(Rt.Frame());
            Assert.Equal(0u, r.Retval);
            Assert.Single(r.Events);
        }
    }

    // perf_event_output(ctx, map, FLAGS, &fp-8, 8)
    private static string Perf(ulong flags) => Value8 + $"r1 = r1\nr2 = map[idx:0]\nr3 = {flags} ll\nr4 = r10\nr4 += -8\nr5 = 8\ncall bpf_perf_event_output\nexit";

    private static MapSpec PerfMap() => Rt.Map("events", MapType.PerfEventArray, 4, 4, 0);

    [Fact]
    public void PerfEventOutput_CurrentCpu_DataThenFrameBytes()
    {
        var o = Rt.RunOnce(Perf(0xffffffffUL | (4UL << 32)), maps: PerfMap());
        Assert.Equal(0u, o.Retval);
        var e = Assert.Single(o.Events);
        Assert.Equal("events", e.Map);
        Assert.Equal(new byte[] { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0, 1, 2, 3 }, e.Data);
    }

    [Theory]
    [InlineData(1UL, -Errno.EOPNOTSUPP)]            // CPU 1's event, running on CPU 0
    [InlineData(2UL, -Errno.E2BIG)]                 // sized to the 2 CPUs
    [InlineData(1UL << 60, -Errno.EINVAL)]          // flags outside the index and ctx-length masks
    [InlineData(0xffffffffUL | (61UL << 32), -Errno.EFAULT)]   // more frame bytes than the 60-byte frame has
    public void PerfEventOutput_Errors(ulong flags, int expected)
    {
        var o = Rt.RunOnce(Perf(flags), maps: PerfMap());
        Assert.Equal(Rt.Err(-expected), o.Retval);
        Assert.Empty(o.Events);
    }

    // Measured on Linux 6.18 with BPF output events open on both CPUs, running on CPU 0.
    [Theory]
    [InlineData(0xffffffffUL, 0)]
    [InlineData(1UL, -Errno.EINVAL)]
    [InlineData(9UL, -Errno.E2BIG)]
    [InlineData(1UL << 40, -Errno.EINVAL)]
    public void PerfEventRead_AsKernel(ulong flags, int expected) =>
        Assert.Equal(Rt.Err(-expected), Rt.RunOnce($"r1 = map[idx:0]\nr2 = {flags} ll\ncall bpf_perf_event_read\nexit", maps: PerfMap()).Retval);

    [Theory]
    [InlineData(0xffffffffUL, 24, 0)]
    [InlineData(1UL, 24, -Errno.EINVAL)]
    [InlineData(0xffffffffUL, 16, -Errno.EINVAL)]
    public void PerfEventReadValue_AsKernel_BufferZeroed(ulong flags, int size, int expected)
    {
        var o = Rt.RunOnce($"""
            *(u64 *)(r10 -24) = -1
            *(u64 *)(r10 -16) = -1
            *(u64 *)(r10 -8) = -1
            r1 = map[idx:0]
            r2 = {flags} ll
            r3 = r10
            r3 += -24
            r4 = {size}
            call bpf_perf_event_read_value
            r1 = *(u64 *)(r10 -24)
            r0 |= r1
            r1 = *(u64 *)(r10 -{40 - size})
            r0 |= r1
            exit
            """, maps: PerfMap());
        Assert.Equal(Rt.Err(-expected), o.Retval);
    }
}
