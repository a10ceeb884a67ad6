using System.Buffers.Binary;
using VethXdp.Vm.Btf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Tests.Elf;

public class ElfMapsTests
{
    // ---- BTF-defined maps (.maps) ----

    [Fact]
    public void Load_BtfMaps_ListsMapsInSectionOffsetOrder()
    {
        var obj = TestObjects.Load("maps_btf.o");

        Assert.Equal(
            ["jumps", "tx_port", "inner_a", "inner_b", "outer", "flows", "counters", "by_size", "lru", "lpm", "unsized", "outer_hash", "queue", "events", "perf"],
            obj.Maps.Select(m => m.Name));
        Assert.All(obj.Maps, m => Assert.Equal((".maps", false), (m.SectionName, m.IsGlobalData)));
    }

    [Fact]
    public void Load_BtfMaps_KeyAndValueByType_SizesFromBtf()
    {
        var obj = TestObjects.Load("maps_btf.o");
        var btf = obj.Btf!;

        var flows = obj.FindMap("flows")!;
        Assert.Equal((MapType.Hash, 4u, 24u, 1024u, 1u), (flows.Type, flows.KeySize, flows.ValueSize, flows.MaxEntries, flows.Flags));
        Assert.Equal("__u32", btf[flows.BtfKeyTypeId].Name);
        Assert.Equal("struct flow", btf.Describe(flows.BtfValueTypeId));

        var lpm = obj.FindMap("lpm")!;
        Assert.Equal((MapType.LpmTrie, 8u, 4u, 64u, 1u), (lpm.Type, lpm.KeySize, lpm.ValueSize, lpm.MaxEntries, lpm.Flags));
        Assert.Equal("struct lpm_key", btf.Describe(lpm.BtfKeyTypeId));

        var queue = obj.FindMap("queue")!;
        Assert.Equal((MapType.Queue, 0u, 4u, 16u, 0u), (queue.Type, queue.KeySize, queue.ValueSize, queue.MaxEntries, queue.BtfKeyTypeId));
    }

    [Fact]
    public void Load_BtfMaps_SizesGivenAsNumbers_HaveNoBtfTypes()
    {
        var obj = TestObjects.Load("maps_btf.o");

        var bySize = obj.FindMap("by_size")!;
        Assert.Equal((MapType.Array, 4u, 16u, 8u, 1u), (bySize.Type, bySize.KeySize, bySize.ValueSize, bySize.MaxEntries, bySize.Pinning));
        Assert.Equal((0u, 0u), (bySize.BtfKeyTypeId, bySize.BtfValueTypeId));

        var lru = obj.FindMap("lru")!;
        Assert.Equal((MapType.LruHash, 8u, 8u, 128u, 4u, 1u), (lru.Type, lru.KeySize, lru.ValueSize, lru.MaxEntries, lru.Flags, lru.NumaNode));
        Assert.NotEqual(0u, lru.BtfKeyTypeId);
        Assert.Equal(0u, lru.BtfValueTypeId);
    }

    [Fact]
    public void Load_MaxEntriesZero_StaysZeroIncludingPerfEventArray()
    {
        var obj = TestObjects.Load("maps_btf.o");

        Assert.Equal((MapType.Hash, 0u), (obj.FindMap("unsized")!.Type, obj.FindMap("unsized")!.MaxEntries));
        var perf = obj.FindMap("perf")!;
        Assert.Equal((MapType.PerfEventArray, 4u, 4u, 0u), (perf.Type, perf.KeySize, perf.ValueSize, perf.MaxEntries));
        var events = obj.FindMap("events")!;
        Assert.Equal((MapType.Ringbuf, 0u, 0u, 4096u), (events.Type, events.KeySize, events.ValueSize, events.MaxEntries));
    }

