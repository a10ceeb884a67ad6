using System.Text;
using System.Text.RegularExpressions;
using VethXdp.Kernel;
using VethXdp.Verifier;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using Xunit.Abstractions;

namespace VethXdp.Verifier.Tests.Cases;

/// <summary>Our logs against the running kernel's, case by case: the level-1 log of every rejected case and the
/// level-2 log of the cases whose kernel log is kept in corpus/verifier/golden (made by the kernel, never by us).
/// Logs are compared after normalising what changes from load to load or cannot be the same offline: timings, map
/// addresses, and 6.18's stack-liveness debug lines.</summary>
public sealed partial class VerifierLogKernelTests(ITestOutputHelper output)
{
    private static string Normalise(string log)
    {
        var sb = new StringBuilder();
        foreach (var raw in log.Split('\n'))
        {
            string line = raw.TrimEnd();
            if (LivenessLine().IsMatch(line) || line.StartsWith('#'))
            {
                continue;
            }

            line = TimeLine().Replace(line, "verification time N usec");
            line = Address().Replace(line, "0xADDR");
            sb.Append(line).Append('\n');
        }

        return sb.ToString().TrimEnd();
    }

    private static VerificationResult Ours(VerifierCase c, VerifierLogLevel level, bool stats = true)
    {
        var maps = c.Maps.Select(m => new MapSpec
        {
            Name = m.Name, Type = m.Type, KeySize = m.KeySize, ValueSize = m.ValueSize, MaxEntries = m.MaxEntries, Flags = m.Flags,
        }).ToList();
        var spec = new ProgramSpec
        {
            Name = c.Name, SectionName = string.Empty, Type = c.ProgType, ExpectedAttachType = (uint)c.Attach, Slots = c.Slots.ToArray(),
        };
        return BpfVerifier.Verify(spec, maps, new VerifierOptions
        {
            LogLevel = stats ? level | VerifierLogLevel.Stats : level,
            StrictAlignment = (c.ProgFlags & 1) != 0,
        });
    }

    private static string Kernel(VerifierCase c, uint level)
    {
        var maps = c.Maps.Select(m => new MapCreateRequest
        {
            Type = m.Type, KeySize = m.KeySize, ValueSize = m.ValueSize, MaxEntries = m.MaxEntries, Flags = m.Flags, Name = m.Name,
        }).ToList();
        using var r = KernelCaseLoader.Load(c.ProgType, c.Slots, maps, new KernelCaseOptions
        {
            LogLevel = level,
            ExpectedAttachType = (uint)c.Attach,
            ProgFlags = c.ProgFlags,
            Name = c.Name,
        });
        return r.Log;
    }

    // A report of how many rejected cases give the kernel's level-1 log line for line, with the first difference of
    // each that does not; asserts a floor that only goes up.
    [SkippableFact]
    public void Level1Log_RejectedCases_MatchKernel()
    {
        Skip.IfNot(KernelProbe.IsBpfPermitted(out string reason), reason);
        int same = 0, total = 0;
        var diffs = new StringBuilder();
        foreach (var c in VerifierCase.LoadAll().Where(c => !c.Accept))
        {
            var ours = Ours(c, VerifierLogLevel.Level1);
            if (ours.Accepted || ours.Error!.Kind == RejectKind.NotSupported)
            {
                continue;
            }

            total++;
            string k = Normalise(Kernel(c, 1 | 4));
            string o = Normalise(ours.Log);
            if (Environment.GetEnvironmentVariable("VETHXDP_DUMP_CASE") == c.Id)
            {
                File.WriteAllText("/tmp/kernel.log", k);
                File.WriteAllText("/tmp/ours.log", o);
            }
            if (k == o)
            {
                same++;
            }
            else
            {
                diffs.AppendLine($"--- {c.Id}: {FirstDifference(k, o)}");
            }
        }

        output.WriteLine($"level-1 logs identical to the kernel's: {same}/{total}");
        output.WriteLine(diffs.ToString());
        // a floor that only goes up (312 of 315 on 2026-11-26; the 3 left differ in stack depth lines and one BTF message)
        Assert.True(same >= 312, $"{same}/{total} level-1 logs match\n{diffs}");
    }

    // The level-2 goldens (recorded from the kernel by VerifierCaseKernelTests with VETHXDP_RECORD_GOLDEN=1): every one
    // line for line, mark_precise backtracking, pruning and SCC lines included. VETHXDP_DUMP_GOLDEN=dir writes both logs.
    public static TheoryData<string> Goldens()
    {
        var data = new TheoryData<string>();
        foreach (string path in Directory.GetFiles(GoldenDir, "*.log2").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (VerifierCase.LoadAll().Any(x => x.Name == name))
            {
                data.Add(name);
            }
        }

        return data;
    }

    [Fact]
    public void Level2Log_Goldens_AtLeast28()
    {
        Assert.True(Goldens().Count >= 28, $"only {Goldens().Count} level-2 goldens with a case");
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void Level2Log_Golden_MatchesKernelLineForLine(string name)
    {
        var c = VerifierCase.LoadAll().Single(x => x.Name == name);
        string k = Normalise(File.ReadAllText(Path.Combine(GoldenDir, name + ".log2")));
        string o = Normalise(Ours(c, VerifierLogLevel.Level2 | VerifierLogLevel.Level1, stats: false).Log);
        if (Environment.GetEnvironmentVariable("VETHXDP_DUMP_GOLDEN") is { Length: > 0 } dir)
        {
            File.WriteAllText(Path.Combine(dir, name + ".kernel"), k);
            File.WriteAllText(Path.Combine(dir, name + ".ours"), o);
        }

        Assert.True(k == o, FirstDifference(k, o));
    }

    private static string GoldenDir => Path.Combine(VerifierCase.Directory, "golden");

    private static string FirstDifference(string kernel, string ours)
    {
        var a = kernel.Split('\n');
        var b = ours.Split('\n');
        for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            string x = i < a.Length ? a[i] : "<end>";
            string y = i < b.Length ? b[i] : "<end>";
            if (x != y)
            {
                return $"line {i + 1}\n  kernel: {x}\n  ours:   {y}";
            }
        }

        return "equal";
    }

    [GeneratedRegex(@"^\([\d,]+\) (frame \d+ insn \d+ [+-]|live stack update)")]
    private static partial Regex LivenessLine();

    [GeneratedRegex(@"verification time \d+ usec")]
    private static partial Regex TimeLine();

    [GeneratedRegex(@"0xffff[89a-f][0-9a-f]{11}\b")]
    private static partial Regex Address();
}
