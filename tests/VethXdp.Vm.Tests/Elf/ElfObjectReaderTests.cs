using System.Buffers.Binary;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Tests.Elf;

public class ElfObjectReaderTests
{
    private static string XdpDir => Path.Combine(TestPaths.CorpusDir, "xdp");

    private static byte[] CorpusBytes(string name) => File.ReadAllBytes(Path.Combine(XdpDir, name));

    public static TheoryData<string> CompiledCorpusObjects()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(XdpDir, "*.v?.o").OrderBy(p => p, StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    // ---- well-formed objects ----

    [Fact]
    public void Load_CallsObject_ReadsSectionsFunctionsAndLicense()
    {
        var obj = ElfObjectReader.Load(Path.Combine(XdpDir, "xdp_calls.v4.o"));

        Assert.Equal("xdp_calls.v4.o", obj.FileName);
        Assert.Equal("GPL", obj.License);
        Assert.Equal([(".text", 22), ("xdp", 7)], obj.Sections.Select(s => (s.Name, s.SlotCount)));
        Assert.Equal(
            [
                new BpfFunction("verdict_for", ".text", 2, 0, 12, true),
                new BpfFunction("parse_eth", ".text", 2, 12, 10, false),
                new BpfFunction("xdp_calls", "xdp", 3, 0, 7, true),
            ],
            obj.Functions);
        Assert.NotNull(obj.FindFunction("xdp", "xdp_calls"));
        Assert.Null(obj.FindFunction(".text", "xdp_calls"));
    }

    [Fact]
    public void Load_PassObject_ListsEmptyTextAndProgramSlots()
    {
        var obj = ElfObjectReader.Load(CorpusBytes("xdp_pass.v4.o"), "xdp_pass.v4.o");
        var prog = obj.GetProgram(obj.FindFunction("xdp", "xdp_pass")!);

        Assert.Equal(0, obj.FindSection(".text")!.SlotCount);
        Assert.Equal("xdp_pass", prog.Name);
        Assert.Equal([new Instruction(Op.Mov32Imm, Register.R0, Register.R0, 0, 2), new Instruction(Op.Exit, 0, 0, 0)], prog.SlotList);
    }

    [Theory]
    [MemberData(nameof(CompiledCorpusObjects))]
    public void GetProgram_EveryCorpusFunction_IsValidWithItsSlotCount(string objectName)
    {
        var obj = ElfObjectReader.Load(Path.Combine(XdpDir, objectName));
        Assert.NotEmpty(obj.Functions);

        foreach (var f in obj.Functions)
        {
            var slots = obj.FindSection(f.SectionName)!.SlotSpan.Slice(f.StartSlot, f.SlotCount).ToArray();
            if (slots.Any(i => i.Opcode == Op.Call && i.SrcReg == (int)CallKind.Local))
            {
                // BPF-to-BPF calls into .text and kfunc calls (src 1 as clang writes them) are only right once the
                // object is linked: ElfLinkTests check the linked programs.
                continue;
            }

            var prog = obj.GetProgram(f);

            Assert.Equal(f.Name, prog.Name);
            Assert.Equal(f.SlotCount, prog.Length);
            Assert.Equal(slots, prog.SlotList);
        }
    }

    [Fact]
    public void Load_CounterObject_KeepsMapAndLicenseSymbols()
    {
        var obj = ElfObjectReader.Load(Path.Combine(XdpDir, "xdp_counter.v4.o"));

        foreach (var name in new[] { "stats", "egress_slot", "tx_port", "_license" })
        {
            var sym = Assert.Single(obj.Symbols, s => s.Name == name);
            Assert.Equal(ElfSymbolType.Object, sym.Type);
            Assert.True(sym.IsInSection);
        }

        Assert.Equal(obj.Symbols.Count, obj.Symbols.Select(s => s.Index).Distinct().Count());
        Assert.DoesNotContain(obj.Symbols, s => s.Index == 0);
    }

    [Theory]
    [InlineData(".text")]
    [InlineData("xdp")]
    public void Load_ElfioStyleObject_FindsMainThroughShstrtabLinkedSymbols(string section)
    {
        // The bpf_conformance runner's layout (ELFIO): .shstrtab, then .symtab whose sh_link is .shstrtab,
        // then the code with one global STT_FUNC "main" covering the whole section.
        var elf = new TinyElf { CodeSection = section };

        var obj = ElfObjectReader.Load(elf.Build(), "conformance.o");

        var main = Assert.Single(obj.Functions);
        Assert.Equal(new BpfFunction("main", section, 3, 0, 3, true), main);
        Assert.Equal(3, obj.GetProgram(main).Length);
        Assert.Null(obj.License);
        Assert.Contains("0000000000000000 <main>:\n", Disassembler.DisassembleObject(obj), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SymbolWithZeroSize_RunsToSectionEnd()
    {
        var elf = new TinyElf();
        elf.Symbols[0] = elf.Symbols[0] with { Value = 8, Size = 0 };

        var f = Assert.Single(ElfObjectReader.Load(elf.Build(), "t.o").Functions);

        Assert.Equal((1, 2), (f.StartSlot, f.SlotCount));
    }

    [Fact]
    public void Load_LocalLabel_IsSymbolButNotFunction()
    {
        var elf = new TinyElf();
        elf.Symbols.Add(new TinySymbol("label", 0x00, 3, 4, 0));

        var obj = ElfObjectReader.Load(elf.Build(), "t.o");

        Assert.Single(obj.Functions);
        Assert.Contains(obj.Symbols, s => s.Name == "label" && s.Type == ElfSymbolType.NoType && s.Binding == ElfSymbolBinding.Local);
    }

    // ---- malformed objects: always ElfLoadException, with file, section and offset in the message ----

    [Fact]
    public void Load_NotElf_SaysSo()
    {
        var ex = Assert.Throws<ElfLoadException>(() => ElfObjectReader.Load(Encoding.ASCII.GetBytes("this is not an object file"), "x.o"));

        Assert.Equal("x.o: offset 0x0: not an ELF file (bad magic number)", ex.Message);
        Assert.Equal(("x.o", (string?)null, 0L), (ex.FileName, ex.Section, ex.Offset));
    }

    [Fact]
    public void Load_CodeSizeNotMultipleOfEight_NamesSectionAndOffset()
    {
        var elf = new TinyElf { CodeSection = "xdp", Code = new byte[12] };
        elf.Symbols.Clear();

        var ex = Assert.Throws<ElfLoadException>(() => ElfObjectReader.Load(elf.Build(), "tiny.o"));

        Assert.Equal("tiny.o: section \"xdp\": offset 0x8: size 12 is not a multiple of 8 (the instruction slot size)", ex.Message);
        Assert.Equal(("xdp", 8L), (ex.Section, ex.Offset));
    }

    public static TheoryData<string, string> HeaderPatches() => new()
    {
        { "machine", "e_machine is 62, not EM_BPF (247)" },
        { "bigendian", "big-endian BPF objects (clang -target bpfeb) are not supported" },
        { "class32", "not a 64-bit ELF object" },
        { "exec", "e_type is 2, not ET_REL" },
        { "version", "unknown ELF version" },
        { "shoff", "section header table (27 entries) extends past the end of the file" },
        { "shentsize", "section header size is 40, expected 64" },
        { "shstrndx", "section name table index 27 is not a section" },
        { "truncated", "truncated ELF header: 40 of 64 bytes" },
    };

    [Theory]
    [MemberData(nameof(HeaderPatches))]
    public void Load_BadHeader_ExplainsWhy(string patch, string expected)
    {
        var bytes = CorpusBytes("xdp_calls.v4.o");
        switch (patch)
        {
            case "machine": BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x12), 62); break;
            case "bigendian": bytes[5] = 2; break;
            case "class32": bytes[4] = 1; break;
            case "exec": BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x10), 2); break;
            case "version": bytes[0x14] = 2; break;
            case "shoff": BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(0x28), (ulong)bytes.Length - 64); break;
            case "shentsize": BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x3a), 40); break;
            case "shstrndx": BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x3e), 27); break;
            case "truncated": bytes = bytes[..40]; break;
        }

        var ex = Assert.Throws<ElfLoadException>(() => ElfObjectReader.Load(bytes, "calls.o"));

        Assert.StartsWith("calls.o: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> SymbolDefects() => new()
    {
        { "beyond", "section \"xdp\": offset 0x40: function \"main\" starts beyond the end of the section (24 bytes)" },
        { "size", "section \"xdp\": offset 0x8: function \"main\" (24 bytes) runs past the end of the section (24 bytes)" },
        { "misaligned", "section \"xdp\": offset 0x4: function \"main\" does not start on an instruction slot boundary" },
        { "oddsize", "function \"main\" has size 12, not a whole number of instruction slots" },
        { "name", "section \".symtab\": offset 0x18: symbol 1: name offset 0x10000 is outside the string table" },
        { "shndx", "symbol \"main\" refers to section 9, but the object has 4 sections" },
        { "link", "section \".symtab\": sh_link 3 does not name a string table" },
        { "contents", "section \"xdp\": offset 0x0: contents (0x18 bytes at file offset 0x100000) extend past the end of the file" },
    };

    [Theory]
    [MemberData(nameof(SymbolDefects))]
    public void Load_BadSymbolOrSection_ThrowsWithContext(string defect, string expected)
    {
        var elf = new TinyElf { CodeSection = "xdp" };
        var main = elf.Symbols[0];
        switch (defect)
        {
            case "beyond": elf.Symbols[0] = main with { Value = 64, Size = 0 }; break;
            case "size": elf.Symbols[0] = main with { Value = 8 }; break;
            case "misaligned": elf.Symbols[0] = main with { Value = 4, Size = 8 }; break;
            case "oddsize": elf.Symbols[0] = main with { Size = 12 }; break;
            case "name": elf.SymbolNameOffsetOverride = 0x10000; break;
            case "shndx": elf.Symbols[0] = main with { Shndx = 9 }; break;
            case "link": elf.SymtabLink = 3; break;
            case "contents": elf.CodeOffsetOverride = 0x100000; break;
        }

        var ex = Assert.Throws<ElfLoadException>(() => ElfObjectReader.Load(elf.Build(), "tiny.o"));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xdp_pass.v4.o")]
    [InlineData("tiny, section headers first")]
    public void Load_EveryTruncation_ThrowsElfLoadException(string source)
    {
        // clang puts the section header table last; the tiny object puts it first, so cuts land in section contents.
        var bytes = source.EndsWith(".o", StringComparison.Ordinal) ? CorpusBytes(source) : new TinyElf { HeadersFirst = true }.Build();
        Assert.NotNull(ElfObjectReader.Load(bytes, "whole.o"));

        for (int length = 0; length < bytes.Length; length++)
        {
            var cut = bytes[..length];
            var ex = Record.Exception(() => ElfObjectReader.Load(cut, "cut.o"));
            Assert.True(ex is ElfLoadException, $"length {length}: {ex?.GetType().Name ?? "no exception"}: {ex?.Message}");
        }
    }

    [Fact]
    public void Load_EveryHeaderByteCorrupted_LoadsOrThrowsElfLoadException()
    {
        var original = CorpusBytes("xdp_calls.v4.o");
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(original.AsSpan(0x28));
        var positions = Enumerable.Range(0, 64).Concat(Enumerable.Range((int)shoff, original.Length - (int)shoff));
        int loaded = 0;
        foreach (int position in positions)
        {
            foreach (byte value in new byte[] { 0x00, 0xff, 0x41, (byte)(original[position] ^ 0x01) })
            {
                var bytes = (byte[])original.Clone();
                bytes[position] = value;
                if (LoadAndDisassembleOrElfError(bytes, out var error))
                {
                    loaded++;
                }

                Assert.True(error is null, $"byte 0x{position:x} = 0x{value:x2}: {error}");
            }
        }

        Assert.True(loaded > 0, "some corruptions (e.g. of alignment fields) should still load");
    }

    [Property(MaxTest = 1500)]
    public Property Load_RandomCorruption_LoadsOrThrowsElfLoadException() =>
        Prop.ForAll(
            Gen.Choose(0, int.MaxValue).ArrayOf().ToArbitrary(),
            patches =>
            {
                // Each patch packs a position (low 24 bits, modulo the size) and a byte value (high bits).
                var bytes = CorpusBytes("xdp_counter.v4.o");
                foreach (int patch in patches)
                {
                    bytes[(patch & 0xffffff) % bytes.Length] = (byte)(patch >> 24);
                }

                LoadAndDisassembleOrElfError(bytes, out var error);
                return (error is null).Label(error ?? "ok");
            });

    /// <summary>True when the bytes load (and then disassemble); error is set for any exception but ElfLoadException.</summary>
    private static bool LoadAndDisassembleOrElfError(byte[] bytes, out string? error)
    {
        error = null;
        try
        {
            var obj = ElfObjectReader.Load(bytes, "fuzz.o");
            Disassembler.DisassembleObject(obj);
            return true;
        }
        catch (ElfLoadException)
        {
            return false;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            error = ex.GetType().Name + ": " + ex.Message;
            return false;
        }
    }
}
