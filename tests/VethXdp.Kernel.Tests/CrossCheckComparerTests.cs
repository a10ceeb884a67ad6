using System.Text.Json;
using VethXdp.Kernel;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Kernel.Tests;

/// <summary>The cross-check's judgement on hand-made outcomes and maps, without the kernel: it must catch one byte,
/// a retval, a refusal on one side, and one map value, and must not flag what the skips leave out.</summary>
public class CrossCheckComparerTests
{
    private static byte[] Frame()
    {
        var f = new byte[64];
        for (int i = 0; i < f.Length; i++)
        {
            f[i] = (byte)i;
        }

        return f;
    }

    [Fact]
    public void ComparePacket_OneByteDiffers_ReportsItsOffset()
    {
        byte[] kernel = Frame();
        byte[] ours = Frame();
        ours[37] ^= 0x01;

        var d = CrossCheckComparer.ComparePacket(5, CrossCheckOutcome.Verdict(3, kernel, 0), CrossCheckOutcome.Verdict(3, ours, 0));

        var only = Assert.Single(d);
        Assert.Equal(5, only.Packet);
        Assert.Equal(PacketField.Bytes, only.Field);
        Assert.Contains("first difference at offset 37 (0x25; data+37), 1 differing byte(s)", only.Description, StringComparison.Ordinal);
        Assert.Contains("kernel 0020: 20 21 22 23 24 25", only.Description, StringComparison.Ordinal);
        Assert.Contains("ours   0020: 20 21 22 23 24 24", only.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void ComparePacket_SameBytes_NoDisagreement()
    {
        var d = CrossCheckComparer.ComparePacket(0, CrossCheckOutcome.Verdict(2, Frame(), 0), CrossCheckOutcome.Verdict(2, Frame(), 0));

        Assert.Empty(d);
    }

    [Fact]
    public void ComparePacket_MetadataDiffersByOneByte_OffsetCountsFromDataMeta()
    {
        byte[] kernel = [0xaa, 0xbb, 0xcc, 0xdd, .. Frame()];
        byte[] ours = [0xaa, 0xbb, 0xcc, 0xde, .. Frame()];

        var d = Assert.Single(CrossCheckComparer.ComparePacket(1, CrossCheckOutcome.Verdict(2, kernel, 4), CrossCheckOutcome.Verdict(2, ours, 4)));

        Assert.Contains("first difference at offset 3 (0x3; data+-1)", d.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void ComparePacket_LengthsDiffer_SaysSo()
    {
        var d = Assert.Single(CrossCheckComparer.ComparePacket(0, CrossCheckOutcome.Verdict(2, Frame(), 0), CrossCheckOutcome.Verdict(2, Frame()[..60], 0)));

        Assert.Contains("kernel 64 bytes (meta 0), ours 60 bytes (meta 0)", d.Description, StringComparison.Ordinal);
        Assert.Contains("the first 60 bytes are the same", d.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void ComparePacket_RetvalDiffers_ReportsBothVerdicts()
    {
        var d = Assert.Single(CrossCheckComparer.ComparePacket(2, CrossCheckOutcome.Verdict(1, Frame(), 0), CrossCheckOutcome.Verdict(2, Frame(), 0)));

        Assert.Equal(PacketField.Retval, d.Field);
        Assert.Equal("packet 2: retval: kernel 1 (XDP_DROP), ours 2 (XDP_PASS)", d.ToString());
    }

    [Fact]
    public void ComparePacket_RefusedByOneSide_IsADisagreement()
    {
        var refused = CrossCheckOutcome.Refused("EINVAL (Invalid argument)", "EINVAL");

        var d = Assert.Single(CrossCheckComparer.ComparePacket(7, refused, CrossCheckOutcome.Verdict(2, Frame(), 0)));

        Assert.Equal(PacketField.Refusal, d.Field);
        Assert.Contains("the kernel refused it (EINVAL", d.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void ComparePacket_BothRefuseWithTheSameErrno_Agree()
    {
        var kernel = CrossCheckOutcome.Refused("EINVAL (Invalid argument)", "EINVAL");
        string message = "frame of 12 bytes is shorter than ETH_HLEN (14): BPF_PROG_TEST_RUN refuses it (-EINVAL)";
        var ours = CrossCheckOutcome.Refused(message, CrossCheck.ErrnoOf(message));

        Assert.Empty(CrossCheckComparer.ComparePacket(7, kernel, ours));
    }

    [Fact]
    public void ComparePacket_BothRefuseWithDifferentErrnos_Disagree()
    {
        var kernel = CrossCheckOutcome.Refused("EINVAL (Invalid argument)", "EINVAL");
        var ours = CrossCheckOutcome.Refused("too long (-ENOMEM)", "ENOMEM");

        Assert.Equal(PacketField.Refusal, Assert.Single(CrossCheckComparer.ComparePacket(7, kernel, ours)).Field);
    }

    [Fact]
    public void ComparePacket_DifferenceInsideASkippedRange_IsNotReported()
    {
        byte[] kernel = [0xaa, 0xbb, 0xcc, 0xdd, .. Frame()];
        byte[] ours = [0xaa, 0xbb, 0xcc, 0xdd, .. Frame()];
        ours[4 + 40] ^= 0xff;   // data byte 40
        var skip = new CrossCheckSkip(CrossCheckSkipField.Data, "a cookie", Start: 38, End: 42, Packets: [3]);

        Assert.Empty(CrossCheckComparer.ComparePacket(3, CrossCheckOutcome.Verdict(3, kernel, 4), CrossCheckOutcome.Verdict(3, ours, 4), [skip]));
        Assert.Single(CrossCheckComparer.ComparePacket(4, CrossCheckOutcome.Verdict(3, kernel, 4), CrossCheckOutcome.Verdict(3, ours, 4), [skip]));
    }

    [Fact]
    public void CompareMaps_OneValueDiffers_ReportsTheKeyAndByte()
    {
        var kernel = new CrossCheckMapDump("counters", MapType.Hash, [new("0a000001", ["0100000000000000"]), new("0a000002", ["0200000000000000"])]);
        var ours = new CrossCheckMapDump("counters", MapType.Hash, [new("0a000001", ["0100000000000000"]), new("0a000002", ["0300000000000000"])]);

        var d = Assert.Single(CrossCheckComparer.CompareMaps([kernel], [ours]));

        Assert.Equal("counters", d.Map);
        Assert.Equal("0a000002", d.Key);
        Assert.Equal("final maps: map \"counters\" key 0a000002: kernel 0200000000000000, ours 0300000000000000 (first difference at value byte 0)", d.ToString());
    }

    [Fact]
    public void CompareMaps_EntryOnOneSideOnly_ReportsWhichSide()
    {
        var kernel = new CrossCheckMapDump("flows", MapType.LruHash, [new("01", ["aa"]), new("02", ["bb"])]);
        var ours = new CrossCheckMapDump("flows", MapType.LruHash, [new("01", ["aa"]), new("03", ["cc"])]);

        var d = CrossCheckComparer.CompareMaps([kernel], [ours], packet: 4);

        Assert.Equal(2, d.Count);
        Assert.Equal("after packet 4: map \"flows\" key 02: the kernel has it (bb), we do not", d[0].ToString());
        Assert.Equal("after packet 4: map \"flows\" key 03: we have it (cc), the kernel does not", d[1].ToString());
    }

    [Fact]
    public void CompareMaps_PerCpuValueDiffersOnOneCpu_NamesTheCpu()
    {
        var kernel = new CrossCheckMapDump("stats", MapType.PercpuArray, [new("00000000", ["01", "00"])]);
        var ours = new CrossCheckMapDump("stats", MapType.PercpuArray, [new("00000000", ["01", "02"])]);

        var d = Assert.Single(CrossCheckComparer.CompareMaps([kernel], [ours]));

        Assert.StartsWith("cpu 1: kernel 00, ours 02", d.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void CompareMaps_QueueInAnotherOrder_ReportsPositions()
    {
        var kernel = new CrossCheckMapDump("ports", MapType.Queue, [new("#0", ["01"]), new("#1", ["02"])], Ordered: true);
        var ours = new CrossCheckMapDump("ports", MapType.Queue, [new("#0", ["02"]), new("#1", ["01"])], Ordered: true);

        var d = CrossCheckComparer.CompareMaps([kernel], [ours]);

        Assert.Equal(["#0", "#1"], d.Select(x => x.Key));
    }

    [Fact]
    public void CompareMaps_ManyDifferences_AreCapped()
    {
        var kernel = new CrossCheckMapDump("a", MapType.Array, Enumerable.Range(0, 40).Select(i => new CrossCheckMapEntry($"{i:x8}", ["00"])).ToList());
        var ours = new CrossCheckMapDump("a", MapType.Array, Enumerable.Range(0, 40).Select(i => new CrossCheckMapEntry($"{i:x8}", ["01"])).ToList());

        var d = CrossCheckComparer.CompareMaps([kernel], [ours], maxPerMap: 5);

        Assert.Equal(6, d.Count);
        Assert.Equal("and 35 more difference(s)", d[^1].Description);
    }

    // Two of our own loads of one definition, one changed through the user-side API: the canonical dumps catch it.
    [Fact]
    public void DumpVm_OneValueChanged_CompareMapsCatchesIt()
    {
        MapSpec[] maps =
        [
            new() { Name = "counts", Type = MapType.Hash, KeySize = 4, ValueSize = 8, MaxEntries = 16 },
            new() { Name = "percpu", Type = MapType.PercpuArray, KeySize = 4, ValueSize = 4, MaxEntries = 2 },
        ];
        using var a = LoadedObject.Create(maps, Array.Empty<ProgramSpec>(), new LoadOptions { PossibleCpus = 2 });
        using var b = LoadedObject.Create(maps, Array.Empty<ProgramSpec>(), new LoadOptions { PossibleCpus = 2 });
        foreach (var o in new[] { a, b })
        {
            Assert.Equal(0, o.Maps["counts"].UserUpdate([1, 0, 0, 0], [5, 0, 0, 0, 0, 0, 0, 0], 0));
        }

        Assert.Equal(0, b.Maps["percpu"].UserUpdate([1, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0], 0));

        Assert.Empty(CrossCheckComparer.CompareMaps(CrossCheckMaps.DumpVm(a, null, null), CrossCheckMaps.DumpVm(a, null, null)));
        var d = Assert.Single(CrossCheckComparer.CompareMaps(CrossCheckMaps.DumpVm(a, null, null), CrossCheckMaps.DumpVm(b, null, null)));
        Assert.Equal("percpu", d.Map);
        Assert.Equal("01000000", d.Key);
        Assert.Equal("cpu 1: kernel 00000000, ours 09000000 (first difference at value byte 0)", d.Description);
    }

    [Fact]
    public void DumpVm_SkippedValueBytes_AreShownAsDashesAndNotCompared()
    {
        MapSpec[] maps = [new() { Name = "ct", Type = MapType.Hash, KeySize = 4, ValueSize = 8, MaxEntries = 4 }];
        using var a = LoadedObject.Create(maps, Array.Empty<ProgramSpec>(), new LoadOptions { PossibleCpus = 1 });
        using var b = LoadedObject.Create(maps, Array.Empty<ProgramSpec>(), new LoadOptions { PossibleCpus = 1 });
        Assert.Equal(0, a.Maps["ct"].UserUpdate([1, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7, 8], 0));
        Assert.Equal(0, b.Maps["ct"].UserUpdate([1, 0, 0, 0], [1, 2, 3, 4, 9, 9, 9, 9], 0));
        CrossCheckSkip[] skips = [new(CrossCheckSkipField.Map, "a timestamp", "ct", 4, 8)];

        var dumpA = CrossCheckMaps.DumpVm(a, null, skips);

        Assert.Equal("01020304--------", dumpA[0].Entries[0].Values[0]);
        Assert.Empty(CrossCheckComparer.CompareMaps(dumpA, CrossCheckMaps.DumpVm(b, null, skips)));
    }

    [Fact]
    public void ParseList_ManifestSkipFields_ReadsEveryKind()
    {
        using var doc = JsonDocument.Parse("""
            [{"field": "data", "bytes": [38, 42], "packets": [0, 1, 7], "reason": "cookie"},
             {"field": "map", "map": "conntrack", "valueBytes": [8, 16], "reason": "clock"},
             {"field": "map", "map": "stats", "reason": "random"},
             {"field": "events", "reason": "no consumer"},
             {"field": "trace", "reason": "trace_pipe"}]
            """);

        var skips = CrossCheckSkip.ParseList(doc.RootElement);

        Assert.Equal([CrossCheckSkipField.Data, CrossCheckSkipField.Map, CrossCheckSkipField.Map, CrossCheckSkipField.Events, CrossCheckSkipField.Trace], skips.Select(s => s.Field));
        Assert.True(skips[0].AppliesTo(7));
        Assert.False(skips[0].AppliesTo(2));
        Assert.Equal((8, 16), (skips[1].Start!.Value, skips[1].End!.Value));
        Assert.Null(skips[2].Start);
    }

    [Fact]
    public void ParseList_EntryWithoutReason_IsRefused()
    {
        using var doc = JsonDocument.Parse("""[{"field": "events"}]""");

        var e = Assert.Throws<FormatException>(() => CrossCheckSkip.ParseList(doc.RootElement));
        Assert.Contains("reason", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithTypes_ManifestMapsWithoutType_GetTheObjectsTypes()
    {
        MapSpec[] maps = [new() { Name = "tx_port", Type = MapType.Devmap, KeySize = 4, ValueSize = 4, MaxEntries = 4 }];

        string json = CrossCheckMaps.WithTypes("""{"tx_port": {"entries": [{"key": "00000000", "value": 1}]}}""", maps);

        var parsed = MapsJson.Parse(json, "x");
        Assert.Equal(MapType.Devmap, Assert.Single(parsed).Type);
        Assert.Equal(1u, parsed[0].Entries[0].Number);
    }
}
