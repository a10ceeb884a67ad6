using System.Text;
using VethXdp.Kernel;
using VethXdp.Vm.Conformance;
using Xunit.Abstractions;

namespace VethXdp.Kernel.Tests;

/// <summary>The instruction-set cross-check: every bpf_conformance file through the running kernel
/// (XDP, prolog, BPF_PROG_TEST_RUN, r0 through a wrapping call) against our interpreter in XDP-prolog mode.</summary>
public class ConformanceKernelTests
{
    private const string ManifestName = "conformance-kernel-refusals.txt";

    private static readonly Lazy<IReadOnlyDictionary<string, Outcome>> s_outcomes = new(RunAll);
    private readonly ITestOutputHelper _output;

    public ConformanceKernelTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        if (TestPaths.ConformanceDir is { } dir)
        {
            foreach (string f in Directory.GetFiles(dir, "*.data").Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFileNameWithoutExtension(f));
            }
        }
        else
        {
            data.Add("(none)");
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Kernel_ConformanceFile_AgreesWithOurInterpreterOrIsAListedRefusal(string name)
    {
        Skip.If(TestPaths.ConformanceDir is null, TestPaths.ConformanceAbsentReason);
        KernelSkip.IfNotPermitted();
        var outcome = s_outcomes.Value[name];
        var manifest = Manifest();
        if (manifest.TryGetValue(name, out string? reason))
        {
            Assert.False(outcome.Kernel.Accepted, $"{name} is listed as refused ({reason}) but the kernel accepted it");
            Assert.Contains(reason, outcome.Kernel.Error!.VerifierLog ?? outcome.Kernel.RefusalReason, StringComparison.Ordinal);
            return;
        }

        Assert.True(outcome.Kernel.Accepted, $"the kernel refused {name}: {outcome.Kernel.RefusalReason} (not in {ManifestName})");
        Assert.True(outcome.Ours.HasValue, $"our interpreter faulted on {name}: {outcome.OursError}");
        Assert.Equal($"0x{outcome.Ours!.Value:x}", $"0x{outcome.Kernel.R0:x}");
    }

    [SkippableFact]
    public void Kernel_RefusedFiles_AreExactlyTheManifest()
    {
        Skip.If(TestPaths.ConformanceDir is null, TestPaths.ConformanceAbsentReason);
        KernelSkip.IfNotPermitted();
        var outcomes = s_outcomes.Value;
        var refused = outcomes.Where(o => !o.Value.Kernel.Accepted).Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        var listed = Manifest().Keys.ToHashSet(StringComparer.Ordinal);

        int agree = outcomes.Count(o => o.Value.Kernel.Accepted && o.Value.Ours == o.Value.Kernel.R0);
        int matchExpected = outcomes.Count(o => o.Value.Kernel.Accepted && o.Value.Kernel.R0 == o.Value.Expected);
        _output.WriteLine($"{outcomes.Count} files: kernel accepted {outcomes.Count - refused.Count}, refused {refused.Count}; " +
            $"accepted and equal to our interpreter {agree}; kernel r0 equal to the file's result {matchExpected}");
        foreach (var name in refused.Order(StringComparer.Ordinal))
        {
            _output.WriteLine($"{name}: {outcomes[name].Kernel.RefusalReason}");
        }

        Assert.Equal(listed.Order(StringComparer.Ordinal), refused.Order(StringComparer.Ordinal));
        Assert.Equal(outcomes.Count - refused.Count, agree);
    }

    [SkippableFact]
    public void Kernel_PlainMode_PassCountAsBpfConformanceCountsIt()
    {
        Skip.If(TestPaths.ConformanceDir is null, TestPaths.ConformanceAbsentReason);
        KernelSkip.IfNotPermitted();
        int pass = 0, total = 0;
        var failed = new StringBuilder();
        foreach (string path in Directory.GetFiles(TestPaths.ConformanceDir!, "*.data").Order(StringComparer.Ordinal))
        {
            var file = ConformanceFile.Load(path);
            total++;
            var k = KernelConformanceRunner.Run(file, KernelConformanceMode.Plain);
            if (k.Accepted && k.R0 == file.ExpectedResult)
            {
                pass++;
            }
            else
            {
                failed.Append(file.Name).Append(' ');
            }
        }

        _output.WriteLine($"plain mode (retval only, as the libbpf plugin reports it): {pass} of {total} pass; failing: {failed}");
        Assert.True(pass > total / 2, $"only {pass} of {total} pass in plain mode");
    }

    internal static IReadOnlyDictionary<string, string> Manifest() => ReadManifest(ManifestName);

    internal static IReadOnlyDictionary<string, string> ReadManifest(string manifestName)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        string path = Path.Combine(TestPaths.RepoRoot, "tests", "VethXdp.Kernel.Tests", manifestName);
        foreach (string raw in File.ReadLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            int colon = line.IndexOf(": ", StringComparison.Ordinal);
            Assert.True(colon > 0, $"{manifestName}: '{line}' is not 'name: kernel message'");
            map.Add(line[..colon].Trim(), line[(colon + 2)..].Trim());
        }

        return map;
    }

    private static IReadOnlyDictionary<string, Outcome> RunAll()
    {
        var result = new Dictionary<string, Outcome>(StringComparer.Ordinal);
        foreach (string path in Directory.GetFiles(TestPaths.ConformanceDir!, "*.data"))
        {
            var file = ConformanceFile.Load(path);
            ulong? ours = null;
            string? oursError = null;
            try
            {
                ours = ConformanceRunner.Run(file, ConformanceMode.XdpProlog);
            }
            catch (Exception e) when (e is VethXdp.Vm.Interpreter.ExecutionFaultException or VethXdp.Vm.Isa.BpfFormatException)
            {
                oursError = e.Message;
            }

            result[file.Name] = new Outcome(KernelConformanceRunner.Run(file), ours, oursError, file.ExpectedResult);
        }

        return result;
    }

    private sealed record Outcome(KernelConformanceResult Kernel, ulong? Ours, string? OursError, ulong? Expected);
}
