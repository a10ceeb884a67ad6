using System.Buffers.Binary;
using VethXdp.Vm.Btf;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Tests.Elf;

namespace VethXdp.Vm.Tests.Btf;

public class BtfExtTests
{
    [Fact]
    public void Load_CompiledObject_FuncInfoAndLineInfoBySection()
    {
        var obj = TestObjects.Load("calls.o");
        var ext = obj.BtfExt!;
        var btf = obj.Btf!;

        Assert.Equal(
            [(0, "glob_sub"), (5, "loop_cb"), (10, "add_static")],
            ext.FuncInfos[".text"].Select(f => (f.Slot, btf[f.TypeId].Name)));
        Assert.Equal([(0, "prog_a"), (17, "prog_b")], ext.FuncInfos["xdp"].Select(f => (f.Slot, btf[f.TypeId].Name)));
        var first = ext.LineInfos["xdp"][0];
        Assert.Equal((0, 24, "int prog_a(struct xdp_md *ctx)"), (first.Slot, first.Line, first.LineText));
        Assert.EndsWith("calls.c", first.FileName, StringComparison.Ordinal);
        Assert.Equal(11, ext.FuncInfos.Values.Sum(v => v.Count));
        Assert.Empty(ext.CoreRelos);
    }

    [Fact]
    public void Parse_Malformed_ThrowsBtfFormatException()
    {
        var obj = TestObjects.Load("calls.o");
        var p = new ElfPatcher(TestObjects.Bytes("calls.o"));
        var ext = p.Contents(".BTF.ext").ToArray();

        Assert.NotNull(BtfExt.Parse(ext, obj.Btf!));
        Assert.Contains("truncated BTF.ext header", Assert.Throws<BtfFormatException>(() => BtfExt.Parse(ext.AsSpan(0, 10), obj.Btf!)).Message, StringComparison.Ordinal);
        var badMagic = (byte[])ext.Clone();
        badMagic[0] = 0;
        Assert.Contains("bad BTF.ext magic", Assert.Throws<BtfFormatException>(() => BtfExt.Parse(badMagic, obj.Btf!)).Message, StringComparison.Ordinal);
        var badRecord = (byte[])ext.Clone();
        int hdr = BinaryPrimitives.ReadInt32LittleEndian(ext.AsSpan(4));
        int funcOff = BinaryPrimitives.ReadInt32LittleEndian(ext.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(badRecord.AsSpan(hdr + funcOff), 6);
        Assert.Contains("func_info: invalid record size 6", Assert.Throws<BtfFormatException>(() => BtfExt.Parse(badRecord, obj.Btf!)).Message, StringComparison.Ordinal);
        var badSlot = (byte[])ext.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(badSlot.AsSpan(hdr + funcOff + 12), 3);
        Assert.Contains("func_info: instruction offset 3 is not on a slot boundary", Assert.Throws<BtfFormatException>(() => BtfExt.Parse(badSlot, obj.Btf!)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CorruptBtfExt_IsRefusedNamingTheSection()
    {
        var p = new ElfPatcher(TestObjects.Bytes("calls.o"));
        p.Contents(".BTF.ext")[2] = 9;

        var ex = Assert.Throws<ElfLoadException>(() => TestObjects.Load(p.Bytes, "calls.o"));

        Assert.Equal("calls.o: section \".BTF.ext\": offset 0x2: bad BTF.ext: unsupported BTF.ext version 9", ex.Message);
    }

    [Fact]
    public void Load_CorruptBtf_IsRefusedNamingTheSection()
    {
        var p = new ElfPatcher(TestObjects.Bytes("calls.o"));
        p.Contents(".BTF")[0] = 0x12;

        var ex = Assert.Throws<ElfLoadException>(() => TestObjects.Load(p.Bytes, "calls.o"));

        Assert.Equal("calls.o: section \".BTF\": offset 0x0: bad BTF: bad BTF magic 0xeb12 (expected 0xeb9f)", ex.Message);
    }

    [Fact]
    public void Load_EmptyBtf_IsRefused()
    {
        var p = new ElfPatcher(TestObjects.Bytes("calls.o"));
        p.SetSize(p.Section(".BTF"), 0);

        var ex = Assert.Throws<ElfLoadException>(() => TestObjects.Load(p.Bytes, "calls.o"));

        Assert.Equal("calls.o: section \".BTF\": the section is empty", ex.Message);
    }
}
