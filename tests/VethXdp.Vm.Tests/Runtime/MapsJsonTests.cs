using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.Runtime;

public class MapsJsonTests
{
    private static readonly FakeNames s_names = new(["xdp_main", "xdp_next"], ["inner_a", "inner_b"]);

    private static byte[] H(string hex) => Convert.FromHexString(hex);

    private static Dictionary<string, BpfMap> ByName(params BpfMap[] maps) => maps.ToDictionary(m => m.Name);

    // ---- writing ----

    [Fact]
    public void Format_HashMap_EntriesSortedByKeyInLowercaseHex()
    {
        using var m = new FakeMap("flows", MapType.Hash, 4, 8, 16);
        m.UserUpdate(H("0A000002"), H("0100000000000000"), 0);
        m.UserUpdate(H("0A000001"), H("FF00000000000000"), 0);
        Assert.Equal(
            """{"maps":{"flows":{"type":"hash","entries":[{"key":"0a000001","value":"ff00000000000000"},{"key":"0a000002","value":"0100000000000000"}]}}}""",
            MapsJson.Format([m]));
    }

    [Fact]
    public void Format_ArrayMap_ListsNonZeroEntriesOnly()
    {
        using var m = new FakeMap("counters", MapType.Array, 4, 4, 4);
        m.UserUpdate(H("02000000"), H("07000000"), 0);
        m.UserUpdate(H("03000000"), H("00000000"), 0);
        Assert.Equal("""{"maps":{"counters":{"type":"array","entries":[{"key":"02000000","value":"07000000"}]}}}""", MapsJson.Format([m]));
    }

    [Fact]
    public void Format_EmptyArray_HasNoEntries()
    {
        using var m = new FakeMap(".bss", MapType.Array, 4, 16, 1);
        Assert.Equal("""{"maps":{".bss":{"type":"array","entries":[]}}}""", MapsJson.Format([m]));
    }

    [Fact]
    public void Format_PercpuHash_GivesOneValuePerCpuWithoutPadding()
    {
        using var m = new FakeMap("pc", MapType.PercpuHash, 2, 4, 4, cpus: 3);
        // user-side layout: round_up(4, 8) = 8 bytes per CPU
        m.UserUpdate(H("0100"), H("01000000" + "00000000" + "02000000" + "00000000" + "03000000" + "00000000"), 0);
        Assert.Equal("""{"maps":{"pc":{"type":"percpu_hash","entries":[{"key":"0100","values":["01000000","02000000","03000000"]}]}}}""",
            MapsJson.Format([m]));
    }

    [Fact]
    public void Format_PercpuArray_ListsKeysWhereAnyCpuIsNonZero()
    {
        using var m = new FakeMap("drops", MapType.PercpuArray, 4, 8, 3, cpus: 2);
        m.UserUpdate(H("01000000"), H("0000000000000000" + "0500000000000000"), 0);
        Assert.Equal(
            """{"maps":{"drops":{"type":"percpu_array","entries":[{"key":"01000000","values":["0000000000000000","0500000000000000"]}]}}}""",
            MapsJson.Format([m]));
    }

    [Theory]
    [InlineData(MapType.Queue, "queue", new[] { "01", "02", "03" })]
    [InlineData(MapType.Stack, "stack", new[] { "03", "02", "01" })]
    public void Format_QueueAndStack_ListValuesInPopOrderAndKeepThem(MapType type, string name, string[] popOrder)
    {
        using var m = new FakeMap("q", type, 0, 1, 8);
        m.Push([1], 0);
        m.Push([2], 0);
        m.Push([3], 0);
        string expected = "{\"maps\":{\"q\":{\"type\":\"" + name + "\",\"entries\":[" + string.Join(",", popOrder.Select(v => "{\"value\":\"" + v + "\"}")) + "]}}}";
        Assert.Equal(expected, MapsJson.Format([m]));
        Assert.Equal(expected, MapsJson.Format([m])); // reading did not change the contents
        var first = new byte[1];
        Assert.Equal(0, m.Pop(first));
        Assert.Equal(Convert.FromHexString(popOrder[0]), first);
    }

    [Theory]
    [InlineData(MapType.Ringbuf, "ringbuf")]
    [InlineData(MapType.PerfEventArray, "perf_event_array")]
    [InlineData(MapType.BloomFilter, "bloom_filter")]
    public void Format_EventAndBloomMaps_ListNoEntries(MapType type, string name)
    {
        using var m = new FakeMap("ev", type, type == MapType.PerfEventArray ? 4u : 0, 4, 4);
        Assert.Equal("{\"maps\":{\"ev\":{\"type\":\"" + name + "\",\"entries\":[]}}}", MapsJson.Format([m]));
    }

