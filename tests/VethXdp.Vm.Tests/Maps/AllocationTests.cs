using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

public class AllocationTests
{
    private sealed class NullSink : IMapEventSink
    {
        public void OnEvent(BpfMap map, int cpu, ReadOnlySpan<byte> data)
        {
        }
    }

    [Fact]
    public void ProgramSidePaths_WarmMaps_AllocateNothing()
    {
        using var array = Create<ArrayMap>(MapType.PercpuArray, 4, 8, 64);
        using var pcpu = Create<HashMap>(MapType.PercpuHash, 4, 8, 64);
        using var lruPcpu = Create<HashMap>(MapType.LruPercpuHash, 4, 8, 32);
        using var lpm = Create<LpmTrieMap>(MapType.LpmTrie, 8, 8, 64, MapFlags.NoPrealloc);
        using var queue = Create<QueueStackMap>(MapType.Queue, 0, 8, 16);
        using var stack = Create<QueueStackMap>(MapType.Stack, 0, 8, 16);
        using var devmap = Create<DevMapHash>(MapType.DevmapHash, 4, 4, 8);
        using var perf = Create<PerfEventArrayMap>(MapType.PerfEventArray, 4, 4, 2);
        using var bloom = Create<BloomFilterMap>(MapType.BloomFilter, 0, 8, 64);
        devmap.UserUpdate(K(3), V32(7), 0);
        perf.Sink = new NullSink();
        var key = new byte[4];
        var lpmKey = new byte[8];
        var value = new byte[8];

        void Round(int i)
        {
            BitConverter.TryWriteBytes(key, (uint)(i % 100));
            array.Update(key, value, 0, i & 1);
            array.Lookup(key, 1);
            pcpu.Update(key, value, 0, i & 1);
            pcpu.Lookup(key, 0);
            if (i % 5 == 0)
            {
                pcpu.Delete(key);
            }

            lruPcpu.Update(key, value, 0, 0);
            lruPcpu.Lookup(key, 0);
            BitConverter.TryWriteBytes(lpmKey, (uint)(8 + (i % 25)));
            BitConverter.TryWriteBytes(lpmKey.AsSpan(4), i * 7919);
            lpm.Update(lpmKey, value, 0, 0);
            lpm.Lookup(lpmKey, 0);
            if (i % 3 == 0)
            {
                lpm.Delete(lpmKey);
            }

            queue.Push(value, MapUpdateFlags.Exist);
            stack.Push(value, MapUpdateFlags.Exist);
            if ((i & 1) == 0)
            {
                queue.Pop(value);
                stack.Peek(value);
            }

            devmap.TryGetRedirectTarget(3, out _);
            devmap.Lookup(K3, 0);
            perf.Output(PerfEventArrayMap.CurrentCpu, value, [], 0);
            bloom.Push(value, 0);
            bloom.Peek(value);
        }

        for (int i = 0; i < 10_000; i++)
        {
            Round(i);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Round(i);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(lpm.Count > 0);
    }

    private static readonly byte[] K3 = [3, 0, 0, 0];
}
