using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.Runtime;

/// <summary>MapsJson over the real map types that MapFactory creates.</summary>
public sealed class MapsJsonRealMapTests : IDisposable
{
    private readonly List<BpfMap> _maps = [];

    public void Dispose()
    {
        foreach (var m in _maps)
        {
            m.Dispose();
        }
    }

    private static byte[] H(string hex) => Convert.FromHexString(hex);

    private BpfMap Create(string name, MapType type, uint key, uint value, uint max, int cpus = 1, uint flags = 0, MapSpec? inner = null)
    {
        var map = MapFactory.Create(new MapSpec
        {
            Name = name, Type = type, KeySize = key, ValueSize = value, MaxEntries = max, Flags = flags, InnerMap = inner,
        }, cpus);
        map.Id = (uint)_maps.Count + 1;
        _maps.Add(map);
        return map;
    }

    private static Dictionary<string, BpfMap> ByName(params BpfMap[] maps) => maps.ToDictionary(m => m.Name);

    [Fact]
    public void HashMap_FormatApplyFormat_IsIdentityAndSorted()
    {
        var a = Create("flows", MapType.Hash, 4, 8, 64);
        foreach (uint k in new uint[] { 9, 3, 200, 1 })
        {
            Assert.Equal(0, a.UserUpdate(BitConverter.GetBytes(k), BitConverter.GetBytes((ulong)k * 10), 0));
        }

        string text = MapsJson.Format([a]);
        Assert.StartsWith("""{"maps":{"flows":{"type":"hash","entries":[{"key":"01000000","value":"0a00000000000000"},{"key":"03000000",""", text);
        var b = Create("flows", MapType.Hash, 4, 8, 64);
        MapsJson.Apply(text, "m.json", ByName(b));
        Assert.Equal(text, MapsJson.Format([b]));
    }

    [Fact]
    public void ArrayMap_ListsNonZeroOnly()
    {
        var a = Create("arr", MapType.Array, 4, 4, 8);
        Assert.Equal(0, a.UserUpdate(H("05000000"), H("01020304"), 0));
        Assert.Equal("""{"maps":{"arr":{"type":"array","entries":[{"key":"05000000","value":"01020304"}]}}}""", MapsJson.Format([a]));
    }

    [Theory]
    [InlineData(MapType.PercpuArray, "percpu_array")]
    [InlineData(MapType.PercpuHash, "percpu_hash")]
    [InlineData(MapType.LruPercpuHash, "lru_percpu_hash")]
    public void PerCpuMaps_ValuesPerCpu_RoundTrip(MapType type, string name)
    {
        var a = Create("pc", type, 4, 4, 8, cpus: 4);
        Assert.Equal(32, a.UserValueSize);
        var value = new byte[32];
        for (int cpu = 0; cpu < 4; cpu++)
        {
            value[cpu * 8] = (byte)(cpu + 1);
        }

        Assert.Equal(0, a.UserUpdate(H("02000000"), value, 0));
        string text = MapsJson.Format([a]);
        Assert.Equal(
            "{\"maps\":{\"pc\":{\"type\":\"" + name + "\",\"entries\":[{\"key\":\"02000000\",\"values\":[\"01000000\",\"02000000\",\"03000000\",\"04000000\"]}]}}}",
            text);

        var b = Create("pc", type, 4, 4, 8, cpus: 4);
        MapsJson.Apply(text, "m.json", ByName(b));
        var back = new byte[32];
        Assert.Equal(0, b.UserLookup(H("02000000"), back));
        Assert.Equal(value, back);
    }

    [Fact]
    public void PerCpuMap_WrongCpuCount_IsRefused()
    {
        var a = Create("pc", MapType.PercpuArray, 4, 4, 8, cpus: 4);
        var ex = Assert.Throws<MapsJsonException>(() => MapsJson.Apply(
            """{"maps": {"pc": {"type": "percpu_array", "entries": [{"key": "00000000", "values": ["01000000", "02000000"]}]}}}""", "m.json", ByName(a)));
        Assert.Equal("m.json: map \"pc\": entry 0: \"values\" has 2 value(s); the map has one per possible CPU (4)", ex.Message);
    }

    [Theory]
    [InlineData(MapType.Queue, "queue")]
    [InlineData(MapType.Stack, "stack")]
    public void QueueAndStack_RoundTripInPopOrder(MapType type, string name)
    {
        var a = Create("q", type, 0, 2, 8);
        Assert.Equal(0, a.UserUpdate([], H("0100"), 0));
        Assert.Equal(0, a.UserUpdate([], H("0200"), 0));
        Assert.Equal(0, a.UserUpdate([], H("0300"), 0));
        string text = MapsJson.Format([a]);
        string[] order = type == MapType.Queue ? ["0100", "0200", "0300"] : ["0300", "0200", "0100"];
        Assert.Equal("{\"maps\":{\"q\":{\"type\":\"" + name + "\",\"entries\":[" + string.Join(",", order.Select(v => "{\"value\":\"" + v + "\"}")) + "]}}}", text);

        var b = Create("q", type, 0, 2, 8);
        MapsJson.Apply(text, "m.json", ByName(b));
        Assert.Equal(text, MapsJson.Format([b]));
        var first = new byte[2];
        Assert.Equal(0, b.Pop(first));
        Assert.Equal(H(order[0]), first);
    }

