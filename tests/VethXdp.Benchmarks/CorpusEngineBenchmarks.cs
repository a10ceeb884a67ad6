using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using VethXdp.Jit;
using VethXdp.Vm.Pcap;
using VethXdp.Vm.Runtime;

namespace VethXdp.Benchmarks;

/// <summary>Nanoseconds per run of every corpus program on each engine, over the packets its first manifest run lists
/// (corpus/manifest.json: program, pcap, initial maps), measured as <c>vethxdp bench</c> and BPF_PROG_TEST_RUN's
/// repeat measure it: each frame loaded once, the program run again and again on it, nothing reset between runs.</summary>
/// <remarks>
/// <para>Run: <c>dotnet run -c Release --project tests/VethXdp.Benchmarks -- --filter '*CorpusEngineBenchmarks*'</c>
/// (add <c>--anyCategories</c> or narrow with e.g. <c>--filter '*CorpusEngineBenchmarks*xdp_pass*'</c>).</para>
/// <para>One invocation is <see cref="RunsPerInvoke"/> runs spread evenly over the case's frames (the frames BPF_PROG_TEST_RUN
/// accepts), so Mean reads as ns per run averaged over the packets; the memory diagnoser must show 0 B. Each frame has
/// its own <see cref="XdpBench"/> (its own engine) over the one loaded object, so maps are shared as in the kernel.
/// Frames keep what earlier runs did to them for the whole benchmark, as with a large repeat; a program that faults
/// on its own output makes its case fail. The run's environment is the default one (no lab network).</para>
/// </remarks>
[MemoryDiagnoser]
public class CorpusEngineBenchmarks
{
    /// <summary>Runs per invocation, spread over the frames.</summary>
    public const int RunsPerInvoke = 4096;

    /// <summary>Measure the unchecked JIT too. Off until the verifier issues VerifiedProgram tokens (the <c>jit</c>
    /// engine refuses every program today); then add the unchecked factory in <see cref="Factory"/>.</summary>
    public const bool IncludeUncheckedJit = false;

    private LoadedObject _loaded = null!;
    private XdpBench[] _benches = [];
    private long[] _quota = [];

    /// <summary>Every corpus object with a manifest run (v4 build).</summary>
    public static IEnumerable<string> Objects() => CorpusManifest.Runs().Select(r => r.Object);

    /// <summary>The engines: interp, jit-checked (and jit once programs can be verified).</summary>
    public static IEnumerable<string> Engines() =>
        IncludeUncheckedJit ? ["interp", "jit-checked", "jit"] : ["interp", "jit-checked"];

    /// <summary>The corpus object.</summary>
    [ParamsSource(nameof(Objects))]
    public string Object { get; set; } = "xdp_pass";

    /// <summary>The engine.</summary>
    [ParamsSource(nameof(Engines))]
    public string Engine { get; set; } = "interp";

    /// <summary>Loads the object and its initial maps, checks each frame once and loads it into its own bench.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var run = CorpusManifest.Runs().First(r => r.Object == Object);
        _loaded = LoadedObject.Open(Path.Combine(CorpusManifest.CorpusDir, "xdp", Object + ".v4.o"), new LoadOptions { PossibleCpus = 2 });
        if (run.Maps is { } maps)
        {
            // The manifest's maps name no types; --maps-in's format wants them.
            var byName = new Dictionary<string, Vm.Maps.BpfMap>(StringComparer.Ordinal);
            foreach (var m in _loaded.Maps)
            {
                byName.TryAdd(m.Name, m);
            }

            var typed = new JsonObject();
            foreach (var (name, value) in JsonNode.Parse(maps)!.AsObject())
            {
                var entry = value!.DeepClone().AsObject();
                entry["type"] = Vm.Maps.MapTypeNames.ToName(byName[name].Type);
                typed[name] = entry;
            }

            MapsJson.Apply(new JsonObject { ["maps"] = typed }.ToJsonString(), "manifest.json", byName, _loaded.Names);
        }

        var benches = new List<XdpBench>();
        using (var reader = PcapReader.Open(Path.Combine(CorpusManifest.CorpusDir, run.Pcap)))
        {
            foreach (var record in reader.ReadAll())
            {
                var bench = new XdpBench(_loaded, run.Program, null, Factory(), new XdpBenchOptions { Repeat = RunsPerInvoke });
                if (bench.Load(record.Data.Span) is null)
                {
                    bench.RunTimed(1);
                    benches.Add(bench);
                }
                else
                {
                    bench.Dispose();
                }
            }
        }

        if (benches.Count == 0)
        {
            throw new InvalidOperationException($"{Object}: no frame of {run.Pcap} runs on {Engine}");
        }

        _benches = [.. benches];
        _quota = new long[_benches.Length];
        for (int i = 0; i < _quota.Length; i++)
        {
            _quota[i] = (RunsPerInvoke / _quota.Length) + (i < RunsPerInvoke % _quota.Length ? 1 : 0);
        }
    }

    /// <summary>Releases the engines and the maps.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var b in _benches)
        {
            b.Dispose();
        }

        _loaded.Dispose();
    }

    /// <summary><see cref="RunsPerInvoke"/> runs over the frames: Mean is ns per run.</summary>
    [Benchmark(OperationsPerInvoke = RunsPerInvoke)]
    public long RunPerPacket()
    {
        long ticks = 0;
        var benches = _benches;
        var quota = _quota;
        for (int i = 0; i < benches.Length; i++)
        {
            ticks += benches[i].RunTimed(quota[i]);
        }

        return ticks;
    }

    private IBpfEngineFactory Factory() => Engine switch
    {
        "interp" => InterpreterEngineFactory.Instance,
        "jit-checked" => JitEngineFactory.Checked,
        _ => throw new NotSupportedException($"engine {Engine}: programs cannot be verified yet"),
    };
}

/// <summary>The corpus manifest's runs, for the benchmarks: the first run of each object.</summary>
internal static class CorpusManifest
{
    private static readonly Lazy<IReadOnlyList<Run>> s_runs = new(Read);

    /// <summary>The corpus directory (found above the benchmark's binaries).</summary>
    public static string CorpusDir { get; } = FindCorpus();

    /// <summary>The first run of every object that has one, in manifest order.</summary>
    public static IReadOnlyList<Run> Runs() => s_runs.Value;

    private static List<Run> Read()
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(CorpusDir, "manifest.json")))!;
        var runs = new List<Run>();
        foreach (var o in root["objects"]!.AsArray())
        {
            if (o!["runs"] is not JsonArray list || list.Count == 0)
            {
                continue;
            }

            var r = list[0]!;
            runs.Add(new Run((string)o["name"]!, (string)r["program"]!, (string)r["pcap"]!, r["maps"]?.ToJsonString()));
        }

        return runs;
    }

    private static string FindCorpus()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "VethXdp.sln")))
            {
                return Path.Combine(d.FullName, "corpus");
            }
        }

        throw new InvalidOperationException("corpus/ not found above " + AppContext.BaseDirectory);
    }

    /// <summary>One manifest run.</summary>
    /// <param name="Object">The object's name (corpus/xdp/NAME.v4.o).</param>
    /// <param name="Program">The program's function name.</param>
    /// <param name="Pcap">The capture, relative to corpus/.</param>
    /// <param name="Maps">The initial maps as --maps-in JSON, or null.</param>
    internal sealed record Run(string Object, string Program, string Pcap, string? Maps);
}
