using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using VethXdp.Jit;
using VethXdp.Testing;
using VethXdp.Testing.Model;
using VethXdp.Verifier;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Benchmarks;

/// <summary>Issue 8: a 10,000-frame FsCheck property ("never XDP_ABORTED" over <c>Frames.Spec()</c>, one frame in five
/// malformed) per corpus program (v3 objects), through VethXdp.Testing's public API on the unchecked JIT. Mean is the
/// time of one whole property; <see cref="RunOnly"/> runs the same number of pre-generated frames without FsCheck, and
/// <see cref="FrameGenerationBenchmarks"/> measures generation alone, so the difference is FsCheck's bookkeeping.</summary>
/// <remarks>
/// <para>Run: <c>dotnet run -c Release --project tests/VethXdp.Benchmarks -- --filter '*PropertyBenchmarks*' '*FrameGenerationBenchmarks*'</c>.</para>
/// <para>Every program of every corpus/xdp object is a case, except devmap and cpumap entry programs (BPF_PROG_TEST_RUN,
/// and so <see cref="XdpRunner"/>, refuses them); a program our verifier rejects runs on the checked JIT instead and
/// the setup line it prints says so (<see cref="Engine"/>). The object is loaded once, with its manifest maps, and the JIT compiles once:
/// an invocation is the property alone, with a fixed seed, so every invocation runs the same frames.</para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(PropertyConfig))]
public class PropertyBenchmarks
{
    /// <summary>Frames per property.</summary>
    public const int Frames = 10_000;

    /// <summary>The seed every invocation replays.</summary>
    public const string Replay = "1234567890123456789,9876543210987654321";

    private XdpProperty _property = null!;
    private XdpCheck _check = null!;
    private IReadOnlyList<Frame> _frames = [];

    /// <summary>"object/program" for every program BPF_PROG_TEST_RUN can run (narrowed by VETHXDP_BENCH_PROGRAMS, as
    /// <see cref="VerifierCorpusBenchmarks.Programs"/>).</summary>
    public static IEnumerable<string> Programs() => PropertyCorpus.Programs().Keys.Where(BenchSelection.Selected);

    /// <summary>The case: "object/program".</summary>
    [ParamsSource(nameof(Programs))]
    public string Program { get; set; } = "xdp_pass/xdp_pass";

    /// <summary>The engine the case ran on: <c>jit</c>, or <c>jit-checked</c> when our verifier rejects the program.</summary>
    public string Engine => _property?.Engine ?? "?";

    /// <summary>Loads the object and its maps, verifies the program, compiles it, and runs one property to check it holds.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _property = PropertyCorpus.Open(Program);
        _check = XdpAssert.NeverAborted();
        _frames = Testing.Frames.Spec().Sample(Frames, seed: 42);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var report = Property();
        Console.WriteLine($"// {Program} on {_property.Engine}: {report.Message.Split('\n')[0]} (first property: {clock.Elapsed.TotalSeconds:F3} s)");
    }

    /// <summary>Frees the maps.</summary>
    [GlobalCleanup]
    public void Cleanup() => _property.Dispose();

    /// <summary>One 10,000-frame property: generation, runs, checks and FsCheck's bookkeeping.</summary>
    [Benchmark]
    public XdpCheckReport Property() => _property.Report(Testing.Frames.Spec(), _check, maxTest: Frames, replay: Replay);

    /// <summary>The runs and checks alone: 10,000 pre-generated frames rendered and run, no FsCheck.</summary>
    [Benchmark]
    public int RunOnly()
    {
        int failed = 0;
        var frames = _frames;
        for (int i = 0; i < frames.Count; i++)
        {
            var c = _property.RunFrame(frames[i]);
            failed += _check.Check(in c) is null ? 0 : 1;
        }

        return failed;
    }
}

/// <summary>Generating 10,000 frames of <c>Frames.Spec()</c> (sizes 0 to 100, as a property's grow): the model alone
/// (<see cref="Generate"/>), and through FsCheck's generator (<see cref="GenerateThroughFsCheck"/>).</summary>
[MemoryDiagnoser]
[Config(typeof(PropertyConfig))]
public class FrameGenerationBenchmarks
{
    private readonly byte[] _buffer = new byte[16384];

    /// <summary>10,000 frames from the model's generator, each rendered once (as a property renders it).</summary>
    [Benchmark]
    public int Generate()
    {
        var frames = Testing.Frames.Spec().Sample(PropertyBenchmarks.Frames, seed: 42);
        int bytes = 0;
        for (int i = 0; i < frames.Count; i++)
        {
            bytes += frames[i].WriteTo(_buffer);
        }

        return bytes;
    }

