using VethXdp.Verifier.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Helpers;

/// <summary>check_map_func_compatibility() in both directions, with the kernel's message.</summary>
public class MapFuncCompatibilityTests
{
    private const ProgramType Xdp = ProgramType.Xdp;

    [Theory]
    [InlineData(12, new[] { MapType.ProgArray })]                                                              // tail_call
    [InlineData(51, new[] { MapType.Devmap, MapType.Cpumap, MapType.Xskmap, MapType.DevmapHash })]             // redirect_map
    [InlineData(130, new[] { MapType.Ringbuf })]                                                               // ringbuf_output
    [InlineData(131, new[] { MapType.Ringbuf })]
    [InlineData(134, new[] { MapType.Ringbuf })]
    [InlineData(198, new[] { MapType.Ringbuf })]
    [InlineData(25, new[] { MapType.PerfEventArray })]                                                         // perf_event_output
    [InlineData(88, new[] { MapType.Queue, MapType.Stack })]                                                   // pop
    [InlineData(87, new[] { MapType.Queue, MapType.Stack, MapType.BloomFilter })]                              // push
    [InlineData(89, new[] { MapType.Queue, MapType.Stack, MapType.BloomFilter })]                              // peek
    [InlineData(195, new[] { MapType.PercpuHash, MapType.PercpuArray, MapType.LruPercpuHash })]                // lookup_percpu_elem
    [InlineData(52, new[] { MapType.Sockmap })]                                                                // sk_redirect_map
    [InlineData(72, new[] { MapType.Sockhash })]                                                               // sk_redirect_hash
    [InlineData(209, new[] { MapType.UserRingbuf })]
    [InlineData(107, new[] { MapType.SkStorage })]
    [InlineData(156, new[] { MapType.TaskStorage })]
    [InlineData(210, new[] { MapType.CgrpStorage })]
    [InlineData(33, new[] { MapType.CgroupArray })]                                                            // skb_under_cgroup
    public void AllowedMapTypes_MapTakingHelper_OnlyTheKernelsTypes(int funcId, MapType[] expected)
    {
        Assert.Equal(expected, MapFuncCompatibility.AllowedMapTypes(Xdp, funcId));
    }

    [Fact]
    public void AllowedMapTypes_MapLookupElem_EveryMapWithoutARestrictedHelperSet()
    {
        var allowed = MapFuncCompatibility.AllowedMapTypes(Xdp, 1);

        Assert.Contains(MapType.Hash, allowed);
        Assert.Contains(MapType.Array, allowed);
        Assert.Contains(MapType.Devmap, allowed);
        Assert.Contains(MapType.Xskmap, allowed);
        Assert.Contains(MapType.ArrayOfMaps, allowed);
        Assert.Contains(MapType.Sockmap, allowed);
        Assert.DoesNotContain(MapType.Cpumap, allowed);
        Assert.DoesNotContain(MapType.ProgArray, allowed);
        Assert.DoesNotContain(MapType.Ringbuf, allowed);
        Assert.DoesNotContain(MapType.Queue, allowed);
        Assert.DoesNotContain(MapType.PerfEventArray, allowed);
    }

    [Theory]
    [InlineData(MapType.Array, 12, "cannot pass map_type 2 into func bpf_tail_call#12")]
    [InlineData(MapType.ProgArray, 1, "cannot pass map_type 3 into func bpf_map_lookup_elem#1")]
    [InlineData(MapType.Hash, 51, "cannot pass map_type 1 into func bpf_redirect_map#51")]
    [InlineData(MapType.Cpumap, 1, "cannot pass map_type 16 into func bpf_map_lookup_elem#1")]
    [InlineData(MapType.Array, 131, "cannot pass map_type 2 into func bpf_ringbuf_reserve#131")]
    [InlineData(MapType.Ringbuf, 2, "cannot pass map_type 27 into func bpf_map_update_elem#2")]
    [InlineData(MapType.Hash, 25, "cannot pass map_type 1 into func bpf_perf_event_output#25")]
    [InlineData(MapType.Array, 88, "cannot pass map_type 2 into func bpf_map_pop_elem#88")]
    [InlineData(MapType.BloomFilter, 88, "cannot pass map_type 30 into func bpf_map_pop_elem#88")]
    [InlineData(MapType.Array, 209, "cannot pass map_type 2 into func bpf_user_ringbuf_drain#209")]
    public void Check_IncompatiblePair_KernelMessage(MapType map, int funcId, string message)
    {
        Assert.False(MapFuncCompatibility.IsCompatible(Xdp, map, funcId));
        Assert.Equal(message, MapFuncCompatibility.Check(Xdp, map, funcId));
    }

    [Theory]
    [InlineData(MapType.Array, 1)]
    [InlineData(MapType.Hash, 2)]
    [InlineData(MapType.DevmapHash, 51)]
    [InlineData(MapType.Xskmap, 1)]
    [InlineData(MapType.Queue, 87)]
    [InlineData(MapType.BloomFilter, 89)]
    [InlineData(MapType.PercpuArray, 195)]
    public void Check_CompatiblePair_Null(MapType map, int funcId)
    {
        Assert.Null(MapFuncCompatibility.Check(Xdp, map, funcId));
    }

    [Fact]
    public void Check_SockmapUpdate_AllowedInXdpRefusedInKprobeWithTwoLines()
    {
        Assert.Null(MapFuncCompatibility.Check(ProgramType.Xdp, MapType.Sockmap, 2));
        Assert.Null(MapFuncCompatibility.Check(ProgramType.SchedCls, MapType.Sockhash, 3));
        Assert.Equal(
            "cannot update sockmap in this context\ncannot pass map_type 15 into func bpf_map_update_elem#2",
            MapFuncCompatibility.Check(ProgramType.Kprobe, MapType.Sockmap, 2));
    }
}
