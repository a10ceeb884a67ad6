using System.Buffers.Binary;
using VethXdp.Vm.Btf;
using VethXdp.Vm.Tests.Elf;

namespace VethXdp.Vm.Tests.Btf;

public class BtfSpecTests
{
    private static BtfSpec EveryKind(out Dictionary<string, uint> ids)
    {
        var b = new BtfBuilder();
        ids = [];
        ids["int"] = b.Int("int", 4, 1, 32);
        ids["u8"] = b.Int("unsigned char", 1, 0, 8);
        ids["bool"] = b.Int("_Bool", 1, 4, 8);
        ids["ptr"] = b.Type(string.Empty, 2, 0, false, ids["int"]);
        ids["arr"] = b.Type(string.Empty, 3, 0, false, 0, ids["u8"], ids["int"], 6);
        ids["struct"] = b.Type("pkt", 4, 3, true, 16, b.Str("a"), ids["int"], 0, b.Str("bits"), ids["int"], (5u << 24) | 32, b.Str("mac"), ids["arr"], 64);
        ids["union"] = b.Type("u", 5, 1, false, 8, b.Str("p"), ids["ptr"], 0);
        ids["enum"] = b.Type("e", 6, 2, true, 4, b.Str("NEG"), unchecked((uint)-1), b.Str("ONE"), 1);
        ids["fwd"] = b.Type("later", 7, 0, true, 0);
        ids["typedef"] = b.Type("pkt_t", 8, 0, false, ids["struct"]);
        ids["volatile"] = b.Type(string.Empty, 9, 0, false, ids["typedef"]);
        ids["const"] = b.Type(string.Empty, 10, 0, false, ids["volatile"]);
        ids["restrict"] = b.Type(string.Empty, 11, 0, false, ids["ptr"]);
        ids["proto"] = b.Type(string.Empty, 13, 2, false, ids["int"], b.Str("ctx"), ids["ptr"], 0, 0);
        ids["func"] = b.Type("handler", 12, 1, false, ids["proto"]);
        ids["var"] = b.Type("counter", 14, 0, false, ids["int"], 1);
        ids["datasec"] = b.Type(".data", 15, 1, false, 4, ids["var"], 0, 4);
        ids["float"] = b.Type("double", 16, 0, false, 8);
        ids["decltag"] = b.Type("hot", 17, 0, false, ids["struct"], unchecked((uint)-1));
        ids["typetag"] = b.Type("user", 18, 0, false, ids["int"]);
        ids["enum64"] = b.Type("big", 19, 1, false, 8, b.Str("HUGE"), 0x89abcdef, 0x01234567);
        return BtfSpec.Parse(b.Build());
    }

    [Fact]
    public void Parse_EveryKind_BuildsTheTypeGraph()
    {
        var btf = EveryKind(out var ids);

        Assert.Equal(22, btf.Count);
        Assert.Same(BtfVoid.Instance, btf[0]);
        var i = Assert.IsType<BtfInt>(btf[ids["int"]]);
        Assert.Equal(("int", 4u, true, (byte)32), (i.Name, i.Size, i.IsSigned, i.Bits));
        Assert.Equal(BtfIntEncoding.Bool, ((BtfInt)btf[ids["bool"]]).Encoding);
        Assert.Equal(ids["int"], ((BtfPtr)btf[ids["ptr"]]).TypeId);
        var arr = (BtfArray)btf[ids["arr"]];
        Assert.Equal((ids["u8"], ids["int"], 6u), (arr.ElementTypeId, arr.IndexTypeId, arr.Count));
        var s = (BtfComposite)btf[ids["struct"]];
        Assert.Equal((BtfKind.Struct, 16u), (s.Kind, s.Size));
        Assert.Equal([new BtfMember("a", ids["int"], 0, 0), new BtfMember("bits", ids["int"], 32, 5), new BtfMember("mac", ids["arr"], 64, 0)], s.Members);
        Assert.True(((BtfComposite)btf[ids["union"]]).IsUnion);
        var e = (BtfEnum)btf[ids["enum"]];
        Assert.Equal((true, BtfKind.Enum), (e.IsSigned, e.Kind));
        Assert.Equal([new BtfEnumValue("NEG", -1), new BtfEnumValue("ONE", 1)], e.Values);
        Assert.True(((BtfFwd)btf[ids["fwd"]]).IsUnion);
        Assert.Equal(BtfKind.Restrict, btf[ids["restrict"]].Kind);
        var proto = (BtfFuncProto)btf[ids["proto"]];
        Assert.Equal([new BtfParam("ctx", ids["ptr"]), new BtfParam(string.Empty, 0)], proto.Parameters);
        Assert.Equal((BtfFuncLinkage.Global, ids["proto"]), (((BtfFunc)btf[ids["func"]]).Linkage, ((BtfFunc)btf[ids["func"]]).TypeId));
        Assert.Equal(BtfVarLinkage.GlobalAllocated, ((BtfVar)btf[ids["var"]]).Linkage);
        Assert.Equal([new BtfVarSecinfo(ids["var"], 0, 4)], ((BtfDatasec)btf[ids["datasec"]]).Vars);
        Assert.Equal(8u, ((BtfFloat)btf[ids["float"]]).Size);
        Assert.Equal(-1, ((BtfDeclTag)btf[ids["decltag"]]).ComponentIndex);
        Assert.Equal(("user", BtfKind.TypeTag), (btf[ids["typetag"]].Name, btf[ids["typetag"]].Kind));
        var e64 = (BtfEnum)btf[ids["enum64"]];
        Assert.Equal((BtfKind.Enum64, 0x0123456789abcdefL), (e64.Kind, e64.Values[0].Value));
    }