    [Fact]
    public void Format_ProgArray_GivesProgramNamesAndSkipsEmptySlots()
    {
        using var m = new FakeMap("jmp", MapType.ProgArray, 4, 4, 4);
        m.UserUpdate(H("01000000"), BitConverter.GetBytes(101u), 0);
        m.UserUpdate(H("03000000"), BitConverter.GetBytes(999u), 0); // a handle nobody names: raw hex
        Assert.Equal(
            """{"maps":{"jmp":{"type":"prog_array","entries":[{"key":"01000000","value":"xdp_next"},{"key":"03000000","value":"e7030000"}]}}}""",
            MapsJson.Format([m], s_names));
    }

    [Fact]
    public void Format_Devmap_GivesIfindexAndAttachedProgram()
    {
        using var m = new FakeMap("tx_port", MapType.Devmap, 4, 8, 4);
        m.UserUpdate(H("00000000"), [5, 0, 0, 0, 0, 0, 0, 0], 0);
        m.UserUpdate(H("02000000"), [7, 0, 0, 0, 100, 0, 0, 0], 0);
        Assert.Equal(
            """{"maps":{"tx_port":{"type":"devmap","entries":[{"key":"00000000","value":5},{"key":"02000000","value":7,"program":"xdp_main"}]}}}""",
            MapsJson.Format([m], s_names));
    }

    [Fact]
    public void Format_HashOfMaps_GivesInnerMapNames()
    {
        using var m = new FakeMap("outer", MapType.HashOfMaps, 4, 4, 4);
        m.UserUpdate(H("09000000"), BitConverter.GetBytes(201u), 0);
        Assert.Equal("""{"maps":{"outer":{"type":"hash_of_maps","entries":[{"key":"09000000","value":"inner_b"}]}}}""",
            MapsJson.Format([m], s_names));
    }

    [Fact]
    public void Write_SeveralMaps_OneLineInOrder()
    {
        using var a = new FakeMap("b_map", MapType.Hash, 1, 1, 2);
        using var b = new FakeMap("a_map", MapType.LruHash, 1, 1, 2);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            MapsJson.Write(w, [a, b]);
        }

