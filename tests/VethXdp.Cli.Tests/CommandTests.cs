using System.Text.Json;
using VethXdp.Vm.Conformance;
using VethXdp.Vm.Isa;

namespace VethXdp.Cli.Tests;

/// <summary>The <c>asm</c>, <c>disasm</c> and <c>exec</c> commands, run as a process, on real files.</summary>
public sealed class CommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vethxdp-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string WriteFile(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AssertBadInput(CliResult r, params string[] expected)
    {
        Assert.Equal(2, r.ExitCode);
        foreach (var e in expected)
        {
            Assert.Contains(e, r.StdErr);
        }

        Assert.DoesNotContain("   at ", r.StdErr);           // no stack trace without --verbose
        Assert.Single(r.StdErr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Asm_ConformanceSyntax_PrintsOneHexSlotPerLine()
    {
        var src = WriteFile("p.s", "mov %r0, 1\nlddw %r1, 0x1122334455667788\nexit\n");
        var r = CliProcess.Run("asm", src);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal(
            "b7 00 00 00 01 00 00 00\n18 01 00 00 88 77 66 55\n00 00 00 00 44 33 22 11\n95 00 00 00 00 00 00 00\n",
            r.StdOut);
    }

    [Fact]
    public void Asm_WithOutput_WritesBytecodeThatExecRuns()
    {
        var src = WriteFile("p.s", "r0 = 5\nr0 *= 3\nexit\n");
        var bin = Path.Combine(_dir, "p.bin");
        var r = CliProcess.Run("asm", src, "-o", bin);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal(24, new FileInfo(bin).Length);
        var e = CliProcess.Run("exec", bin);
        Assert.True(e.ExitCode == 0, e.StdErr);
        Assert.Equal("0xf\n", e.StdOut);
    }

    [Fact]
    public void Asm_Json_ListsInstructionsWithKernelText()
    {
        var src = WriteFile("p.s", "mov %r0, 1\nexit\n");
        var r = CliProcess.Run("asm", src, "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var insns = doc.RootElement.GetProperty("instructions");
        Assert.Equal(2, insns.GetArrayLength());
        Assert.Equal("r0 = 1", insns[0].GetProperty("text").GetString());
        Assert.Equal("95 00 00 00 00 00 00 00", insns[1].GetProperty("hex").GetString());
    }

    [Fact]
    public void Asm_UnknownMnemonic_NamesFileAndLine()
    {
        var src = WriteFile("bad.s", "mov %r0, 1\nfrobnicate %r1\nexit\n");
        AssertBadInput(CliProcess.Run("asm", src), "bad.s", "line 2");
    }

    [SkippableFact]
    public void Exec_ConformanceFile_PrintsExpectedR0()
    {
        Skip.If(TestPaths.ConformanceDir is null, TestPaths.ConformanceAbsentReason);
        var file = Path.Combine(TestPaths.ConformanceDir!, "ldxh.data");
        var expected = ConformanceFile.Load(file).ExpectedResult!.Value;
        var r = CliProcess.Run("exec", file);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal($"0x{expected:x}\n", r.StdOut);
    }

    [Fact]
    public void Exec_DataFileWithWrongResult_ExitsOne()
    {
        var data = WriteFile("wrong.data", "-- asm\nmov %r0, 2\nexit\n-- result\n0x3\n");
        var r = CliProcess.Run("exec", data);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("0x2\n", r.StdOut);
        Assert.Contains("expects 0x3", r.StdErr);
    }

    [Fact]
    public void Exec_MemOption_OverridesDataMemoryAndSetsR2()
    {
        var data = WriteFile("len.data", "-- asm\nmov %r0, %r2\nexit\n-- mem\n00 01\n-- result\n0x2\n");
        Assert.Equal("0x2\n", CliProcess.Run("exec", data).StdOut);
        var r = CliProcess.Run("exec", data, "--mem", "aabbccdd", "--json");
        Assert.Equal(1, r.ExitCode);  // 4 bytes now, the file expects 2
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.Equal("0x4", doc.RootElement.GetProperty("r0").GetString());
    }

    [Fact]
    public void Exec_Json_PrintsR0Object()
    {
        var src = WriteFile("p.s", "mov %r0, -1\nrsh %r0, 60\nexit\n");
        var r = CliProcess.Run("exec", src, "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.Equal("0xf", doc.RootElement.GetProperty("r0").GetString());
    }

    [Fact]
    public void Exec_HexBytecodeWithoutSpaces_Runs()
    {
        var hex = WriteFile("p.hex", "b700000009000000" + "9500000000000000\n");
        var r = CliProcess.Run("exec", hex);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("0x9\n", r.StdOut);
    }

    [Fact]
    public void Exec_TruncatedBytecode_ExitsTwoNamingInstruction()
    {
        var bin = WriteFile("trunc.bin", new byte[] { 0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0 });
        AssertBadInput(CliProcess.Run("exec", bin), "trunc.bin", "insn 1", "truncated");
    }

    [Theory]
    [InlineData("ff00000000000000", "insn 0: unknown opcode 0xff")]
    [InlineData("b710000001000000" + "9500000000000000", "insn 0: reserved field src")]
    [InlineData("0500050000000000" + "9500000000000000", "insn 0: jump out of range")]
    [InlineData("b700000001000000" + "1801000001000000", "insn 1: 64-bit immediate load is missing its second slot")]
    [InlineData("bf0a000000000000" + "9500000000000000", "insn 0: frame pointer is read only")]
    [InlineData("b70b000000000000" + "9500000000000000", "insn 0: invalid dst register 11")]
    public void Exec_MalformedBytecode_ExitsTwoNamingInstruction(string hex, string message)
    {
        var bin = WriteFile("bad.hex", hex);
        AssertBadInput(CliProcess.Run("exec", bin), "bad.hex", message);
    }

    [Fact]
    public void Exec_MalformedMemHex_ExitsTwo()
    {
        var src = WriteFile("p.s", "mov %r0, 1\nexit\n");
        AssertBadInput(CliProcess.Run("exec", src, "--mem", "0g"), "--mem", "not a hex digit");
    }

    [Fact]
    public void Exec_OutOfBoundsLoad_ExitsTwoNamingInstructionAndAddress()
    {
        var src = WriteFile("oob.s", "ldxw %r0, [%r1+16]\nexit\n");
        AssertBadInput(CliProcess.Run("exec", src, "--mem", "00 11 22 33"), "oob.s", "insn 0", "0x");
    }

    [Fact]
    public void Exec_RunawayLoop_StopsAtBudget()
    {
        var src = WriteFile("loop.s", "mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit\n");
        AssertBadInput(CliProcess.Run("exec", src, "--budget", "1000"), "loop.s", "budget");
    }

    [Fact]
    public void Exec_UnknownEngine_IsUsageError()
    {
        var src = WriteFile("p.s", "mov %r0, 1\nexit\n");
        AssertBadInput(CliProcess.Run("exec", src, "--engine", "warp"), "unknown engine 'warp'");
    }

    [Fact]
    public void Exec_MissingFile_ExitsTwo()
    {
        AssertBadInput(CliProcess.Run("exec", Path.Combine(_dir, "nope.s")), "nope.s", "no such file");
    }

    [Fact]
    public void NoArguments_IsUsageError()
    {
        var r = CliProcess.Run();
        Assert.Equal(2, r.ExitCode);
    }

    [Fact]
    public void UnknownOption_IsUsageError()
    {
        var r = CliProcess.Run("exec", "--bogus");
        Assert.Equal(2, r.ExitCode);
    }

    [Fact]
    public void Disasm_CorpusObjects_MatchLlvmObjdumpGoldens()
    {
        var objects = Directory.GetFiles(Path.Combine(TestPaths.CorpusDir, "xdp"), "*.o");
        Assert.NotEmpty(objects);
        foreach (var obj in objects)
        {
            var golden = Path.ChangeExtension(obj, ".objdump");
            var expected = File.ReadAllText(golden);
            Assert.StartsWith("# llvm-objdump-19", expected, StringComparison.Ordinal);
            expected = expected[(expected.IndexOf('\n', StringComparison.Ordinal) + 1)..];
            var r = CliProcess.Run("disasm", obj);
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.Equal(expected, r.StdOut);
        }
    }

    [Fact]
    public void Disasm_Json_ListsSectionsFunctionsAndBothTexts()
    {
        var obj = Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_port_filter.v4.o");
        var r = CliProcess.Run("disasm", obj, "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.Equal("GPL", doc.RootElement.GetProperty("license").GetString());
        var xdp = doc.RootElement.GetProperty("sections").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "xdp");
        Assert.Equal("xdp_port_filter", xdp.GetProperty("functions")[0].GetProperty("name").GetString());
        var insns = xdp.GetProperty("instructions").EnumerateArray().ToArray();
        Assert.Equal(1, insns[1].GetProperty("pc").GetInt32());
        Assert.Equal("r2 = *(u32 *)(r1 + 0x4)", insns[1].GetProperty("llvm").GetString());
        Assert.Equal("r2 = *(u32 *)(r1 +4)", insns[1].GetProperty("kernel").GetString());
        Assert.Contains(insns, i => i.GetProperty("llvm").GetString()!.Contains("goto +0x", StringComparison.Ordinal)
            && i.GetProperty("llvm").GetString()!.Contains("<xdp_port_filter+0x", StringComparison.Ordinal));
    }

    [Fact]
    public void Disasm_RawHex_PrintsLlvmStyleLines()
    {
        var hex = WriteFile("p.hex", "b7 00 00 00 01 00 00 00 95 00 00 00 00 00 00 00");
        var r = CliProcess.Run("disasm", hex);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("r0 = 0x1", r.StdOut);
        Assert.Contains("exit", r.StdOut);
    }

    [Fact]
    public void Disasm_CorruptElf_ExitsTwoNamingFile()
    {
        var obj = Directory.GetFiles(Path.Combine(TestPaths.CorpusDir, "xdp"), "*.o").First();
        var bytes = File.ReadAllBytes(obj)[..100];
        var bad = WriteFile("corrupt.o", bytes);
        AssertBadInput(CliProcess.Run("disasm", bad), "corrupt.o");
    }
}