    [Fact]
    public void ResolveSize_ThroughModifiersTypedefsArraysAndPointers()
    {
        var btf = EveryKind(out var ids);

        Assert.Equal(16, btf.ResolveSize(ids["const"]));
        Assert.Equal(6, btf.ResolveSize(ids["arr"]));
        Assert.Equal(8, btf.ResolveSize(ids["restrict"]));
        Assert.Equal(4, btf.ResolveSize(ids["var"]));
        Assert.Equal(4, btf.ResolveSize(ids["typetag"]));
        Assert.Equal(-1, btf.ResolveSize(ids["fwd"]));
        Assert.Equal(-1, btf.ResolveSize(ids["func"]));
        Assert.Equal(-1, btf.ResolveSize(0));
    }

    [Fact]
    public void SkipModsAndTypedefs_StopsAtTheFirstRealType()
    {
        var btf = EveryKind(out var ids);

        var t = btf.SkipModsAndTypedefs(ids["const"], out uint id);

        Assert.Equal(ids["struct"], id);
        Assert.Same(btf[ids["struct"]], t);
        Assert.Same(btf[ids["ptr"]], btf.SkipModsAndTypedefs(ids["ptr"], out _));
    }

    [Fact]
    public void AlignOfAndDescribe_FollowLibbpf()
    {
        var btf = EveryKind(out var ids);

        Assert.Equal(4, btf.AlignOf(ids["typedef"]));
        Assert.Equal(1, btf.AlignOf(ids["arr"]));
        Assert.Equal(8, btf.AlignOf(ids["union"]));
        Assert.Equal(0, btf.AlignOf(ids["fwd"]));
        Assert.Equal("struct pkt", btf.Describe(ids["struct"]));
        Assert.Equal("union u", btf.Describe(ids["union"]));
        Assert.Equal("int *", btf.Describe(ids["ptr"]));
        Assert.Equal("unsigned char[6]", btf.Describe(ids["arr"]));
        Assert.Equal("pkt_t", btf.Describe(ids["typedef"]));
        Assert.Equal(ids["struct"], btf.FindByName("pkt", BtfKind.Struct)!.Id);
        Assert.Null(btf.FindByName("pkt", BtfKind.Union));
    }

    [Fact]
    public void ResolveSize_Cycle_GivesUpAfterMaxDepth()
    {
        var b = new BtfBuilder();
        b.Type("a", 8, 0, false, 2);
        b.Type("b", 8, 0, false, 1);
        var btf = BtfSpec.Parse(b.Build());

        Assert.Equal(-1, btf.ResolveSize(1));
        Assert.Null(btf.SkipModsAndTypedefs(1, out _));
        Assert.Equal(0, btf.AlignOf(1));
    }

