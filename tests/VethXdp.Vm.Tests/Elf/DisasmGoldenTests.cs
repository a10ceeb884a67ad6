using System.Text.RegularExpressions;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Tests.Elf;

/// <summary>Our disassembly of every corpus object against the golden text llvm-objdump-19 wrote for it
/// (corpus/xdp/*.objdump, produced only by the tool, see corpus/xdp/Makefile).</summary>
public partial class DisasmGoldenTests
{
    private const string ToolVersion = "Debian LLVM 19.1.7";

    private static string XdpDir => Path.Combine(TestPaths.CorpusDir, "xdp");

    public static TheoryData<string> CorpusObjects()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(XdpDir, "*.o").OrderBy(p => p, StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    /// <summary>x.v4.o -> x.v4.objdump; all_opcodes.o -> all_opcodes.objdump.</summary>
    private static string GoldenPath(string objectName) => Path.Combine(XdpDir, Path.ChangeExtension(objectName, ".objdump"));

    /// <summary>The tool's output: the golden without the comment line we put on top.</summary>
    private static string GoldenBody(string objectName)
    {
        var text = File.ReadAllText(GoldenPath(objectName));
        int newline = text.IndexOf('\n', StringComparison.Ordinal);
        Assert.True(text.StartsWith('#') && newline > 0, $"{objectName}: golden must start with a '#' header line");
        return text[(newline + 1)..];
    }

    [Theory]
    [MemberData(nameof(CorpusObjects))]
    public void DisassembleObject_CorpusObject_MatchesLlvmObjdumpGolden(string objectName)
    {
        var obj = ElfObjectReader.Load(Path.Combine(XdpDir, objectName));

        var actual = Disassembler.DisassembleObject(obj);

        AssertSameText(GoldenBody(objectName), actual, objectName);
    }

    [SkippableFact]
    public void DisassembleObject_SampleXdp_MatchesSharedReferenceByteForByte()
    {
        var reference = TestPaths.ReferenceDir;
        Skip.If(reference is null, "../shared/reference is absent: no sample listing to compare against");
        var golden = File.ReadAllText(Path.Combine(reference, "sample_xdp.objdump"));
        var body = golden[(golden.IndexOf('\n', StringComparison.Ordinal) + 1)..];

        // The reference was made from "sample_xdp.o"; load our build of the same source under that name.
        var obj = ElfObjectReader.Load(File.ReadAllBytes(Path.Combine(XdpDir, "sample_xdp.v4.o")), "sample_xdp.o");

        AssertSameText(body, Disassembler.DisassembleObject(obj), "sample_xdp.o");
    }

    [Theory]
    [MemberData(nameof(CorpusObjects))]
    public void Golden_HeaderLine_NamesToolVersionAndBuild(string objectName)
    {
        var header = File.ReadLines(GoldenPath(objectName)).First();

        var expected = objectName.EndsWith(".v2.o", StringComparison.Ordinal)
            || objectName.EndsWith(".v3.o", StringComparison.Ordinal)
            || objectName.EndsWith(".v4.o", StringComparison.Ordinal)
            ? $"# llvm-objdump-19 -d {objectName}  ({ToolVersion}; object built with clang-19 -O2 -g -target bpf -mcpu={objectName[^4..^2]})"
            : $"# llvm-objdump-19 -d {objectName}  ({ToolVersion}; object assembled with clang-19 -target bpf -mcpu=v4 -c {Path.ChangeExtension(objectName, ".s")})";
        Assert.Equal(expected, header);
    }

    [Fact]
    public void Corpus_EverySource_HasObjectsAndGoldensForEachCpu()
    {
        var sources = Directory.GetFiles(XdpDir, "*.c");
        Assert.True(sources.Length >= 6, $"expected the corpus programs in {XdpDir}, found {sources.Length}");
        foreach (var source in sources)
        {
            var stem = Path.GetFileNameWithoutExtension(source);
            foreach (var cpu in new[] { "v2", "v3", "v4" })
            {
                Assert.True(File.Exists(Path.Combine(XdpDir, $"{stem}.{cpu}.o")), $"{stem}.{cpu}.o is missing: run make in corpus/xdp");
                Assert.True(File.Exists(Path.Combine(XdpDir, $"{stem}.{cpu}.objdump")), $"{stem}.{cpu}.objdump is missing");
            }
        }

        foreach (var asm in Directory.GetFiles(XdpDir, "*.s"))
        {
            Assert.True(File.Exists(Path.ChangeExtension(asm, ".o")), $"{asm}: object missing");
            Assert.True(File.Exists(Path.ChangeExtension(asm, ".objdump")), $"{asm}: golden missing");
        }
    }

    [Theory]
    [InlineData("xdp_port_filter.v4.o", "xdp")]
    [InlineData("xdp_vlan_loop.v2.o", "xdp")]
    [InlineData("odd_encodings.o", "zero_runs")]
    [InlineData("odd_encodings.o", "tail_lddw")]
    public void DisassembleRaw_SingleSymbolSection_MatchesGoldenLinesWithoutLabels(string objectName, string sectionName)
    {
        var obj = ElfObjectReader.Load(Path.Combine(XdpDir, objectName));
        var section = obj.FindSection(sectionName);
        Assert.NotNull(section);

        // The golden lines of that section: after its "Disassembly of section" and symbol header, up to the next blank line.
        var lines = GoldenBody(objectName).Split('\n');
        int at = Array.IndexOf(lines, $"Disassembly of section {sectionName}:") + 3;
        Assert.True(at >= 3, $"section {sectionName} not in the golden");
        var expected = lines.Skip(at).TakeWhile(l => l.Length > 0).Select(l => LabelSuffix().Replace(l, string.Empty));

        var actual = Disassembler.DisassembleRaw(section.SlotSpan);

        AssertSameText(string.Join('\n', expected) + "\n", actual, $"{objectName} [{sectionName}]");
    }

    [Fact]
    public void DisassembleRaw_Empty_IsEmpty()
    {
        Assert.Equal(string.Empty, Disassembler.DisassembleRaw([]));
    }

    [Fact]
    public void DisassembleObject_NoCodeBytes_PrintsOnlyTheFileLine()
    {
        var obj = new BpfObject("empty.o", "GPL", [new ElfCodeSection(".text", 2, 0, [])], [], []);

        Assert.Equal("\nempty.o:\tfile format elf64-bpf\n", Disassembler.DisassembleObject(obj));
    }

    [Fact]
    public void DisassembleObject_NoSymbols_UsesSectionNameForHeaderAndLabels()
    {
        var slots = BpfProgram.DecodeSlots(Convert.FromHexString("050001000000000095000000000000009500000000000000"));
        var obj = new BpfObject("t.o", null, [new ElfCodeSection("xdp", 3, 0, slots)], [], []);

        var text = Disassembler.DisassembleObject(obj);

        Assert.Equal(
            "\nt.o:\tfile format elf64-bpf\n\nDisassembly of section xdp:\n\n0000000000000000 <xdp>:\n"
            + "       0:\t05 00 01 00 00 00 00 00\tgoto +0x1 <xdp+0x10>\n"
            + "       1:\t95 00 00 00 00 00 00 00\texit\n"
            + "       2:\t95 00 00 00 00 00 00 00\texit\n",
            text);
    }

    /// <summary>Fails with the first differing line, both versions, and the line counts.</summary>
    internal static void AssertSameText(string expected, string actual, string what)
    {
        if (expected == actual)
        {
            return;
        }

        var e = expected.Split('\n');
        var a = actual.Split('\n');
        int n = Math.Min(e.Length, a.Length);
        int i = 0;
        while (i < n && e[i] == a[i])
        {
            i++;
        }

        string Show(string[] lines) => i < lines.Length ? Visible(lines[i]) : "<end of text>";
        Assert.Fail($"{what}: first difference at line {i + 1} (of {e.Length} expected, {a.Length} actual)\n"
            + $"  llvm-objdump: {Show(e)}\n  ours:         {Show(a)}");
    }

    private static string Visible(string line) => line.Replace("\t", "\\t", StringComparison.Ordinal);

    [GeneratedRegex(@" <[^ <>]+>$")]
    private static partial Regex LabelSuffix();
}