    /// <summary>10,000 frames from FsCheck's generator (the one a property uses), each rendered once.</summary>
    [Benchmark]
    public int GenerateThroughFsCheck()
    {
        var gen = Testing.Frames.Spec().ToGen();
        int bytes = 0;
        for (int size = 0; size < 100; size++)
        {
            foreach (var f in FsCheck.Fluent.Gen.Sample(gen, size, PropertyBenchmarks.Frames / 100))
            {
                bytes += f.WriteTo(_buffer);
            }
        }

        return bytes;
    }
}

/// <summary>A short job, in process (an out-of-process run rebuilds the project, which on the shared machine must go
/// through the build lock).</summary>
internal sealed class PropertyConfig : ManualConfig
{
    public PropertyConfig()
    {
        AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithId("short-inprocess"));
        WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(48));
    }
}

/// <summary>The corpus programs for the property benchmarks, and how to open one as a property on the unchecked JIT.</summary>
internal static class PropertyCorpus
{
    private static readonly Lazy<Dictionary<string, (string Path, string Program, string? Maps, bool DeviceBound)>> s_programs = new(Read);

    /// <summary>"object/program" -> the v3 object's path, the program, the manifest's maps (--maps-in JSON, untyped),
    /// and whether the object needs a device-bound load (the XDP metadata kfuncs).</summary>
    public static Dictionary<string, (string Path, string Program, string? Maps, bool DeviceBound)> Programs() => s_programs.Value;

    /// <summary>The property of <paramref name="key"/>: its maps filled from the manifest, on the unchecked JIT when our
    /// verifier accepts the program (else the checked JIT).</summary>
    public static XdpProperty Open(string key)
    {
        var (path, program, maps, deviceBound) = Programs()[key];
        var p = XdpProperty.For(path, program, new LoadOptions { PossibleCpus = 2, DeviceBound = deviceBound });
        if (maps is not null)
        {
            p.WithMapsJson(Typed(JsonNode.Parse(maps)!.AsObject(), p.Maps));
        }

        var spec = p.Object.GetProgram(program);
        var mapSpecs = new MapSpec[p.Maps.Count];
        for (int i = 0; i < mapSpecs.Length; i++)
        {
            mapSpecs[i] = p.Maps[i].Spec;
        }

        VerifiedProgram? token = Sealing.TryVerify(spec, mapSpecs, p.Object.Prepare(spec),
            new VerifierOptions { DeviceBound = p.Object.Options.DeviceBound }, out _);
        return p.WithEngine(token is null ? JitEngineFactory.Checked : JitEngineFactory.Unchecked([token]));
    }

    private static Dictionary<string, (string, string, string?, bool)> Read()
    {
        string corpus = FindCorpus();
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(corpus, "manifest.json")))!;
        var result = new Dictionary<string, (string, string, string?, bool)>(StringComparer.Ordinal);
        foreach (var o in root["objects"]!.AsArray())
        {
            string name = (string)o!["name"]!;
            string path = Path.Combine(corpus, (string)o["objects"]!["v3"]!);
            bool deviceBound = o["needs"]?.AsArray().Any(n => (string?)n == "device-bound-load") ?? false;
            foreach (var prog in o["programs"]!.AsArray())
            {
                string section = (string)prog!["section"]!;
                if (section.StartsWith("xdp/devmap", StringComparison.Ordinal) || section.StartsWith("xdp/cpumap", StringComparison.Ordinal))
                {
                    continue;
                }

                string program = (string)prog["name"]!;
                string? maps = null;
                foreach (var run in o["runs"]?.AsArray() ?? [])
                {
                    if ((string)run!["program"]! == program && run["maps"] is JsonObject m)
                    {
                        maps = m.ToJsonString();
                        break;
                    }
                }

                result[$"{name}/{program}"] = (path, program, maps, deviceBound);
            }
        }

        return result;
    }

    // The manifest's maps leave out each map's type, which the --maps-in format states.
    private static string Typed(JsonObject maps, MapSet set)
    {
        var typed = new JsonObject();
        foreach (var (mapName, value) in maps)
        {
            var entry = value!.DeepClone().AsObject();
            foreach (var m in set)
            {
                if (m.Name == mapName)
                {
                    entry["type"] = MapTypeNames.ToName(m.Type);
                    break;
                }
            }

            typed[mapName] = entry;
        }

        return new JsonObject { ["maps"] = typed }.ToJsonString();
    }

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
