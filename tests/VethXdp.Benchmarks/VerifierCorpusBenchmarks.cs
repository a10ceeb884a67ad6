using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using VethXdp.Kernel;
using VethXdp.Verifier;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Programs;

namespace VethXdp.Benchmarks;

/// <summary>Issue 5: the time to verify each program of every corpus/xdp object (v3 build, no log), next to what the
/// running kernel reports for the same program: processed instructions both ways, our time (Mean) and the kernel's
/// <c>verification time</c>, and the ratios the issue's goals are stated in (processed insns within 10% of the
/// kernel's, our time at most 2x the kernel's).</summary>
/// <remarks>
/// <para>Run: <c>dotnet run -c Release --project tests/VethXdp.Benchmarks -- --filter '*VerifierCorpusBenchmarks*'</c>.</para>
/// <para>Columns: <c>Insns</c> our insn_processed; <c>ns/insn</c> Mean / Insns; <c>Verdict</c> ours (and the kernel's
/// when they differ); <c>K insns</c> the kernel's "processed N insns"; <c>K time</c> the median of the kernel's
/// "verification time N usec" over <see cref="KernelVerification.Loads"/> loads (BPF_PROG_LOAD with log_level 4,
/// BPF_LOG_STATS, so no per-instruction log slows it); <c>Insns/K</c> and <c>Time/K</c> the ratios. The kernel's
/// columns are computed in the process that prints the summary; where bpf() is not permitted they read "-" and the
/// reason is printed once. The kernel's time covers bpf_check() from its start to the statistics line; ours covers
/// <see cref="BpfVerifier.Verify(ProgramSpec, IReadOnlyList{Vm.Maps.MapSpec}, VerifierOptions?)"/>, CFG check included.</para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(VerifierCorpusConfig))]
public class VerifierCorpusBenchmarks
{
    private ProgramSpec _spec = null!;
    private BpfObject _obj = null!;
    private VerifierOptions _options = null!;

    /// <summary>"object/program" for every program of every corpus/xdp object (those whose name contains one of the
    /// comma-separated words of VETHXDP_BENCH_PROGRAMS when it is set: BenchmarkDotNet's --filter cannot select parameters).</summary>
    public static IEnumerable<string> Programs() => VerifierCorpus.Programs().Keys.Where(BenchSelection.Selected);

    /// <summary>The case: "object/program".</summary>
    [ParamsSource(nameof(Programs))]
    public string Program { get; set; } = "xdp_pass/xdp_pass";

    /// <summary>Loads the object and verifies once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (_obj, _spec, _options) = VerifierCorpus.Open(Program);
        var r = Verify();
        Console.WriteLine($"// {Program}: {(r.Accepted ? "accepted" : "rejected: " + r.Error!.Message.Split('\n')[0])}, {r.Stats.InsnProcessed} processed insns");
    }

    /// <summary>One verification of the program, without a log.</summary>
    [Benchmark]
    public VerificationResult Verify() => BpfVerifier.Verify(_spec, _obj.Maps, _options);
}

/// <summary>The corpus programs, as the verifier benchmark and its columns open them.</summary>
internal static class VerifierCorpus
{
    private static readonly Lazy<Dictionary<string, (string Path, string Program, bool DeviceBound)>> s_programs = new(Read);
    private static readonly Dictionary<string, VerificationResult> s_ours = new(StringComparer.Ordinal);

    /// <summary>"object/program" -> the v3 object's path, the program's name, whether it loads device-bound.</summary>
    public static Dictionary<string, (string Path, string Program, bool DeviceBound)> Programs() => s_programs.Value;

    /// <summary>The object, the program and the options to verify it with (no log).</summary>
    public static (BpfObject Object, ProgramSpec Spec, VerifierOptions Options) Open(string key)
    {
        var (path, program, deviceBound) = Programs()[key];
        var obj = ElfObjectReader.Load(path);
        var spec = obj.Programs.First(p => p.Name == program);
        return (obj, spec, new VerifierOptions { LogLevel = VerifierLogLevel.None, DeviceBound = deviceBound });
    }

    /// <summary>Our verification of <paramref name="key"/> (memoized: the columns ask for it in the summary's process).</summary>
    public static VerificationResult Ours(string key)
    {
        lock (s_ours)
        {
            if (!s_ours.TryGetValue(key, out var r))
            {
                var (obj, spec, options) = Open(key);
                r = BpfVerifier.Verify(spec, obj.Maps, options);
                s_ours[key] = r;
            }

            return r;
        }
    }

