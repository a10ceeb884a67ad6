using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

/// <summary>BPF_MAP_TYPE_USER_RINGBUF: records laid out as libbpf's user producer writes them, consumed as the kernel's
/// __bpf_user_ringbuf_peek / _sample_release consume them.</summary>
public class UserRingBufTests
{
    private static UserRingBufMap Ring(uint size = 4096) => Create<UserRingBufMap>(MapType.UserRingbuf, 0, 0, size);

    [Fact]
    public void Create_ValueSizeGiven_RefusedAsTheKernel()
    {
        var e = Assert.Throws<MapCreateException>(() => MapFactory.Create(Spec(MapType.UserRingbuf, 0, 8, 4096), Cpus));
        Assert.Equal(Errno.EINVAL, e.ErrorCode);
        Assert.Throws<MapCreateException>(() => MapFactory.Create(Spec(MapType.UserRingbuf, 0, 0, 4096 + 8), Cpus));
    }

    [Fact]
    public void Produce_ThenPeek_HeaderAndSampleAsLibbpfWritesThem()
    {
        using var rb = Ring();
        Assert.True(rb.Produce([1, 2, 3, 4, 5]));
        Assert.Equal(16UL, rb.ProducerPosition);   // round_up(5 + 8, 8)
        Assert.Equal(0, rb.Peek(out ulong sample, out uint length));
        Assert.Equal(5u, length);
        Assert.True(InRegion(rb, sample, 5, write: true));
        Assert.Equal(5u, Read32(sample - 8));       // len, no busy or discard bit
        Assert.Equal(0x04030201u, Read32(sample));
        Assert.Equal(0UL, rb.ConsumerPosition);     // peeking does not consume
        rb.Release(length);
        Assert.Equal(16UL, rb.ConsumerPosition);
        Assert.Equal(-Errno.ENODATA, rb.Peek(out _, out _));
    }

    [Fact]
    public void Peek_DiscardedRecord_SkippedWithEagain()
    {
        using var rb = Ring();
        Assert.True(rb.ProduceDiscarded(12));
        Assert.True(rb.Produce([7]));
        Assert.Equal(-Errno.EAGAIN, rb.Peek(out _, out _));
        Assert.Equal(24UL, rb.ConsumerPosition);    // the discarded record is consumed by the peek
        Assert.Equal(0, rb.Peek(out ulong sample, out uint length));
        Assert.Equal(1u, length);
        Assert.Equal(7u, Read32(sample) & 0xff);
    }

    [Fact]
    public void Produce_RingFull_RefusedUntilConsumed()
    {
        using var rb = Ring();
        var big = new byte[4096 - 8];
        Assert.True(rb.Produce(big));               // exactly the ring
        Assert.False(rb.Produce([1]));
        Assert.Equal(0, rb.Peek(out _, out uint length));
        rb.Release(length);
        Assert.True(rb.Produce([1]));
    }

    [Fact]
    public void Produce_RecordAcrossTheEnd_ContiguousAsTheKernelsDoubleMapping()
    {
        using var rb = Ring();
        Assert.True(rb.Produce(new byte[4096 - 16 - 8]));   // leaves 16 bytes before the end
        Assert.Equal(0, rb.Peek(out _, out uint first));
        rb.Release(first);
        byte[] sample = [.. Enumerable.Range(1, 24).Select(i => (byte)i)];
        Assert.True(rb.Produce(sample));
        Assert.Equal(0, rb.Peek(out ulong at, out uint length));
        Assert.Equal(24u, length);
        unsafe
        {
            Assert.Equal(sample, new ReadOnlySpan<byte>((void*)at, 24).ToArray());
        }
    }

    [Fact]
    public void UserSide_NoEntries_NotSupportedAsTheKernel()
    {
        using var rb = Ring();
        Assert.True(rb.Produce([1]));
        Assert.Empty(rb.Entries());
        Assert.Equal(-Errno.ENOTSUPP, rb.UserLookup([], []));
        Assert.Equal(-Errno.ENOTSUPP, rb.UserUpdate([], [], 0));
        Assert.Equal(-Errno.ENOTSUPP, rb.GetNextKey([], []));
        Assert.Equal(0UL, rb.Lookup([], 0));
    }
}
