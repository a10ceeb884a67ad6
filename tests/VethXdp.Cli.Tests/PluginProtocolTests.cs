using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using VethXdp.Vm.Conformance;
using VethXdp.Vm.Isa;
using Xunit.Abstractions;

namespace VethXdp.Cli.Tests;

/// <summary>Drives the built command exactly as bpf_conformance's runner drives a plugin, over every conformance file.</summary>
/// <remarks>What the runner does, per test: assemble; with --xdp_prolog and memory, prepend its 9-slot XDP prolog;
/// argv = [base16(memory) if any] + plugin options + [--elf]; standard input = base16 of the bytecode, or of the
/// ELF object its ELFIO writer makes (section ".text", or "xdp" with --xdp_prolog; function "main"); then it reads
/// standard output, parses it with stoull(s, 16) and compares all 64 bits with -- result.</remarks>
public sealed class PluginProtocolTests(ITestOutputHelper output)
{
    public enum RunnerMode
    {
        Raw,
        Elf,
        ElfXdpProlog,
    }

    [SkippableFact]
    public void Plugin_RawMode_PassesEveryConformanceFile() => RunAll(RunnerMode.Raw);

    [SkippableFact]
    public void Plugin_ElfMode_PassesEveryConformanceFile() => RunAll(RunnerMode.Elf);

    [SkippableFact]
    public void Plugin_ElfXdpPrologMode_PassesEveryConformanceFile() => RunAll(RunnerMode.ElfXdpProlog);

    [Fact]
    public void PluginScript_ForwardsRunnerArguments_ToTheCommand()
    {
        var script = Path.Combine(TestPaths.RepoRoot, "scripts", "vethxdp-plugin");
        Assert.True(File.Exists(script), $"{script} is missing");
        // mem-len: r0 = r2 = 8 bytes of memory; the memory argument comes first, options after it, --elf last.
        var code = BpfProgram.EncodeSlots(Assembler.Assemble("mov %r0, %r2\nexit"));
        var psi = new System.Diagnostics.ProcessStartInfo("bash")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { script, Base16([1, 2, 3, 4, 5, 6, 7, 8]), "--engine", "interp", "--elf" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["VETHXDP_DLL"] = CliProcess.CommandDll;
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardInput.WriteLine(Base16(TinyElf.ForRunner(code, ".text")));
        p.StandardInput.Close();
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000));
        Assert.True(p.ExitCode == 0, stderr);
        Assert.Equal("0x8", stdout.Trim());
    }

    [Fact]
    public void Plugin_BadProgram_ExitsNonZeroWithOneLineReason()
    {
        var r = CliProcess.Run(["plugin", "--engine", "interp"], "ff  00  00  00  00  00  00  00  \n");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Equal(string.Empty, r.StdOut);
        Assert.Contains("insn 0: unknown opcode 0xff", r.StdErr);
        Assert.Single(r.StdErr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Plugin_OptionsInOneArgument_AreAccepted()
    {
        // Some runner versions pass --plugin_options as a single argument.
        var code = BpfProgram.EncodeSlots(Assembler.Assemble("mov %r0, 7\nexit"));
        var r = CliProcess.Run(["plugin", "--engine interp"], Base16(code) + "\n");
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("0x7", r.StdOut.Trim());
    }

    private void RunAll(RunnerMode mode)
    {
        var dir = TestPaths.ConformanceDir;
        Skip.If(dir is null, TestPaths.ConformanceAbsentReason);
        var files = Directory.GetFiles(dir!, "*.data").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        Assert.Equal(313, files.Length);
        var failures = new ConcurrentBag<string>();
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) }, file =>
        {
            var error = RunLikeRunner(file, mode);
            if (error is not null)
            {
                failures.Add($"{Path.GetFileName(file)}: {error}");
            }
        });
        output.WriteLine($"{mode}: {files.Length - failures.Count} of {files.Length} passed");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {files.Length} failed in {mode} mode:\n" + string.Join('\n', failures.OrderBy(f => f, StringComparer.Ordinal)));
    }

    private static string? RunLikeRunner(string file, RunnerMode mode)
    {
        var test = ConformanceFile.Load(file);
        var code = test.Slots.ToList();
        if (mode == RunnerMode.ElfXdpProlog && test.Memory.Length > 0)
        {
            code.InsertRange(0, ConformanceRunner.XdpProlog(test.Memory.Length));
        }

        var bytecode = BpfProgram.EncodeSlots(code.ToArray());
        var args = new List<string> { "plugin" };
        if (test.Memory.Length > 0)
        {
            args.Add(Base16(test.Memory));
        }

        args.Add("--engine");
        args.Add("interp");
        if (mode != RunnerMode.Raw)
        {
            args.Add("--elf");
        }

        string stdin = mode == RunnerMode.Raw
            ? Base16(bytecode)
            : Base16(TinyElf.ForRunner(bytecode, mode == RunnerMode.ElfXdpProlog ? "xdp" : ".text"));
        var r = CliProcess.Run(args, stdin + "\n");
        if (r.ExitCode != 0)
        {
            return $"exit {r.ExitCode}: {r.StdErr.Trim()}";
        }

        var text = r.StdOut.Trim();
        if (!ulong.TryParse(text.StartsWith("0x", StringComparison.Ordinal) ? text[2..] : text, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var r0))
        {
            return $"unparsable output \"{text}\"";
        }

        return r0 == test.ExpectedResult ? null : $"r0 {text}, expected 0x{test.ExpectedResult:x}";
    }

    /// <summary>The runner's base16 text: every byte as two digits followed by two spaces.</summary>
    internal static string Base16(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length * 4);
        foreach (var b in bytes)
        {
            sb.Append(b.ToString("x2", CultureInfo.InvariantCulture)).Append("  ");
        }

        return sb.ToString();
    }
}
