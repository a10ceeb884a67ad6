using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

public class MapFactoryTests
{
    [Fact]
    public void Create_MaxEntriesZero_RefusedWithMapSizeHint()
    {
        var ex = Assert.Throws<MapCreateException>(() => MapFactory.Create(Spec(MapType.Hash, 4, 8, 0, name: "flows"), Cpus));
        Assert.Equal("map \"flows\": max_entries is 0: size it with --map-size flows=N", ex.Message);
        Assert.Equal("flows", ex.MapName);
        Assert.Equal(Errno.EINVAL, ex.ErrorCode);
    }

    [Fact]
    public void Create_PerfEventArrayMaxEntriesZero_OnePerCpu()
    {
        using var m = MapFactory.Create(Spec(MapType.PerfEventArray, 4, 4, 0), 6);
        Assert.IsType<PerfEventArrayMap>(m);
        Assert.Equal(6u, m.Spec.MaxEntries);
    }

    [Fact]
    public void Create_UnknownType_NamesTheType()
    {
        // The kernel's types this VM does not model are placeholders (see RealWorld/UnmodelledMapTests).
        var unknown = Assert.Throws<MapCreateException>(() => MapFactory.Create(Spec((MapType)99, 4, 8, 4), Cpus));
        Assert.Contains("unknown map type 99", unknown.Message);
    }

