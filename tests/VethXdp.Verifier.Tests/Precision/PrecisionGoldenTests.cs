using System.Text;
using System.Text.RegularExpressions;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using Xunit.Abstractions;

namespace VethXdp.Verifier.Tests.Precision;

/// <summary>The level-2 logs of the kernel-recorded goldens (corpus/verifier/golden), line for line: the pruning
/// decisions, the <c>mark_precise:</c> backtracking and the SCC lines must be the kernel's. Only 6.18's stack-liveness
/// debug lines (which this verifier does not compute) and map addresses are set aside.</summary>
public sealed partial class PrecisionGoldenTests(ITestOutputHelper output)
{
    // Goldens that print mark_precise lines, SCC lines or prune at a checkpoint, and that match today.
    public static TheoryData<string> Matching() => new()
    {
        "bounded_loop_counter",
        "infinite_loop_self",
        "hash_lookup_null_checked_read",
        "pkt_add_bounded_byte",
        "pkt_add_unbounded",
        "ringbuf_leak_one_branch",
        "ringbuf_reserve_submit",
        "scalar_plus_pkt",
        "var_index_mask_too_wide",
        "var_index_signed_both",
        "var_off_write_bounded",
        "var_offset_checked",
        "combined_stack_too_large",
        "callee_result_range",
    };

    [Theory]
    [MemberData(nameof(Matching))]
    public void Level2Log_Golden_MatchesKernelLineForLine(string name)
    {
        var (kernel, ours) = Logs(name);
        Assert.True(kernel == ours, FirstDifference(kernel, ours));
    }

    // The count over every golden; a floor that only goes up. Set VETHXDP_DUMP_GOLDEN=dir to write both logs.
    [Fact]
    public void Level2Log_AllGoldens_Report()
    {
        int same = 0, total = 0;
        var diffs = new StringBuilder();
        foreach (string path in Directory.GetFiles(GoldenDir, "*.log2").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (VerifierCase.LoadAll().All(x => x.Name != name))
            {
                continue;
            }

            total++;
            var (kernel, ours) = Logs(name);
            if (Environment.GetEnvironmentVariable("VETHXDP_DUMP_GOLDEN") is { Length: > 0 } dir)
            {
                File.WriteAllText(Path.Combine(dir, name + ".kernel"), kernel);
                File.WriteAllText(Path.Combine(dir, name + ".ours"), ours);
            }

            if (kernel == ours)
            {
                same++;
            }
            else
            {
                diffs.AppendLine($"--- {name}: {FirstDifference(kernel, ours)}");
            }
        }

        output.WriteLine($"level-2 logs identical to the kernel's goldens: {same}/{total}");
        output.WriteLine(diffs.ToString());
        Assert.True(same >= 28, $"{same}/{total}\n{diffs}");
    }

    private static string GoldenDir => Path.Combine(VerifierCase.Directory, "golden");

    private static (string Kernel, string Ours) Logs(string name)
    {
        var c = VerifierCase.LoadAll().Single(x => x.Name == name);
        var maps = c.Maps.Select(m => new MapSpec
        {
            Name = m.Name, Type = m.Type, KeySize = m.KeySize, ValueSize = m.ValueSize, MaxEntries = m.MaxEntries, Flags = m.Flags,
        }).ToList();
        var spec = new ProgramSpec
        {
            Name = c.Name, SectionName = string.Empty, Type = c.ProgType, ExpectedAttachType = (uint)c.Attach, Slots = c.Slots.ToArray(),
        };
        var r = BpfVerifier.Verify(spec, maps, new VerifierOptions
        {
            LogLevel = VerifierLogLevel.Level2 | VerifierLogLevel.Level1,
            StrictAlignment = (c.ProgFlags & 1) != 0,
        });
        return (Normalise(File.ReadAllText(Path.Combine(GoldenDir, name + ".log2"))), Normalise(r.Log));
    }

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

    // 6.18's stack liveness debug lines: "(0) frame 0 insn 5 +live -8", "(1,5,7) live stack update done ..."
    [GeneratedRegex(@"^\([\d,]+\) (frame \d+ insn \d+ [+-]|live stack update)")]
    private static partial Regex LivenessLine();

    [GeneratedRegex(@"verification time \d+ usec")]
    private static partial Regex TimeLine();

    [GeneratedRegex(@"0xffff[89a-f][0-9a-f]{11}\b")]
    private static partial Regex Address();
}