    public static TheoryData<string, string> Malformed() => new()
    {
        { "short", "truncated BTF header: 10 of 24 bytes" },
        { "magic", "bad BTF magic 0x1234 (expected 0xeb9f)" },
        { "bigendian", "big-endian BTF is not supported" },
        { "version", "unsupported BTF version 2" },
        { "types", "type section (4096 bytes at 0) extends past the end of the BTF data" },
        { "strings", "invalid string section: it must start and end with a NUL byte" },
        { "kind", "type [2]: unknown kind 25" },
        { "ref", "type [2] PTR refers to unknown type [9]" },
        { "func", "type [2] FUNC 'f' refers to [1], which is not a FUNC_PROTO" },
        { "name", "type [1]: name offset 0x1000 is outside the string table" },
        { "vlen", "type [2] (STRUCT, vlen 100) runs past the end of the type section" },
        { "intsize", "type [1] INT 'int': invalid size 3" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Parse_Malformed_ThrowsBtfFormatException(string defect, string expected)
    {
        var b = new BtfBuilder();
        b.Int("int", defect == "intsize" ? 3u : 4u, 1, 32);
        switch (defect)
        {
            case "kind": b.Type(string.Empty, 25, 0, false, 0); break;
            case "ref": b.Type(string.Empty, 2, 0, false, 9); break;
            case "func": b.Type("f", 12, 0, false, 1); break;
            case "vlen": b.Type("s", 4, 100, false, 4); break;
        }

        var bytes = b.Build(defect == "magic" ? (ushort)0x1234 : defect == "bigendian" ? (ushort)0x9FeB : (ushort)0xeB9F, defect == "version" ? (byte)2 : (byte)1);
        switch (defect)
        {
            case "short": bytes = bytes[..10]; break;
            case "types": BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), 4096); break;
            case "strings": bytes[^1] = (byte)'x'; break;
            case "name": BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24), 0x1000); break;
        }

        var ex = Assert.Throws<BtfFormatException>(() => BtfSpec.Parse(bytes));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CompiledObject_BtfHasTheSourceTypes()
    {
        var obj = TestObjects.Load("core.o");
        var btf = obj.Btf!;

        var hdr = (BtfComposite)btf.FindByName("my_hdr", BtfKind.Struct)!;
        Assert.Equal(12u, hdr.Size);
        Assert.Equal(
            [("kind", 0u, 0u), ("flags", 8u, 0u), ("len", 16u, 0u), ("id", 32u, 0u), ("bits_a", 64u, 3u), ("bits_b", 67u, 5u), ("delta", 80u, 0u)],
            hdr.Members.Select(m => (m.Name, m.BitOffset, m.BitfieldSize)));
        Assert.Equal(["__u8", "__u8", "__u16", "__u32", "__u32", "__u32", "__s16"], hdr.Members.Select(m => btf.Describe(m.TypeId)));
        var kind = (BtfEnum)btf.FindByName("my_kind", BtfKind.Enum)!;
        Assert.Equal([new BtfEnumValue("KIND_A", 1), new BtfEnumValue("KIND_B", 7)], kind.Values);
        var func = (BtfFunc)btf.FindByName("core_prog", BtfKind.Func)!;
        Assert.Equal(BtfFuncLinkage.Global, func.Linkage);
        Assert.Equal("ctx", ((BtfFuncProto)btf[func.TypeId]).Parameters.Single().Name);
        Assert.Equal(24, btf.ResolveSize(btf.FindByName("xdp_md", BtfKind.Struct)!.Id));
    }

    [Fact]
    public void Load_CompiledObject_DatasecSizesAndOffsetsFilledFromElf()
    {
        var obj = TestObjects.Load("maps_btf.o");
        var btf = obj.Btf!;

        var maps = (BtfDatasec)btf.FindByName(".maps", BtfKind.Datasec)!;
        Assert.Equal(520u, maps.Size);
        Assert.Equal(maps.Vars.Select(v => v.Offset).Order(), maps.Vars.Select(v => v.Offset));
        Assert.Equal(("jumps", 0u, 48u), (btf[maps.Vars[0].TypeId].Name, maps.Vars[0].Offset, maps.Vars[0].Size));
        Assert.Equal(("perf", 0x1f0u), (btf[maps.Vars[^1].TypeId].Name, maps.Vars[^1].Offset));
    }
}
