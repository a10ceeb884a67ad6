using FsCheck;
using FsCheck.Fluent;
using VethXdp.Devices.Frames;
using VethXdp.Devices.Rings;

namespace VethXdp.Devices.Tests;

public class DescRingTests
{
    [Fact]
    public void Ctor_SizeNotPowerOfTwo_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DescRing(100));

    [Fact]
    public void TryEnqueue_Full_ReturnsFalseAndKeepsOrder()
    {
        var ring = new DescRing(4);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(ring.TryEnqueue(new XdpDesc(i, 256, 64, 2)));
        }

        Assert.False(ring.TryEnqueue(new XdpDesc(9, 256, 64, 2)));
        Assert.Equal(4, ring.Count);
        Assert.True(ring.TryDequeue(out var d));
        Assert.Equal(0, d.Frame);
    }

    // Model-based: any sequence of enqueues (true) and dequeues (false) behaves like a Queue<T> bounded at the size.
    [FsCheck.Xunit.Property(MaxTest = 300)]
    public Property Operations_AnySequence_MatchQueueModel(bool[] ops, byte sizeLog)
    {
        int size = 1 << (sizeLog % 6);
        var ring = new DescRing(size);
        var model = new Queue<int>();
        int next = 0;
        foreach (bool enqueue in ops ?? [])
        {
            if (enqueue)
            {
                bool ok = ring.TryEnqueue(new XdpDesc(next, 256, 60, 1));
                bool modelOk = model.Count < size;
                if (modelOk)
                {
                    model.Enqueue(next);
                }

                next++;
                if (ok != modelOk)
                {
                    return false.Label($"enqueue: ring {ok}, model {modelOk}");
                }
            }
            else
            {
                bool ok = ring.TryDequeue(out var d);
                bool modelOk = model.TryDequeue(out int m);
                if (ok != modelOk || (ok && d.Frame != m))
                {
                    return false.Label($"dequeue: ring {ok}/{d.Frame}, model {modelOk}/{m}");
                }
            }

            if (ring.Count != model.Count)
            {
                return false.Label($"count {ring.Count} != {model.Count}");
            }
        }

        return true.ToProperty();
    }
}
