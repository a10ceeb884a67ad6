using VethXdp.Vm.Conformance;
using VethXdp.Vm.Interpreter;

namespace VethXdp.Jit.Tests;

/// <summary>Every bpf_conformance file (../shared/conformance/tests/*.data) and every corpus/conformance case through the
/// checked JIT, in the three modes the runner has (raw, ELF, XDP prolog): r0 must be the file's result.</summary>
/// <remarks>Lives here rather than in VethXdp.Vm.Tests so that the Vm tests do not depend on the JIT. When the shared
/// data is absent the theory gets one placeholder row that skips with the reason (xunit 2.9 fails an empty theory).</remarks>
public class ConformanceJitTests
{
    private const string Absent = "(no conformance data)";

    public static TheoryData<string, ConformanceMode> SharedCases()
    {
        var data = new TheoryData<string, ConformanceMode>();
        if (TestPaths.ConformanceDir is not { } dir)
        {
            data.Add(Absent, ConformanceMode.Raw);
            return data;
        }

        foreach (var path in Directory.GetFiles(dir, "*.data").Order(StringComparer.Ordinal))
        {
            foreach (var mode in Enum.GetValues<ConformanceMode>())
            {
                data.Add(Path.GetFileName(path), mode);
            }
        }

        return data;
    }

    public static TheoryData<string, ConformanceMode> CorpusCases()
    {
        var data = new TheoryData<string, ConformanceMode>();
        foreach (var path in Directory.GetFiles(Path.Combine(TestPaths.CorpusDir, "conformance"), "*.data").Order(StringComparer.Ordinal))
        {
            foreach (var mode in Enum.GetValues<ConformanceMode>())
            {
                data.Add(Path.GetFileName(path), mode);
            }
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(SharedCases))]
    public void DataFile_JitChecked_R0MatchesExpectedResult(string file, ConformanceMode mode)
    {
        Skip.If(file == Absent, TestPaths.ConformanceAbsentReason);
        RunAndCheck(Path.Combine(TestPaths.ConformanceDir!, file), mode);
    }

    [Theory]
    [MemberData(nameof(CorpusCases))]
    public void CorpusDataFile_JitChecked_R0MatchesExpectedResult(string file, ConformanceMode mode) =>
        RunAndCheck(Path.Combine(TestPaths.CorpusDir, "conformance", file), mode);

    [SkippableFact]
    public void DataDirectory_JitChecked_All313PassInEveryMode()
    {
        Skip.If(TestPaths.ConformanceDir is null, TestPaths.ConformanceAbsentReason);
        var files = Directory.GetFiles(TestPaths.ConformanceDir!, "*.data");
        Assert.Equal(313, files.Length);
        int passed = 0;
        foreach (var mode in Enum.GetValues<ConformanceMode>())
        {
            foreach (var path in files)
            {
                var cf = ConformanceFile.Load(path);
                try
                {
                    passed += ConformanceRunner.Run(cf, mode, null, null, JitEngineFactory.Checked) == cf.ExpectedResult ? 1 : 0;
                }
                catch (ExecutionFaultException)
                {
                }
            }
        }

        Assert.Equal(3 * 313, passed);
    }

    private static void RunAndCheck(string path, ConformanceMode mode)
    {
        var file = Path.GetFileName(path);
        var cf = ConformanceFile.Load(path);
        Assert.NotNull(cf.ExpectedResult);
        ulong r0;
        try
        {
            r0 = ConformanceRunner.Run(cf, mode, null, null, JitEngineFactory.Checked);
        }
        catch (ExecutionFaultException e)
        {
            Assert.Fail($"{file} ({mode}) faulted on jit-checked: {e.Message}");
            return;
        }

        Assert.Equal(cf.ExpectedResult.Value, r0);
    }
}