        string text = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.DoesNotContain('\n', text);
        Assert.Equal("""{"maps":{"b_map":{"type":"hash","entries":[]},"a_map":{"type":"lru_hash","entries":[]}}}""", text);
    }

    // ---- reading ----

    [Fact]
    public void Apply_EveryKind_RoundTripsThroughFormat()
    {
        var maps = NewSet();
        var hash = (FakeMap)maps["flows"];
        hash.UserUpdate(H("0a000001"), H("0100000000000000"), 0);
        hash.UserUpdate(H("0a000003"), H("0300000000000000"), 0);
        maps["counters"].UserUpdate(H("01000000"), H("2a000000"), 0);
        maps["pc"].UserUpdate(H("0500"), H("0100000000000000" + "0200000000000000"), 0);
        maps["jmp"].UserUpdate(H("00000000"), BitConverter.GetBytes(100u), 0);
        maps["tx_port"].UserUpdate(H("01000000"), [9, 0, 0, 0, 101, 0, 0, 0], 0);
        maps["outer"].UserUpdate(H("00000000"), BitConverter.GetBytes(200u), 0);
        maps["cpus"].UserUpdate(H("00000000"), [0, 8, 0, 0, 0, 0, 0, 0], 0);
        maps["q"].Push([1, 2], 0);
        maps["q"].Push([3, 4], 0);
        maps["s"].Push([5], 0);
        maps["s"].Push([6], 0);
        string text = MapsJson.Format(maps.Values, s_names);

        var fresh = NewSet();
        MapsJson.Apply(text, "maps.json", fresh, s_names);
        Assert.Equal(text, MapsJson.Format(fresh.Values, s_names));
        Assert.Contains("\"cpus\":{\"type\":\"cpumap\",\"entries\":[{\"key\":\"00000000\",\"value\":2048}]}", text);
    }

    private static Dictionary<string, BpfMap> NewSet() => ByName(
        new FakeMap("flows", MapType.Hash, 4, 8, 16),
        new FakeMap("counters", MapType.Array, 4, 4, 4),
        new FakeMap("pc", MapType.PercpuHash, 2, 8, 4, cpus: 2),
        new FakeMap("jmp", MapType.ProgArray, 4, 4, 2),
        new FakeMap("tx_port", MapType.Devmap, 4, 8, 2),
        new FakeMap("outer", MapType.ArrayOfMaps, 4, 4, 1),
        new FakeMap("cpus", MapType.Cpumap, 4, 8, 2),
        new FakeMap("q", MapType.Queue, 0, 2, 4),
        new FakeMap("s", MapType.Stack, 0, 1, 4),
        new FakeMap("events", MapType.Ringbuf, 0, 0, 4096));

    [Fact]
    public void Apply_UpperCaseHex_IsAccepted()
    {
        using var m = new FakeMap("h", MapType.Hash, 2, 2, 4);
        MapsJson.Apply("""{"maps": {"h": {"type": "hash", "entries": [{"key": "ABcd", "value": "00FF"}]}}}""", "m.json", ByName(m));
        var value = new byte[2];
        Assert.Equal(0, m.UserLookup(H("abcd"), value));
        Assert.Equal(H("00ff"), value);
    }

    [Theory]
    [InlineData("""{"maps": {"h": {"type": "hash", "entries": [{"key": "0100", "value": "00000000"}, {"key": "01", "value": "00000000"}]}}}""",
        "m.json: map \"h\": entry 1: key is 1 bytes, the map's key_size is 2")]
    [InlineData("""{"maps": {"h": {"type": "hash", "entries": [{"key": "0100", "value": "000000"}]}}}""",
        "m.json: map \"h\": entry 0: value is 3 bytes, the map's value_size is 4")]
    [InlineData("""{"maps": {"nope": {"type": "hash", "entries": []}}}""",
        "m.json: map \"nope\": no map of that name in the object (maps: a, h, j, p)")]
    [InlineData("""{"maps": {"h": {"type": "array", "entries": []}}}""",
        "m.json: map \"h\": type \"array\" does not match the map's type \"hash\"")]
    [InlineData("""{"maps": {"h": {"type": "hashmap", "entries": []}}}""",
        "m.json: map \"h\": unknown map type \"hashmap\"")]
    [InlineData("""{"maps": {"h": {"type": "hash", "entries": [{"key": "010", "value": "00000000"}]}}}""",
        "m.json: map \"h\": entry 0: bad hex string in \"key\": \"010\" has an odd number of digits")]
    [InlineData("""{"maps": {"h": {"type": "hash", "entries": [{"key": "0100", "value": "00zz0000"}]}}}""",
        "m.json: map \"h\": entry 0: bad hex string in \"value\": 'z' at character 3 is not a hex digit")]
    [InlineData("""{"maps": {"h": {"type": "hash", "entries": [{"key": "0100"}]}}}""",
        "m.json: map \"h\": entry 0: \"value\" is missing")]
    [InlineData("""{"maps": {"h": {"type": "hash", "entries": [{"key": 1, "value": "00000000"}]}}}""",
        "m.json: map \"h\": entry 0: \"key\" must be a hex string")]
    [InlineData("""{"maps": {"h": {"type": "hash", "entries": [{"key": "0100", "values": ["00000000"]}]}}}""",
        "m.json: map \"h\": entry 0: unexpected property \"values\" in a hash entry (expected \"key\", \"value\")")]
    [InlineData("""{"maps": {"p": {"type": "percpu_array", "entries": [{"key": "00000000", "values": ["0000"]}]}}}""",
        "m.json: map \"p\": entry 0: \"values\" has 1 value(s); the map has one per possible CPU (2)")]
    [InlineData("""{"maps": {"p": {"type": "percpu_array", "entries": [{"key": "00000000", "values": ["0000", "00"]}]}}}""",
        "m.json: map \"p\": entry 0: values[1] is 1 bytes, the map's value_size is 2")]
    [InlineData("""{"maps": {"j": {"type": "prog_array", "entries": [{"key": "00000000", "value": "xdp_missing"}]}}}""",
        "m.json: map \"j\": entry 0: no program named \"xdp_missing\"")]
    [InlineData("""{"maps": {"a": {"type": "ringbuf", "entries": [{"value": "00"}]}}}""",
        "m.json: map \"a\": entry 0: ringbuf maps take no entries (their records are the run's events)")]
    [InlineData("""{"maps": {"h": {"type": "hash", "entries": []}, "h": {"type": "hash", "entries": []}}}""",
        "m.json: map \"h\": the map is given twice")]
    [InlineData("""{"mapz": {}}""",
        "m.json: expected an object {\"maps\": {NAME: {\"type\": ..., \"entries\": [...]}}}")]
    public void Apply_BadEntry_NamesFileMapAndEntry(string json, string message)
    {
        var maps = ByName(
            new FakeMap("h", MapType.Hash, 2, 4, 8),
            new FakeMap("p", MapType.PercpuArray, 4, 2, 2, cpus: 2),
            new FakeMap("j", MapType.ProgArray, 4, 4, 2),
            new FakeMap("a", MapType.Ringbuf, 0, 0, 4096));
        var ex = Assert.Throws<MapsJsonException>(() => MapsJson.Apply(json, "m.json", maps, s_names));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Apply_InvalidJson_SaysWhere()
    {
        var ex = Assert.Throws<MapsJsonException>(() => MapsJson.Apply("{\"maps\": {\n  \"h\": [,]}}", "bad.json", ByName()));
        Assert.StartsWith("bad.json: invalid JSON at line 2, byte ", ex.Message);
        Assert.Null(ex.MapName);
        Assert.Equal(-1, ex.EntryIndex);
    }

    [Fact]
    public void Apply_BadEntryInALaterMap_LeavesEveryMapUntouched()
    {
        using var first = new FakeMap("first", MapType.Hash, 1, 1, 4);
        using var second = new FakeMap("second", MapType.Hash, 1, 1, 4);
        const string json = """
            {"maps": {"first": {"type": "hash", "entries": [{"key": "01", "value": "01"}]},
                      "second": {"type": "hash", "entries": [{"key": "02", "value": "02"}, {"key": "03", "value": "0303"}]}}}
            """;
        var ex = Assert.Throws<MapsJsonException>(() => MapsJson.Apply(json, "m.json", ByName(first, second)));
        Assert.Equal("second", ex.MapName);
        Assert.Equal(1, ex.EntryIndex);
        Assert.Equal(0, first.UpdateCalls);
        Assert.Equal(0, second.UpdateCalls);
    }

    [Fact]
    public void Apply_UpdateRefused_ReportsTheErrno()
    {
        using var m = new FakeMap("arr", MapType.Array, 4, 1, 2);
        var ex = Assert.Throws<MapsJsonException>(() =>
            MapsJson.Apply("""{"maps": {"arr": {"type": "array", "entries": [{"key": "00000000", "value": "01"}, {"key": "05000000", "value": "01"}]}}}""",
                "m.json", ByName(m)));
        Assert.Equal("m.json: map \"arr\": entry 1: update failed: -E2BIG", ex.Message);
    }

    [Fact]
    public void Apply_Stack_PopsInTheListedOrder()
    {
        using var m = new FakeMap("s", MapType.Stack, 0, 1, 4);
        MapsJson.Apply("""{"maps": {"s": {"type": "stack", "entries": [{"value": "0a"}, {"value": "0b"}, {"value": "0c"}]}}}""", "m.json", ByName(m));
        var v = new byte[1];
        var popped = new List<byte>();
        while (m.Pop(v) == 0)
        {
            popped.Add(v[0]);
        }

        Assert.Equal(new byte[] { 0x0a, 0x0b, 0x0c }, popped);
    }

    [Fact]
    public void Apply_DevmapProgramInFourByteValue_IsRefused()
    {
        using var m = new FakeMap("d", MapType.Devmap, 4, 4, 2);
        var ex = Assert.Throws<MapsJsonException>(() =>
            MapsJson.Apply("""{"maps": {"d": {"type": "devmap", "entries": [{"key": "00000000", "value": 3, "program": "xdp_main"}]}}}""",
                "m.json", ByName(m), s_names));
        Assert.Equal("m.json: map \"d\": entry 0: a program is given, but the map's value_size is 4 (8 holds one)", ex.Message);
    }

    [Fact]
    public void Parse_Model_HoldsTheEntries()
    {
        var parsed = MapsJson.Parse("""{"maps": {"t": {"type": "devmap_hash", "entries": [{"key": "07000000", "value": 7, "program": "p"}]}}}""", "m.json");
        var map = Assert.Single(parsed);
        Assert.Equal(MapType.DevmapHash, map.Type);
        var entry = Assert.Single(map.Entries);
        Assert.Equal(H("07000000"), entry.Key);
        Assert.Equal(7u, entry.Number);
        Assert.Equal("p", entry.Name);
    }

    [Property(MaxTest = 200)]
    public Property FormatApplyFormat_RandomHashContents_IsIdentity()
    {
        var entries = Gen.Choose(0, 255).Two().Select(t => ((byte)t.Item1, (byte)t.Item2)).ListOf();
        return Prop.ForAll(entries.ToArbitrary(), list =>
        {
            using var a = new FakeMap("m", MapType.Hash, 1, 1, 256);
            foreach (var (k, v) in list)
            {
                a.UserUpdate([k], [v], 0);
            }

            string text = MapsJson.Format([a]);
            using var b = new FakeMap("m", MapType.Hash, 1, 1, 256);
            MapsJson.Apply(text, "p.json", ByName(b));
            return MapsJson.Format([b]) == text;
        });
    }
}
