using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

public class RingBufTests
{
    private static RingBufMap Ring(uint size = 4096) => Create<RingBufMap>(MapType.Ringbuf, 0, 0, size);

    [Fact]
    public void Reserve_WritesBusyHeader_SubmitPublishes()
    {
        using var rb = Ring();
        ulong p = rb.Reserve(5, 0);
        Assert.NotEqual(0UL, p);
        Assert.True(InRegion(rb, p, 5, write: true));
        Assert.Equal(5u | RingBufMap.BusyBit, Read32(p - 8));
        Assert.Equal(16UL, rb.ProducerPosition); // round_up(5 + 8, 8)
        Assert.Empty(rb.DrainRecords()); // still reserved
        unsafe
        {
            new Span<byte>((void*)p, 5).Fill(0xab);
        }

        Assert.Equal(0, rb.Submit(p, 0));
        Assert.Equal(5u, Read32(p - 8));
        var rec = Assert.Single(rb.DrainRecords());
        Assert.Equal("m", rec.Map);
        Assert.Equal(-1, rec.Cpu);
        Assert.Equal(new byte[] { 0xab, 0xab, 0xab, 0xab, 0xab }, rec.Data);
        Assert.Equal(16UL, rb.ConsumerPosition);
        Assert.Equal(-Errno.EINVAL, rb.Submit(p, 0)); // no longer reserved
    }

    [Fact]
    public void Discard_SetsDiscardBit_RecordSkipped()
    {
        using var rb = Ring();
        ulong a = rb.Reserve(8, 0);
        ulong b = rb.Reserve(8, 0);
        Write64(a, 1);
        Write64(b, 2);
        Assert.Equal(0, rb.Submit(b, 0));
        Assert.Empty(rb.DrainRecords()); // a, reserved earlier, holds b back
        Assert.Equal(0, rb.Discard(a, 0));
        Assert.Equal(8u | RingBufMap.DiscardBit, Read32(a - 8));
        var rec = Assert.Single(rb.DrainRecords());
        Assert.Equal(2UL, U64(rec.Data));
    }

    [Fact]
    public void Reserve_Full_ReturnsZero()
    {
        // producer may run at most size - 1 bytes ahead: 4080 + 8 fits in 4096, 8 more does not
        using var rb = Ring();
        Assert.Equal(0UL, rb.Reserve(4089, 0));
        Assert.Equal(0UL, rb.Reserve(8, 1)); // flags must be 0
        ulong big = rb.Reserve(4080, 0);
        Assert.NotEqual(0UL, big);
        Assert.Equal(0UL, rb.Reserve(0, 0));
        Assert.Equal(-Errno.EAGAIN, rb.Output([1, 2, 3], 0));
        rb.Submit(big, 0);
        Assert.Equal(0UL, rb.Reserve(0, 0)); // committed but not consumed: still full
        Assert.Single(rb.DrainRecords());
        Assert.NotEqual(0UL, rb.Reserve(100, 0));
    }

    [Fact]
    public void Output_CopiesAndCommits_FlagsChecked()
    {
        using var rb = Ring();
        Assert.Equal(-Errno.EINVAL, rb.Output([1], 4));
        Assert.Equal(0, rb.Output([1, 2, 3], RingBufMap.NoWakeup));
        Assert.Equal(0, rb.Output([4], RingBufMap.ForceWakeup));
        Assert.Equal(32UL, rb.Query(0)); // BPF_RB_AVAIL_DATA: two 16-byte records
        Assert.Equal(4096UL, rb.Query(1)); // BPF_RB_RING_SIZE
        Assert.Equal(32UL, rb.Query(3)); // BPF_RB_PROD_POS
        var recs = rb.DrainRecords();
        Assert.Equal([new byte[] { 1, 2, 3 }, [4]], recs.Select(r => r.Data));
        Assert.Equal(32UL, rb.Query(2)); // BPF_RB_CONS_POS
    }

    [Fact]
    public void Records_WrapPastTheEnd_StayContiguous()
    {
        using var rb = Ring();
        var collected = new EventCollector();
        rb.Sink = collected;
        for (int i = 0; i < 100; i++)
        {
            var data = new byte[100];
            Array.Fill(data, (byte)i);
            Assert.Equal(0, rb.Output(data, 0));
        }

        Assert.Equal(100, collected.Events.Count);
        Assert.All(collected.Events.Select((e, i) => (e, i)), t => Assert.All(t.e.Data, b => Assert.Equal((byte)t.i, b)));
        Assert.True(rb.ProducerPosition > 4096);
    }

    [Fact]
    public void UserSide_Unsupported()
    {
        using var rb = Ring();
        Assert.Equal(-Errno.ENOTSUPP, rb.UserLookup([], new byte[4]));
        Assert.Equal(-Errno.ENOTSUPP, rb.UserUpdate([], new byte[4], 0));
        Assert.Equal(-Errno.ENOTSUPP, rb.UserDelete([]));
        Assert.Equal(-Errno.ENOTSUPP, rb.GetNextKey([], new byte[4]));
        Assert.Equal(0UL, rb.Lookup([], 0));
        Assert.Empty(rb.Entries());
    }

    [Fact]
    public void ReserveSubmit_Warm_AllocatesNothing()
    {
        using var rb = Ring(1 << 16);
        var sink = new CountingSink();
        rb.Sink = sink;
        for (int i = 0; i < 2000; i++)
        {
            rb.Submit(rb.Reserve(24, 0), 0);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            ulong p = rb.Reserve((ulong)(i % 64), 0);
            if ((i & 1) == 0)
            {
                rb.Submit(p, 0);
            }
            else
            {
                rb.Discard(p, 0);
            }

            rb.Output([1, 2, 3, 4], 0);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(2000 + 5000 + 10_000, sink.Count);
    }

    private sealed class CountingSink : IMapEventSink
    {
        public int Count { get; private set; }

        public void OnEvent(BpfMap map, int cpu, ReadOnlySpan<byte> data) => Count++;
    }
}