    private static Dictionary<string, (string, string, bool)> Read()
    {
        string corpus = FindCorpus();
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(corpus, "manifest.json")))!;
        var result = new Dictionary<string, (string, string, bool)>(StringComparer.Ordinal);
        foreach (var o in root["objects"]!.AsArray())
        {
            string name = (string)o!["name"]!;
            string path = Path.Combine(corpus, (string)o["objects"]!["v3"]!);
            bool deviceBound = o["needs"]?.AsArray().Any(n => (string?)n == "device-bound-load") ?? false;
            foreach (var prog in o["programs"]!.AsArray())
            {
                string program = (string)prog!["name"]!;
                result[$"{name}/{program}"] = (path, program, deviceBound);
            }
        }

        return result;
    }

    // Above the binaries, or above the current directory (for a copy of the binaries run from the repository).
    private static string FindCorpus()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "VethXdp.sln")))
                {
                    return Path.Combine(d.FullName, "corpus");
                }
            }
        }

        throw new InvalidOperationException("corpus/ not found above " + AppContext.BaseDirectory + " or the current directory");
    }
}

/// <summary>VETHXDP_BENCH_PROGRAMS: comma-separated words; when set, only the cases whose program contains one of them run.</summary>
internal static class BenchSelection
{
    private static readonly string[] s_words =
        (Environment.GetEnvironmentVariable("VETHXDP_BENCH_PROGRAMS") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>True when <paramref name="key"/> ("object/program") is selected.</summary>
    public static bool Selected(string key) => s_words.Length == 0 || s_words.Any(w => key.Contains(w, StringComparison.Ordinal));
}

/// <summary>What the running kernel's verifier reports for the corpus programs: each object loaded
/// <see cref="Loads"/> times with BPF_LOG_STATS, every program's "processed N insns" and the median of its
/// "verification time N usec".</summary>
internal static partial class KernelVerification
{
    /// <summary>Loads per object (the median time is reported).</summary>
    public const int Loads = 11;

    private static readonly Dictionary<string, Dictionary<string, Result>> s_byObject = new(StringComparer.Ordinal);
    private static readonly Lazy<(bool Permitted, string Reason)> s_permitted = new(() =>
    {
        bool ok = KernelProbe.IsBpfPermitted(out string reason);
        if (!ok)
        {
            Console.WriteLine($"// kernel columns skipped: {reason}");
        }

        return (ok, reason);
    });

    /// <summary>The kernel's result for "object/program", or null where bpf() is refused or the object does not load
    /// (the reason is printed once).</summary>
    public static Result? For(string key)
    {
        if (!s_permitted.Value.Permitted)
        {
            return null;
        }

        var (path, program, deviceBound) = VerifierCorpus.Programs()[key];
        if (deviceBound)
        {
            // KernelObject loads no program bound to a device (prog_ifindex), which the XDP metadata kfuncs need.
            return new Result(null, null, "needs a device-bound load");
        }

        lock (s_byObject)
        {
            if (!s_byObject.TryGetValue(path, out var programs))
            {
                programs = Measure(path);
                s_byObject[path] = programs;
            }

            return programs.TryGetValue(program, out var r) ? r : null;
        }
    }

    private static Dictionary<string, Result> Measure(string path)
    {
        var times = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        var insns = new Dictionary<string, int>(StringComparer.Ordinal);
        var refused = new Dictionary<string, string>(StringComparer.Ordinal);
        BpfObject obj;
        try
        {
            obj = ElfObjectReader.Load(path);
        }
        catch (ElfLoadException e)
        {
            Console.WriteLine($"// kernel: {Path.GetFileName(path)}: {e.Message}");
            return [];
        }

        // The whole object per load (tail calls and maps of programs need their targets loaded); when the kernel refuses
        // it, one program per load, so a program the kernel refuses does not take the others with it.
        bool whole = true;
        for (int i = 0; i < Loads; i++)
        {
            if (whole)
            {
                try
                {
                    using var k = KernelObject.Load(obj, new KernelLoadOptions { LogLevel = 4 });
                    foreach (string name in k.ProgramNames)
                    {
                        Record(name, k.ProgramLog(name), times, insns);
                    }

                    continue;
                }
                catch (Exception e) when (e is KernelBpfException or NotSupportedException or ArgumentException)
                {
                    whole = false;
                }
            }

            foreach (var prog in obj.Programs)
            {
                if (refused.ContainsKey(prog.Name))
                {
                    continue;
                }

                try
                {
                    using var k = KernelObject.Load(obj, new KernelLoadOptions { Programs = [prog.Name], LogLevel = 4 });
                    Record(prog.Name, k.ProgramLog(prog.Name), times, insns);
                }
                catch (Exception e) when (e is KernelBpfException or NotSupportedException or ArgumentException)
                {
                    string why = e is KernelBpfException kb ? (kb.VerifierMessage ?? kb.Message) : e.Message;
                    refused[prog.Name] = why.Split('\n')[0];
                    Console.WriteLine($"// kernel: {Path.GetFileName(path)}/{prog.Name}: not loaded: {refused[prog.Name]}");
                }
            }
        }

        var result = new Dictionary<string, Result>(StringComparer.Ordinal);
        foreach (var (name, list) in times)
        {
            list.Sort();
            result[name] = new Result(insns[name], list[list.Count / 2], null);
        }

        foreach (var (name, why) in refused)
        {
            result.TryAdd(name, new Result(null, null, why));
        }

        return result;
    }

