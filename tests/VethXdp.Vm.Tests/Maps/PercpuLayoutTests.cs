using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using Xunit;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

/// <summary>Per-CPU values of different CPUs never share a 64-byte cache line (so simulated CPUs on different threads do
/// not false-share), while user-side values and dumps stay packed at round_up(value_size, 8) per CPU.</summary>
public class PercpuLayoutTests
{
    private const int Line = 64;

    [Theory]
    [InlineData(MapType.PercpuArray, 4u, 1u)]
    [InlineData(MapType.PercpuArray, 8u, 5u)]
    [InlineData(MapType.PercpuArray, 24u, 3u)]
    [InlineData(MapType.PercpuArray, 72u, 2u)]
    [InlineData(MapType.PercpuHash, 8u, 3u)]
    [InlineData(MapType.PercpuHash, 12u, 1u)]
    [InlineData(MapType.LruPercpuHash, 8u, 4u)]
    public void Lookup_DifferentCpus_NoSharedCacheLine(MapType type, uint valueSize, uint max)
    {
        const int cpus = 4;
        using var m = MapFactory.Create(Spec(type, 4, valueSize, max), cpus);
        int elem = (int)((valueSize + 7) & ~7u);
        for (uint k = 0; k < max; k++)
        {
            Assert.Equal(0, m.UserUpdate(K(k), new byte[elem * cpus], 0));
        }

        // cache lines each CPU's values touch
        var lines = new HashSet<ulong>[cpus];
        for (int c = 0; c < cpus; c++)
        {
            lines[c] = [];
            for (uint k = 0; k < max; k++)
            {
                ulong addr = m.Lookup(K(k), c);
                Assert.NotEqual(0UL, addr);
                Assert.True(InRegion(m, addr, (int)valueSize, write: true));
                for (ulong a = addr / Line; a <= (addr + (ulong)elem - 1) / Line; a++)
                {
                    lines[c].Add(a);
                }
            }
        }

        for (int c1 = 0; c1 < cpus; c1++)
        {
            for (int c2 = c1 + 1; c2 < cpus; c2++)
            {
                Assert.False(lines[c1].Overlaps(lines[c2]), $"CPU {c1} and CPU {c2} share a cache line");
            }
        }
    }

    [Fact]
    public void PercpuArray_FirstValueOfEachCpu_StartsOnACacheLine()
    {
        using var m = Create<ArrayMap>(MapType.PercpuArray, 4, 8, 1, cpus: 3);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(0UL, m.ValueAddress(0, c) % Line);
        }

        Assert.Equal(64UL, m.ValueAddress(0, 1) - m.ValueAddress(0, 0));
    }

    [Fact]
    public void Array_NotPerCpu_ValuesStayPacked()
    {
        using var m = Create<ArrayMap>(MapType.Array, 4, 4, 4);
        Assert.Equal(8UL, m.ValueAddress(1) - m.ValueAddress(0));
        Assert.Equal(32UL, m.ValueRegions[0].Length);
    }

    [Theory]
    [InlineData(MapType.PercpuArray)]
    [InlineData(MapType.PercpuHash)]
    [InlineData(MapType.LruPercpuHash)]
    public void UserLookupAndDump_ProgramWritesOnEachCpu_PackedPerCpuValues(MapType type)
    {
        using var m = MapFactory.Create(Spec(type, 4, 4, 2), 3);
        Assert.Equal(24, m.UserValueSize);
        Assert.Equal(0, m.UserUpdate(K(1), new byte[24], 0));
        for (int c = 0; c < 3; c++)
        {
            // a program on CPU c writes its own copy (and the 4 padding bytes after the 4-byte value)
            Write64(m.Lookup(K(1), c), 0x1111_0000_0000_0000UL + (ulong)(c + 1));
        }

        var value = new byte[24];
        Assert.Equal(0, m.UserLookup(K(1), value));
        Assert.Equal(
            "010000000000111102000000000011110300000000001111",
            Convert.ToHexString(value).ToLowerInvariant());

        Assert.Equal(
            "{\"maps\":{\"m\":{\"type\":\"" + MapTypeNames.ToName(type)
            + "\",\"entries\":[{\"key\":\"01000000\",\"values\":[\"01000000\",\"02000000\",\"03000000\"]}]}}}",
            MapsJson.Format([m]));
    }
}