    [Fact]
    public void Load_ProgArrayAndDevmap_InitialSlotsFromRelMaps()
    {
        var obj = TestObjects.Load("maps_btf.o");

        var jumps = obj.FindMap("jumps")!;
        Assert.Equal((MapType.ProgArray, 4u, 4u, 4u), (jumps.Type, jumps.KeySize, jumps.ValueSize, jumps.MaxEntries));
        Assert.Equal([new MapSlotInit(0, "tail_a"), new MapSlotInit(2, "tail_b")], jumps.InitialSlots);

        var devmap = obj.FindMap("tx_port")!;
        Assert.Equal((MapType.Devmap, 4u, 8u, 8u), (devmap.Type, devmap.KeySize, devmap.ValueSize, devmap.MaxEntries));
        Assert.Equal([new MapSlotInit(1, "devmap_prog")], devmap.InitialSlots);
        Assert.All(jumps.InitialSlots.Concat(devmap.InitialSlots), s => Assert.NotNull(obj.FindProgram(s.Target)));
    }

    [Fact]
    public void Load_MapsOfMaps_InnerDefinitionAndInitialSlots()
    {
        var obj = TestObjects.Load("maps_btf.o");

        var outer = obj.FindMap("outer")!;
        Assert.Equal((MapType.ArrayOfMaps, 4u, 4u, 3u), (outer.Type, outer.KeySize, outer.ValueSize, outer.MaxEntries));
        Assert.Equal([new MapSlotInit(0, "inner_a"), new MapSlotInit(2, "inner_b")], outer.InitialSlots);
        var inner = outer.InnerMap!;
        Assert.Equal(("outer.inner", MapType.Array, 4u, 8u, 2u), (inner.Name, inner.Type, inner.KeySize, inner.ValueSize, inner.MaxEntries));

        var hashOfMaps = obj.FindMap("outer_hash")!;
        Assert.Equal((MapType.HashOfMaps, 4u, 4u, 5u), (hashOfMaps.Type, hashOfMaps.KeySize, hashOfMaps.ValueSize, hashOfMaps.MaxEntries));
        Assert.Empty(hashOfMaps.InitialSlots);
        Assert.Equal(("outer_hash.inner", MapType.Hash, 4u, 4u, 10u), (hashOfMaps.InnerMap!.Name, hashOfMaps.InnerMap.Type, hashOfMaps.InnerMap.KeySize, hashOfMaps.InnerMap.ValueSize, hashOfMaps.InnerMap.MaxEntries));
        Assert.Null(obj.FindMap("inner_a")!.InnerMap);
    }

    [Fact]
    public void Load_BtfMapReferences_BecomeMapIdxLoads()
    {
        var obj = TestObjects.Load("maps_btf.o");
        var prog = obj.FindProgram("use_maps")!;

        var loads = TestObjects.LdImm64s(prog).Where(l => l.Src == (int)PseudoSrc.MapIdx).ToList();

        Assert.Equal(
            ["flows", "counters", "outer", "by_size", "lru", "lpm", "unsized", "outer_hash", "queue", "events", "perf", "jumps", "tx_port"],
            loads.Select(l => obj.Maps[l.Imm].Name));
        Assert.All(loads, l => Assert.Equal(0, l.Imm2));
        Assert.Equal(5, loads[0].Slot); // use_maps starts at slot 4 of its section
        LoadAssert.EveryProgramValid(obj);
    }

    // ---- the legacy "maps" section ----

    [Fact]
    public void Load_LegacyMaps_ReadsBpfMapDefs()
    {
        var obj = TestObjects.Load("legacy_maps.o");

        Assert.Equal(
            [
                ("rx_count", MapType.PercpuArray, 4u, 8u, 2u, 0u),
                ("blocked", MapType.Hash, 4u, 1u, 256u, 1u),
                ("tx_port", MapType.Devmap, 4u, 4u, 64u, 0u),
            ],
            obj.Maps.Select(m => (m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags)));
        Assert.All(obj.Maps, m => Assert.Equal(("maps", 0u, 0u, false), (m.SectionName, m.BtfKeyTypeId, m.BtfValueTypeId, m.IsGlobalData)));
    }

    [Fact]
    public void Load_LegacyMaps_RelocationsGiveMapIndices()
    {
        var obj = TestObjects.Load("legacy_maps.o");

        var loads = TestObjects.LdImm64s(obj.FindProgram("legacy")!);

        Assert.Equal([(4, 5, 0, 0), (13, 5, 1, 0), (23, 5, 0, 0), (30, 5, 2, 0)], loads);
        LoadAssert.EveryProgramValid(obj);
    }