    // Each row: a definition the running 6.18 kernel refused, with its errno (recorded with bpf(BPF_MAP_CREATE)).
    [Theory]
    [InlineData(MapType.Array, 8u, 8u, 4u, 0u, Errno.EINVAL, "key_size must be 4")]
    [InlineData(MapType.Array, 4u, 0u, 4u, 0u, Errno.EINVAL, "value_size is 0")]
    [InlineData(MapType.Array, 4u, 8u, 4u, MapFlags.NoPrealloc, Errno.EINVAL, "not valid for array")]
    [InlineData(MapType.PercpuArray, 4u, 8u, 4u, MapFlags.Mmapable, Errno.EINVAL, "BPF_F_MMAPABLE")]
    [InlineData(MapType.PercpuArray, 4u, 32769u, 4u, 0u, Errno.E2BIG, "per-CPU limit")]
    [InlineData(MapType.Array, 4u, 8u, 4u, MapFlags.RdonlyProg | MapFlags.WronlyProg, Errno.EINVAL, "BPF_F_WRONLY_PROG")]
    [InlineData(MapType.Array, 4u, 8u, 4u, MapFlags.PreserveElems, Errno.EINVAL, "BPF_F_PRESERVE_ELEMS")]
    [InlineData(MapType.Hash, 0u, 8u, 4u, 0u, Errno.EINVAL, "key_size is 0")]
    [InlineData(MapType.Hash, 4u, 8u, 4u, MapFlags.NoCommonLru, Errno.EINVAL, "BPF_F_NO_COMMON_LRU")]
    [InlineData(MapType.LruHash, 4u, 8u, 4u, MapFlags.NoPrealloc, Errno.ENOTSUPP, "BPF_F_NO_PREALLOC")]
    [InlineData(MapType.Hash, 4u, 8u, 4u, MapFlags.Mmapable, Errno.EINVAL, "not valid for hash")]
    [InlineData(MapType.PercpuHash, 4u, 8u, 4u, MapFlags.NumaNode, Errno.EINVAL, "BPF_F_NUMA_NODE")]
    [InlineData(MapType.LpmTrie, 8u, 8u, 4u, 0u, Errno.EINVAL, "BPF_F_NO_PREALLOC")]
    [InlineData(MapType.LpmTrie, 4u, 8u, 4u, MapFlags.NoPrealloc, Errno.EINVAL, "key_size 4")]
    [InlineData(MapType.LpmTrie, 261u, 8u, 4u, MapFlags.NoPrealloc, Errno.EINVAL, "key_size 261")]
    [InlineData(MapType.Queue, 4u, 4u, 2u, 0u, Errno.EINVAL, "key_size must be 0")]
    [InlineData(MapType.Stack, 0u, 0u, 2u, 0u, Errno.EINVAL, "value_size is 0")]
    [InlineData(MapType.Devmap, 4u, 6u, 4u, 0u, Errno.EINVAL, "value_size must be 4")]
    [InlineData(MapType.Devmap, 4u, 4u, 4u, MapFlags.RdonlyProg, Errno.EINVAL, "not valid for devmap")]
    [InlineData(MapType.DevmapHash, 8u, 4u, 4u, 0u, Errno.EINVAL, "key_size must be 4")]
    [InlineData(MapType.Cpumap, 4u, 4u, 257u, 0u, Errno.E2BIG, "NR_CPUS")]
    [InlineData(MapType.Cpumap, 4u, 12u, 4u, 0u, Errno.EINVAL, "value_size must be 4")]
    [InlineData(MapType.Xskmap, 4u, 8u, 4u, 0u, Errno.EINVAL, "value_size must be 4")]
    [InlineData(MapType.ProgArray, 4u, 8u, 4u, 0u, Errno.EINVAL, "value_size must be 4")]
    [InlineData(MapType.ProgArray, 4u, 4u, 4u, MapFlags.RdonlyProg, Errno.EINVAL, "BPF_F_RDONLY_PROG")]
    [InlineData(MapType.Ringbuf, 0u, 0u, 6144u, 0u, Errno.EINVAL, "power of 2")]
    [InlineData(MapType.Ringbuf, 0u, 0u, 2048u, 0u, Errno.EINVAL, "page size")]
    [InlineData(MapType.Ringbuf, 4u, 0u, 4096u, 0u, Errno.EINVAL, "key_size and value_size must be 0")]
    [InlineData(MapType.BloomFilter, 4u, 4u, 4u, 0u, Errno.EINVAL, "key_size must be 0")]
    [InlineData(MapType.Hash, 4u, 8u, 4u, MapFlags.Rdonly | MapFlags.Wronly, Errno.EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY")]
    public void Create_KernelRefusedDefinition_Throws(MapType type, uint key, uint value, uint max, uint flags, int errno, string reason)
    {
        var ex = Assert.Throws<MapCreateException>(() => MapFactory.Create(Spec(type, key, value, max, flags, "bad"), Cpus));
        Assert.Equal(errno, ex.ErrorCode);
        Assert.Contains(reason, ex.Reason);
        Assert.StartsWith("map \"bad\": ", ex.Message);
    }

    [Fact]
    public void Create_MapExtraOnHash_Refused()
    {
        var spec = Spec(MapType.Hash, 4, 4, 100) with { MapExtra = 3 };
        Assert.Equal(Errno.EINVAL, Assert.Throws<MapCreateException>(() => MapFactory.Create(spec, Cpus)).ErrorCode);
    }

    [Fact]
    public void Create_EveryRequiredType_BuildsTheRightClass()
    {
        var inner = Spec(MapType.Array, 4, 4, 1);
        var cases = new (MapSpec Spec, Type Class)[]
        {
            (Spec(MapType.Array, 4, 8, 4), typeof(ArrayMap)),
            (Spec(MapType.PercpuArray, 4, 8, 4), typeof(ArrayMap)),
            (Spec(MapType.Hash, 4, 8, 4), typeof(HashMap)),
            (Spec(MapType.PercpuHash, 4, 8, 4), typeof(HashMap)),
            (Spec(MapType.LruHash, 4, 8, 4), typeof(HashMap)),
            (Spec(MapType.LruPercpuHash, 4, 8, 4), typeof(HashMap)),
            (Spec(MapType.LpmTrie, 8, 8, 4, MapFlags.NoPrealloc), typeof(LpmTrieMap)),
            (Spec(MapType.ProgArray, 4, 4, 4), typeof(ProgArrayMap)),
            (Spec(MapType.Devmap, 4, 8, 4), typeof(DevMap)),
            (Spec(MapType.DevmapHash, 4, 4, 4), typeof(DevMapHash)),
            (Spec(MapType.Cpumap, 4, 8, 2), typeof(CpuMap)),
            (Spec(MapType.Xskmap, 4, 4, 4), typeof(XskMap)),
            (Spec(MapType.ArrayOfMaps, 4, 4, 4) with { InnerMap = inner }, typeof(ArrayOfMapsMap)),
            (Spec(MapType.HashOfMaps, 4, 4, 4) with { InnerMap = inner }, typeof(HashOfMapsMap)),
            (Spec(MapType.Ringbuf, 0, 0, 4096), typeof(RingBufMap)),
            (Spec(MapType.PerfEventArray, 4, 4, 2), typeof(PerfEventArrayMap)),
            (Spec(MapType.Queue, 0, 4, 4), typeof(QueueStackMap)),
            (Spec(MapType.Stack, 0, 4, 4), typeof(QueueStackMap)),
            (Spec(MapType.BloomFilter, 0, 4, 4), typeof(BloomFilterMap)),
        };
        foreach (var (spec, cls) in cases)
        {
            using var m = MapFactory.Create(spec, Cpus);
            Assert.IsType(cls, m);
            Assert.Equal(spec.Type, m.Type);
        }
    }

    [Fact]
    public void Create_NoCommonLru_MaxEntriesRoundedToCpuMultiple()
    {
        // kernel: max_entries 5 on 2 CPUs becomes 6 (recorded with bpf_obj_get_info_by_fd)
        using var m = MapFactory.Create(Spec(MapType.LruHash, 4, 8, 5, MapFlags.NoCommonLru), 2);
        Assert.Equal(6u, m.Spec.MaxEntries);
    }

    [Fact]
    public void Create_Devmap_BecomesReadOnlyForPrograms()
    {
        // kernel: map_flags 0x80 (BPF_F_RDONLY_PROG) reported for a devmap created with 0
        using var m = MapFactory.Create(Spec(MapType.Devmap, 4, 4, 4), Cpus);
        Assert.Equal(MapFlags.RdonlyProg, m.Spec.Flags);
        Assert.All(m.ValueRegions, r => Assert.False(r.Writable));
    }

    [Fact]
    public void Create_MapOfMapsWithoutInner_Refused()
    {
        var ex = Assert.Throws<MapCreateException>(() => MapFactory.Create(Spec(MapType.ArrayOfMaps, 4, 4, 4, name: "outer"), Cpus));
        Assert.Contains("inner map", ex.Message);
        var nested = Spec(MapType.HashOfMaps, 4, 4, 4) with { InnerMap = Spec(MapType.ArrayOfMaps, 4, 4, 1) with { InnerMap = Spec(MapType.Array, 4, 4, 1) } };
        Assert.Contains("cannot nest", Assert.Throws<MapCreateException>(() => MapFactory.Create(nested, Cpus)).Message);
        var progInner = Spec(MapType.ArrayOfMaps, 4, 4, 4) with { InnerMap = Spec(MapType.ProgArray, 4, 4, 1) };
        Assert.Equal(Errno.ENOTSUPP, Assert.Throws<MapCreateException>(() => MapFactory.Create(progInner, Cpus)).ErrorCode);
        var badInner = Spec(MapType.ArrayOfMaps, 4, 4, 4) with { InnerMap = Spec(MapType.Hash, 0, 4, 1) };
        Assert.Contains("inner map: key_size is 0", Assert.Throws<MapCreateException>(() => MapFactory.Create(badInner, Cpus)).Message);
    }

    [Fact]
    public void Create_GlobalData_InitialDataAndFrozenRegion()
    {
        var spec = Spec(MapType.Array, 4, 12, 1, MapFlags.RdonlyProg | MapFlags.Mmapable, ".rodata") with
        {
            IsGlobalData = true, Frozen = true, InitialData = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
        };
        using var m = (ArrayMap)MapFactory.Create(spec, Cpus);
        Assert.True(m.IsFrozen);
        var region = Assert.Single(m.ValueRegions);
        Assert.Equal(Memory.RegionKind.GlobalData, region.Kind);
        Assert.False(region.Writable);
        Assert.Equal(0x0807060504030201UL, Read64(m.ValueAddress(0)));
        Assert.Equal(-Errno.EPERM, m.UserUpdate(K(0), new byte[12], 0));
        var tooBig = spec with { InitialData = new byte[13] };
        Assert.Throws<MapCreateException>(() => MapFactory.Create(tooBig, Cpus));
    }

    [Fact]
    public void Freeze_Twice_SecondIsEperm()
    {
        // kernel: freeze 0, freeze again -EPERM (write permission is checked first), update after freeze -EPERM
        using var m = Create<ArrayMap>(MapType.Array, 4, 8, 4);
        Assert.Equal(0, m.Freeze());
        Assert.Equal(-Errno.EPERM, m.Freeze());
        Assert.Equal(-Errno.EPERM, m.UserUpdate(K(0), V(1), 0));
        Assert.Equal(0, m.Update(K(0), V(1), 0, 0)); // programs may still write a frozen map without BPF_F_RDONLY_PROG
    }

    [Fact]
    public void TypeNames_AsBpftool()
    {
        Assert.Equal("lru_percpu_hash", MapTypeNames.ToName(MapType.LruPercpuHash));
        Assert.Equal("devmap_hash", MapTypeNames.ToName(MapType.DevmapHash));
        Assert.True(MapTypeNames.TryParse("lpm_trie", out var t));
        Assert.Equal(MapType.LpmTrie, t);
        Assert.False(MapTypeNames.TryParse("nope", out _));
    }
}