    [Fact]
    public void LpmTrie_KeysWithPrefixLength_RoundTrip()
    {
        var a = Create("routes", MapType.LpmTrie, 8, 4, 16, flags: MapFlags.NoPrealloc);
        Assert.Equal(0, a.UserUpdate(H("180000000a000100"), H("01000000"), 0)); // 10.0.1.0/24
        Assert.Equal(0, a.UserUpdate(H("080000000a000000"), H("02000000"), 0)); // 10.0.0.0/8
        string text = MapsJson.Format([a]);
        Assert.Contains("{\"key\":\"080000000a000000\",\"value\":\"02000000\"}", text);
        Assert.Contains("{\"key\":\"180000000a000100\",\"value\":\"01000000\"}", text);
        var b = Create("routes", MapType.LpmTrie, 8, 4, 16, flags: MapFlags.NoPrealloc);
        MapsJson.Apply(text, "m.json", ByName(b));
        Assert.Equal(text, MapsJson.Format([b]));
    }

    [Fact]
    public void RingbufAndPerf_ListNothing()
    {
        var rb = Create("rb", MapType.Ringbuf, 0, 0, 4096);
        var perf = Create("perf", MapType.PerfEventArray, 4, 4, 2);
        Assert.Equal("""{"maps":{"rb":{"type":"ringbuf","entries":[]},"perf":{"type":"perf_event_array","entries":[]}}}""", MapsJson.Format([rb, perf]));
    }

    [Fact]
    public void ProgArray_NamesRoundTrip()
    {
        string[] programs = ["xdp_main", "tail_a", "tail_b"];
        var names = new MapsJsonNames(
            id => id < programs.Length ? programs[id] : null,
            name => Array.IndexOf(programs, name) is int i and >= 0 ? (uint)i : null,
            _ => null,
            _ => null);
        var a = (ProgArrayMap)Create("jmp", MapType.ProgArray, 4, 4, 4);
        a.ProgramResolver = fd => fd < programs.Length ? programs[fd] : null;
        const string json = """{"maps": {"jmp": {"type": "prog_array", "entries": [{"key": "01000000", "value": "tail_a"}, {"key": "03000000", "value": "tail_b"}]}}}""";
        MapsJson.Apply(json, "m.json", ByName(a), names);
        Assert.Equal("tail_b", a.GetProgram(3));
        Assert.Equal(
            """{"maps":{"jmp":{"type":"prog_array","entries":[{"key":"01000000","value":"tail_a"},{"key":"03000000","value":"tail_b"}]}}}""",
            MapsJson.Format([a], names));
    }

    [Fact]
    public void Devmap_IfindexAndProgramRoundTrip()
    {
        string[] programs = ["xdp_main", "xdp_devmap_prog"];
        var names = new MapsJsonNames(
            id => id < programs.Length ? programs[id] : null,
            name => Array.IndexOf(programs, name) is int i and >= 0 ? (uint)i : null,
            _ => null,
            _ => null);
        var a = (DevMap)Create("tx_port", MapType.Devmap, 4, 8, 4);
        a.ProgramResolver = fd => fd < programs.Length ? programs[fd] : null;
        const string json = """{"maps": {"tx_port": {"type": "devmap", "entries": [{"key": "00000000", "value": 5}, {"key": "02000000", "value": 7, "program": "xdp_devmap_prog"}]}}}""";
        MapsJson.Apply(json, "m.json", ByName(a), names);
        Assert.True(a.TryGetRedirectTarget(2, out uint ifindex));
        Assert.Equal(7u, ifindex);
        Assert.Equal(
            """{"maps":{"tx_port":{"type":"devmap","entries":[{"key":"00000000","value":5},{"key":"02000000","value":7,"program":"xdp_devmap_prog"}]}}}""",
            MapsJson.Format([a], names));
    }

    [Fact]
    public void ArrayOfMaps_InnerMapNamesRoundTrip()
    {
        var innerSpec = new MapSpec { Name = "inner", Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 };
        var inner0 = Create("inner0", MapType.Array, 4, 4, 1);
        var inner1 = Create("inner1", MapType.Array, 4, 4, 1);
        var outer = (ArrayOfMapsMap)Create("outer", MapType.ArrayOfMaps, 4, 4, 2, inner: innerSpec);
        BpfMap[] all = [inner0, inner1, outer];
        outer.MapResolver = fd => fd < all.Length ? all[fd] : null;   // fds are indexes, ids index + 1 (as in MapSet)
        var names = new MapsJsonNames(
            _ => null,
            _ => null,
            id => all.FirstOrDefault(m => m.Id == id)?.Name,
            name => Array.FindIndex(all, m => m.Name == name) is int i and >= 0 ? (uint)i : null);
        MapsJson.Apply("""{"maps": {"outer": {"type": "array_of_maps", "entries": [{"key": "01000000", "value": "inner1"}]}}}""",
            "m.json", ByName(all), names);
        Assert.Same(inner1, outer.GetInnerMap(1));
        Assert.Equal("""{"maps":{"outer":{"type":"array_of_maps","entries":[{"key":"01000000","value":"inner1"}]}}}""", MapsJson.Format([outer], names));
    }

    [Fact]
    public void FrozenRodata_UpdateIsRefusedWithEperm()
    {
        var map = MapFactory.Create(new MapSpec
        {
            Name = ".rodata", Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1, Frozen = true, IsGlobalData = true,
            Flags = MapFlags.Mmapable | MapFlags.RdonlyProg, InitialData = [1, 0, 0, 0],
        }, 1);
        _maps.Add(map);
        Assert.Equal("""{"maps":{".rodata":{"type":"array","entries":[{"key":"00000000","value":"01000000"}]}}}""", MapsJson.Format([map]));
        var ex = Assert.Throws<MapsJsonException>(() => MapsJson.Apply(
            """{"maps": {".rodata": {"type": "array", "entries": [{"key": "00000000", "value": "02000000"}]}}}""", "m.json", ByName(map)));
        Assert.Equal("m.json: map \".rodata\": entry 0: update failed: -EPERM", ex.Message);
    }
}
