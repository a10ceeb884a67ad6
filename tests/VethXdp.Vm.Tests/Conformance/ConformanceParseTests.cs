using System.Text;
using VethXdp.Vm.Conformance;
using VethXdp.Vm.Isa;
using Xunit.Abstractions;

namespace VethXdp.Vm.Tests.Conformance;

public class ConformanceParseTests
{
    private const string Absent = "(absent)";

    // One row per upstream file; a single "(absent)" row when ../shared/conformance is missing, because xunit 2
    // fails a theory without data (ConformanceData_Present_OrSkippedWithReason reports the absence).
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        if (TestPaths.ConformanceDir is { } dir)
        {
            foreach (string file in Directory.GetFiles(dir, "*.data").Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFileName(file));
            }
        }

        if (data.Count == 0)
        {
            data.Add(Absent);
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void EveryFile_ParsesAndAssembles(string file)
    {
        Skip.If(file == Absent, TestPaths.ConformanceAbsentReason);

        var test = ConformanceFile.Load(Path.Combine(TestPaths.ConformanceDir!, file));
        Assert.Equal(Path.GetFileNameWithoutExtension(file), test.Name);
        Assert.NotNull(test.AsmSource);
        Assert.NotEmpty(test.AsmSlots);
        Assert.NotEmpty(test.Slots);
        Assert.True(test.ExpectedResult.HasValue, "every upstream file has a -- result");
        Assert.Null(test.ExpectedError);
        Assert.Equal(test.HasMemory, test.Memory.Length > 0);
        var error = InstructionValidator.Validate(test.Slots.ToArray());
        Assert.True(error is null, $"{file}: {error}");
    }

    [SkippableFact]
    public void Lddw_AsmAssemblesToRawWords()
    {
        Skip.If(TestPaths.ConformanceDir is null, TestPaths.ConformanceAbsentReason);
        var dir = TestPaths.ConformanceDir!;

        var test = ConformanceFile.Load(Path.Combine(dir, "lddw.data"));
        Assert.NotNull(test.RawSlots);
        Assert.Equal([0x5566778800000018UL, 0x1122334400000000UL, 0x0000000000000095UL], test.RawSlots!.Select(s => s.ToRaw()));
        Assert.Equal(test.RawSlots, test.AsmSlots);
        Assert.Same(test.RawSlots, test.Slots);
        Assert.Equal(0x1122334455667788UL, test.ExpectedResult);
    }

    [Fact]
    public void Parse_MemResultAndSections_FollowUpstreamRules()
    {
        const string text = "# Copyright header -- not a marker, it is a comment\r\n" +
            "ignored before the first marker\r\n" +
            "-- c\r\n" +
            "int main(void) { return 0; }\r\n" +
            "-- asm # comment on the marker line\r\n" +
            "ldxh %r0, [%r1+2] # load\r\n" +
            "\r\n" +
            "   \r\n" +
            "exit\r\n" +
            "-- mem\r\n" +
            "aa bb 11\r\n" +
            "22 cc dd\r\n" +
            "-- no register offset\r\n" +
            "call instruction\r\n" +
            "-- result\r\n" +
            "0x1\r\n" +
            "0x2211\r\n";
        var test = ConformanceFile.Parse(text, "sample");
        Assert.Equal("sample", test.Name);
        Assert.Equal("ldxh %r0, [%r1+2]\nexit", test.AsmSource);
        Assert.Equal([new Instruction(Op.LdxH, Register.R0, Register.R1, 2, 0), new Instruction(Op.Exit, 0, 0, 0, 0)], test.Slots);
        Assert.True(test.HasMemory);
        Assert.Equal(new byte[] { 0xaa, 0xbb, 0x11, 0x22, 0xcc, 0xdd }, test.Memory);
        Assert.Equal(0x2211UL, test.ExpectedResult); // the last result line wins
        Assert.Null(test.RawSlots);
        Assert.Null(test.ExpectedError);
    }

    [Theory]
    [InlineData("0", 0UL)]
    [InlineData("42", 42UL)]
    [InlineData("0xFFFFFFFFFFFFFFF6", 0xFFFFFFFFFFFFFFF6UL)]
    [InlineData("0xffffffff", 0xffffffffUL)]
    [InlineData("-1", ulong.MaxValue)]
    public void Parse_Result_HexWhenItContains0x(string result, ulong expected)
    {
        var test = ConformanceFile.Parse($"-- asm\nexit\n-- result\n{result}\n", "r");
        Assert.Equal(expected, test.ExpectedResult);
    }

    [Fact]
    public void Parse_NoMemNoResult_LeavesThemEmpty()
    {
        var test = ConformanceFile.Parse("-- asm\nmov %r0, 1\nexit\n-- error\nfirst\nunwind failed \n", "e");
        Assert.False(test.HasMemory);
        Assert.Empty(test.Memory);
        Assert.Null(test.ExpectedResult);
        Assert.Equal("unwind failed", test.ExpectedError);
    }

    [Fact]
    public void Parse_RawSection_ReplacesAsmForExecution()
    {
        var test = ConformanceFile.Parse("-- asm\nmov %r0, 1\nexit\n-- raw\n0x00000002000000b7 149\n-- result\n2\n", "raw");
        Assert.Equal([Op.Mov64Imm, Op.Exit], test.Slots.Select(s => s.Opcode));
        Assert.Equal(2, test.Slots[0].Imm);
        Assert.Equal(1, test.AsmSlots[0].Imm);
    }

    [Fact]
    public void Parse_EmptyRawSection_KeepsAsm()
    {
        var test = ConformanceFile.Parse("-- asm\nmov %r0, 1\nexit\n-- raw\n-- result\n1\n", "raw");
        Assert.NotNull(test.RawSlots);
        Assert.Empty(test.RawSlots!);
        Assert.Equal(test.AsmSlots, test.Slots);
    }

    [Fact]
    public void Parse_UnknownDirective_ThrowsNamingFileAndLine()
    {
        var e = Assert.Throws<ConformanceFormatException>(() =>
            ConformanceFile.Parse("-- asm\nexit\n-- expected\n1\n", "odd"));
        Assert.Equal("odd", e.FileName);
        Assert.Equal(3, e.Line);
        Assert.Equal("odd: line 3: unknown directive '-- expected'", e.Message);
    }

    [Fact]
    public void Parse_AssemblerError_ReportsTheFileLine()
    {
        var e = Assert.Throws<ConformanceFormatException>(() =>
            ConformanceFile.Parse("# header\n-- asm\n# comment\nmov %r0, 1\n\nbogus %r0\nexit\n-- result\n1\n", "bad"));
        Assert.Equal(6, e.Line);
        Assert.StartsWith("bad: line 6: unknown mnemonic 'bogus'", e.Message, StringComparison.Ordinal);
        Assert.IsType<AssemblerException>(e.InnerException);
    }

    [Theory]
    [InlineData("-- asm\nexit\n-- mem\naa zz\n-- result\n0\n", 4, "invalid memory byte 'zz'")]
    [InlineData("-- asm\nexit\n-- mem\n123\n-- result\n0\n", 4, "invalid memory byte '123'")]
    [InlineData("-- asm\nexit\n-- raw\n0xq\n-- result\n0\n", 4, "invalid raw instruction word '0xq'")]
    [InlineData("-- asm\nexit\n-- result\n12x\n", 4, "invalid result '12x'")]
    public void Parse_BadData_ThrowsNamingTheLine(string text, int line, string reason)
    {
        var e = Assert.Throws<ConformanceFormatException>(() => ConformanceFile.Parse(text, "f"));
        Assert.Equal(line, e.Line);
        Assert.Equal(reason, e.Reason);
    }

    [Fact]
    public void Load_ReadsLatin1()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vethxdp-latin1-{Guid.NewGuid():N}.data");
        try
        {
            // 0xA7 (section sign) and 0x7F in a comment: invalid UTF-8, fine as Latin-1.
            byte[] bytes = [.. Encoding.ASCII.GetBytes("# RFC 9669 "), 0xA7, 0x7F, .. Encoding.ASCII.GetBytes(" 4.1\n-- asm\nmov %r0, 7\nexit\n-- result\n7\n")];
            File.WriteAllBytes(path, bytes);
            var test = ConformanceFile.Load(path);
            Assert.Equal(Path.GetFileNameWithoutExtension(path), test.Name);
            Assert.Equal(7UL, test.ExpectedResult);
            Assert.Equal(7, test.Slots[0].Imm);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
