using System.Text.Json;
using VethXdp.Verifier.Cfg;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Elf;

namespace VethXdp.Verifier.Tests.Cfg;

/// <summary>Every program of every corpus object passes the control-flow checks (Linux loads them all), and the
/// functions the checks discover are the object's functions (BTF func_info), as the kernel's check_btf_func
/// requires.</summary>
public class CorpusCfgTests
{
    // corpus/manifest.json lists under "fixtures" the objects that are not programs (disassembler fixtures).
    private static HashSet<string> Fixtures()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.CorpusDir, "manifest.json")));
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in doc.RootElement.GetProperty("fixtures").EnumerateArray())
        {
            set.Add(Path.GetFileName(f.GetProperty("object").GetString()!));
        }

        return set;
    }

    public static TheoryData<string> Objects()
    {
        var fixtures = Fixtures();
        var data = new TheoryData<string>();
        foreach (string path in Directory.EnumerateFiles(Path.Combine(TestPaths.CorpusDir, "xdp"), "*.o").Order(StringComparer.Ordinal))
        {
            if (!fixtures.Contains(Path.GetFileName(path)))
            {
                data.Add(Path.GetFileName(path));
            }
        }

        return data;
    }

    [Fact]
    public void Corpus_HasObjects()
    {
        Assert.True(Objects().Count >= 50, $"only {Objects().Count} corpus objects");
        Assert.Contains("odd_encodings.o", Fixtures());
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void Check_CorpusObject_EveryProgramPasses(string file)
    {
        var obj = ElfObjectReader.Load(Path.Combine(TestPaths.CorpusDir, "xdp", file));
        Assert.NotEmpty(obj.Programs);
        foreach (var spec in obj.Programs)
        {
            var log = new VerifierLog(VerifierLogLevel.Level2, spec.Lines);
            var r = CfgCheck.Check(spec, log: log);
            Assert.True(r.Ok, $"{file} {spec.Name}: {r.Error}");
            Assert.Equal(spec.Slots.Count, r.Subprogs[^1].End);
            Assert.StartsWith("func#0 @0\n", log.ToString(), StringComparison.Ordinal);
            if (spec.Functions.Count > 0)
            {
                Assert.Equal(spec.Functions.Select(f => f.StartSlot).Order(), r.Subprogs.Select(s => s.Start));
                Assert.All(r.Subprogs, s => Assert.NotNull(s.Name));
            }

            // a depth of 0 everywhere never exceeds the limits: the static call walk terminates on real programs
            Assert.Null(CfgCheck.CheckMaxStackDepth(spec.Slots.ToArray(), r.Subprogs, new int[r.Subprogs.Count]));
        }
    }
}