    [Fact]
    public void Load_LegacyMapsWithExtraFields_DefinitionSizeIsSectionSizeOverSymbols()
    {
        // struct bpf_elf_map: 9 fields of 4 bytes; pinning = 2 and id = 7 are ignored, as libbpf did.
        var obj = TestObjects.Load("legacy_maps_ext.o");

        Assert.Null(obj.Btf);
        Assert.Equal(
            [("counts", MapType.Array, 4u, 8u, 16u, 0u, 0u), ("ports", MapType.Hash, 2u, 4u, 32u, 0u, 0u)],
            obj.Maps.Select(m => (m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags, m.Pinning)));
        var prog = Assert.Single(obj.Programs);
        Assert.Equal([(6, 5, 0, 0), (15, 5, 1, 0)], TestObjects.LdImm64s(prog));
    }

    [Fact]
    public void Load_LegacyMapOfUnknownType_IsRefused()
    {
        var p = new ElfPatcher(TestObjects.Bytes("legacy_maps.o"));
        BinaryPrimitives.WriteUInt32LittleEndian(p.Contents("maps")[20..], 99);

        var ex = LoadAssert.Refused(p.Bytes, "legacy_maps.o", "legacy_maps.o: section \"maps\": map 'blocked': unknown map type 99");

        Assert.Equal("maps", ex.Section);
    }

    [Fact]
    public void Load_LegacyMapsSectionNotDivisible_IsRefused()
    {
        var p = new ElfPatcher(TestObjects.Bytes("legacy_maps.o"));
        p.SetSize(p.Section("maps"), 59);

        LoadAssert.Refused(p.Bytes, "legacy_maps.o", "section \"maps\": unable to determine legacy map definition size: 59 bytes for 3 map symbols");
    }

    [Fact]
    public void Load_BtfMapsWithoutBtf_IsRefused()
    {
        var p = new ElfPatcher(TestObjects.Bytes("maps_btf.o"));
        p.RenameSections(".BTF", ".BTX");

        LoadAssert.Refused(p.Bytes, "maps_btf.o", "maps_btf.o: section \".maps\": BTF-defined maps need the object's BTF, and the .BTF section is missing");
    }

    [Fact]
    public void Load_BtfMapOfUnknownType_IsRefused()
    {
        // __uint(type, 22) is "int (*type)[22]": patch the element count of that array type (queue's type field).
        var bytes = TestObjects.Bytes("maps_btf.o");
        var obj = TestObjects.Load("maps_btf.o");
        var btf = obj.Btf!;
        var def = (BtfComposite)btf.SkipModsAndTypedefs(((BtfVar)btf[btf.FindAllByName("queue").Single()]).TypeId, out _)!;
        var array = (BtfArray)btf[((BtfPtr)btf[def.Members[0].TypeId]).TypeId];
        Assert.Equal(22u, array.Count);
        var p = new ElfPatcher(bytes);
        int btfStart = p.Offset(p.Section(".BTF"));
        int hdr = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(btfStart + 4));
        int typeOff = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(btfStart + 8));
        int at = FindArrayType(bytes.AsSpan(btfStart + hdr + typeOff), array);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(btfStart + hdr + typeOff + at + 20), 77);

        LoadAssert.Refused(bytes, "maps_btf.o", "maps_btf.o: section \".maps\": map 'queue': unknown map type 77");
    }

    // Finds the byte offset of an ARRAY type record with this element type, index type and count.
    private static int FindArrayType(ReadOnlySpan<byte> types, BtfArray a)
    {
        for (int i = 0; i + 24 <= types.Length; i += 4)
        {
            uint info = BinaryPrimitives.ReadUInt32LittleEndian(types[(i + 4)..]);
            if (((info >> 24) & 0x1f) == 3 && BinaryPrimitives.ReadUInt32LittleEndian(types[(i + 12)..]) == a.ElementTypeId
                && BinaryPrimitives.ReadUInt32LittleEndian(types[(i + 16)..]) == a.IndexTypeId && BinaryPrimitives.ReadUInt32LittleEndian(types[(i + 20)..]) == a.Count)
            {
                return i;
            }
        }

        throw new InvalidOperationException("array type not found");
    }
}
