using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.RealWorld;

/// <summary>An object may hold maps of kernel types this VM does not model next to its XDP program (the kernel
/// selftests' test_migrate_reuseport.c: an XDP program and an sk_reuseport program with a reuseport_sockarray). The
/// kernel and libbpf load it; so must we, and the XDP program must run. Only a program that uses such a map faults.</summary>
public class UnmodelledMapTests
{
    private static MapSpec Spec(string name, MapType type, uint key, uint value, uint max, uint flags = 0) =>
        new() { Name = name, Type = type, KeySize = key, ValueSize = value, MaxEntries = max, Flags = flags };

    [Theory]
    [InlineData(MapType.TaskStorage)]
    [InlineData(MapType.CgrpStorage)]
    public void Create_TaskOrCgroupStorage_IsALocalStorageMap(MapType type)
    {
        using var map = MapFactory.Create(Spec("m", type, 4u, 8u, 0u, MapFlags.NoPrealloc), 2);
        Assert.IsType<VethXdp.Vm.Helpers.LocalStorageMap>(map);
    }

    [Theory]
    [InlineData(MapType.ReuseportSockarray, 4u, 8u, 16u, 0u)]
    [InlineData(MapType.Sockmap, 4u, 8u, 16u, 0u)]
    [InlineData(MapType.Sockhash, 4u, 8u, 16u, 0u)]
    [InlineData(MapType.StackTrace, 4u, 8u, 16u, 0u)]
    [InlineData(MapType.SkStorage, 4u, 8u, 0u, MapFlags.NoPrealloc)]
    [InlineData(MapType.InodeStorage, 4u, 8u, 0u, MapFlags.NoPrealloc)]
    [InlineData(MapType.CgroupStorage, 12u, 8u, 0u, 0u)]
    public void Create_KernelTypeNotModelled_PlaceholderThatListsNothing(MapType type, uint key, uint value, uint max, uint flags)
    {
        using var map = MapFactory.Create(Spec("m", type, key, value, max, flags), 2);
        Assert.IsType<UnmodelledMap>(map);
        Assert.Empty(map.Entries());
        Assert.Equal(-Errno.ENOENT, map.UserLookup(new byte[key], new byte[value]));
        Assert.Equal(-Errno.EOPNOTSUPP, map.UserUpdate(new byte[key], new byte[value], 0));
    }

    [Fact]
    public void Create_UnknownType_StillRefused()
    {
        var e = Assert.Throws<MapCreateException>(() => MapFactory.Create(Spec("m", (MapType)99, 4, 4, 1), 2));
        Assert.Contains("unknown map type 99", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ObjectWithReuseportMap_XdpProgramRuns()
    {
        using var obj = Rt.Load([Spec("reuseport_map", MapType.ReuseportSockarray, 4, 8, 16)], Rt.Xdp("r0 = 2\nexit"));
        Assert.IsType<UnmodelledMap>(obj.Maps["reuseport_map"]);
        using var runner = new XdpRunner(obj);
        var r = runner.Run(Rt.Frame());
        Assert.Null(r.Error);
        Assert.Equal(Rt.Pass, r.Retval);
    }

    [Fact]
    public void Run_ProgramLooksUpUnmodelledMap_FaultsNamingIt()
    {
        const string Asm = """
            r1 = 0
            *(u32 *)(r10 -4) = r1
            r2 = r10
            r2 += -4
            r1 = map[idx:0]
            call bpf_map_lookup_elem
            r0 = 2
            exit
            """;
        using var obj = Rt.Load([Spec("sockets", MapType.Sockhash, 4, 8, 16)], Rt.Xdp(Asm));
        using var runner = new XdpRunner(obj);
        var r = runner.Run(Rt.Frame());
        Assert.NotNull(r.Error);
        Assert.Contains("map sockets: sockhash maps are not modelled by this VM", r.Error.Message, StringComparison.Ordinal);
    }
}
