using VethXdp.Vm.Conformance;
using VethXdp.Vm.Interpreter;

namespace VethXdp.Vm.Tests.Conformance;

/// <summary>Every bpf_conformance file (../shared/conformance/tests/*.data) through the interpreter, in every mode.</summary>
/// <remarks>
/// xunit 2.9 cannot skip theory rows at run time and fails a theory that has no rows, so when the data is
/// absent the theory gets one placeholder row that checks the data really is absent and records why nothing ran.
/// </remarks>
public class ConformanceTests
{
    private const string Absent = "(no conformance data)";

    // ../shared/conformance/tests, or null when absent.
    private static string? TestsDir => TestPaths.ConformanceDir;

    public static TheoryData<string, ConformanceMode> Cases()
    {
        var data = new TheoryData<string, ConformanceMode>();
        if (TestsDir is not { } dir)
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

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void DataFile_Mode_R0MatchesExpectedResult(string file, ConformanceMode mode)
    {
        Skip.If(file == Absent, "../shared/conformance/tests is absent, so no bpf_conformance file was run.");
        RunAndCheck(Path.Combine(TestsDir!, file), mode);
    }

    /// <summary>Our own cases in the same format: corpus/conformance/*.data.</summary>
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

    [Theory]
    [MemberData(nameof(CorpusCases))]
    public void CorpusDataFile_Mode_R0MatchesExpectedResult(string file, ConformanceMode mode) =>
        RunAndCheck(Path.Combine(TestPaths.CorpusDir, "conformance", file), mode);

    private static void RunAndCheck(string path, ConformanceMode mode)
    {
        var file = Path.GetFileName(path);
        var cf = ConformanceFile.Load(path);
        Assert.NotNull(cf.ExpectedResult);
        ulong r0;
        try
        {
            r0 = ConformanceRunner.Run(cf, mode);
        }
        catch (ExecutionFaultException e)
        {
            Assert.Fail($"{file} ({mode}) faulted: {e.Message}");
            return;
        }

        Assert.Equal(cf.ExpectedResult.Value, r0);
    }

    [SkippableFact]
    public void DataDirectory_Present_Has313Files()
    {
        Skip.If(TestsDir is null, "../shared/conformance/tests is absent (../shared is not beside the repository).");
        Assert.Equal(313, Directory.GetFiles(TestsDir!, "*.data").Length);
    }

    [Fact]
    public void XdpProlog_Size_MatchesUpstreamOpcodes()
    {
        var prolog = ConformanceRunner.XdpProlog(12);
        Assert.Equal(new byte[] { 0xb7, 0xbf, 0x61, 0x61, 0xbf, 0x07, 0xbd, 0x95, 0xb7 }, prolog.Select(i => i.Opcode).ToArray());
        Assert.Equal(12, prolog[5].Imm);
        Assert.Equal(12, prolog[8].Imm);
        Assert.Equal(4, prolog[3].Offset);
    }

    [Fact]
    public void XdpProlog_ShortPacket_ReturnsMinusOne()
    {
        // The prolog alone, followed by "r0 = r2; exit", run over a 4-byte packet but told to expect 8.
        var prog = ConformanceRunner.XdpProlog(8).Concat([new VethXdp.Vm.Isa.Instruction(VethXdp.Vm.Isa.Op.Mov64Reg, 0, VethXdp.Vm.Isa.Register.R2, 0, 0), new VethXdp.Vm.Isa.Instruction(VethXdp.Vm.Isa.Op.Exit, 0, 0, 0, 0)]).ToArray();
        using var vm = new BpfInterpreter(VethXdp.Vm.Isa.BpfProgram.Create(prog));
        Assert.Equal(ulong.MaxValue, vm.RunXdp(new byte[4]).R0);
        Assert.Equal(8UL, vm.RunXdp(new byte[8]).R0);
    }
}