    private static void Record(string program, string log, Dictionary<string, List<long>> times, Dictionary<string, int> insns)
    {
        if (ParseTime(log) is { } usec && ParseInsns(log) is { } n)
        {
            (times.TryGetValue(program, out var l) ? l : times[program] = []).Add(usec);
            insns[program] = n;
        }
    }

    private static long? ParseTime(string log) =>
        TimeLine().Match(log) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    private static int? ParseInsns(string log) =>
        InsnsLine().Match(log) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"^verification time (\d+) usec", RegexOptions.Multiline)]
    private static partial Regex TimeLine();

    [GeneratedRegex(@"^processed (\d+) insns", RegexOptions.Multiline)]
    private static partial Regex InsnsLine();

    /// <summary>The kernel's numbers for one program.</summary>
    /// <param name="Insns">processed insns, or null when it did not load.</param>
    /// <param name="TimeUsec">The median verification time in microseconds, or null.</param>
    /// <param name="Refused">Why the kernel did not load it, or null.</param>
    internal sealed record Result(int? Insns, long? TimeUsec, string? Refused);
}

/// <summary>A short job and the columns of <see cref="VerifierCorpusBenchmarks"/>.</summary>
internal sealed class VerifierCorpusConfig : ManualConfig
{
    public VerifierCorpusConfig()
    {
        // In process: an out-of-process run rebuilds the project, which on the shared machine must go through the build lock.
        AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithId("short-inprocess"));
        WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(48));
        AddColumn(
            new VerifierColumn("Verdict", "ours (accepted/rejected), and the kernel's when it differs", (k, _) =>
            {
                var ours = VerifierCorpus.Ours(k);
                var kernel = KernelVerification.For(k);
                string mine = ours.Accepted ? "accepted" : "rejected";
                string theirs = kernel is null ? "-" : kernel.Refused is null ? "accepted" : "rejected";
                return kernel is null || mine == theirs ? mine
                    : kernel.Refused == "needs a device-bound load" ? $"{mine} (kernel: not loaded, device-bound)"
                    : $"{mine} (kernel {theirs})";
            }),
            new VerifierColumn("Insns", "our processed insns", (k, _) => Num(VerifierCorpus.Ours(k).Stats.InsnProcessed)),
            new VerifierColumn("ns/insn", "our Mean / our processed insns", (k, mean) =>
                mean is { } m && VerifierCorpus.Ours(k).Stats.InsnProcessed is > 0 and var n ? Num(m / n, "F1") : "-"),
            new VerifierColumn("K insns", "the kernel's processed insns", (k, _) => KernelVerification.For(k)?.Insns is { } n ? Num(n) : "-"),
            new VerifierColumn("K time", "the kernel's verification time (median of the loads), us", (k, _) =>
                KernelVerification.For(k)?.TimeUsec is { } t ? Num(t) + " us" : "-"),
            new VerifierColumn("Insns/K", "our processed insns / the kernel's (goal: within 0.90-1.10)", (k, _) =>
                KernelVerification.For(k)?.Insns is { } n and > 0 ? Num((double)VerifierCorpus.Ours(k).Stats.InsnProcessed / n, "F2") : "-"),
            new VerifierColumn("Time/K", "our Mean / the kernel's verification time (goal: at most 2)", (k, mean) =>
                mean is { } m && KernelVerification.For(k)?.TimeUsec is { } t ? Num(m / 1000.0 / Math.Max(1, t), "F2") : "-"));
    }

    private static string Num(double v, string format = "N0") => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>A column computed from the case's program and its Mean (ns).</summary>
    private sealed class VerifierColumn(string name, string legend, Func<string, double?, string> value) : IColumn
    {
        public string Id => "VerifierCorpus." + name;

        public string ColumnName => name;

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => name != "Verdict";

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => legend;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            string key = (string)benchmarkCase.Parameters["Program"];
            double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
            return value(key, mean);
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
