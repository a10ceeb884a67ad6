using BenchmarkDotNet.Attributes;
using VethXdp.Jit;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Benchmarks;

/// <summary>The engines side by side on corpus programs: ns per run (BPF_PROG_TEST_RUN's repeat: one frame loaded once,
/// the program run again and again on it), ns per packet through <see cref="XdpRunner"/> (the frame loaded for every
/// packet, as <c>vethxdp run</c> does), and the cost of making an engine (for the JIT: compiling the program to IL and
/// the first run, which makes the .NET JIT compile the dynamic method).</summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/VethXdp.Benchmarks -- --filter '*JitBenchmarks*'</c>.
/// OperationsPerInvoke is the batch size, so Mean reads as ns per run / per packet; the memory diagnoser must show 0 B
/// for the run benchmarks. <c>jit</c> runs the program the verifier sealed (Sealing.TryVerify).</remarks>
[MemoryDiagnoser]
public class JitBenchmarks
{
    private const int Batch = 1000;

    private LoadedObject _loaded = null!;
    private XdpRunner _runner = null!;
    private readonly XdpBuffer _buffer = new();

    // A 64-byte UDP frame (10.0.0.1:54321 -> 10.0.0.2:53).
    private readonly byte[] _frame = Convert.FromHexString(
        "020000000002020000000001080045000032000100004011f96c0a0000010a000002d4310035001e0000" + new string('0', 44));

    /// <summary>The corpus object (v4 build); its program of the same name runs.</summary>
    [Params("xdp_pass", "xdp_paper_drop", "xdp_paper_tx", "xdp_paper_redirect", "xdp_port_filter", "xdp_flow_counter", "xdp_subprogs", "xdp_icmp_echo")]
    public string Object { get; set; } = "xdp_pass";

    /// <summary>The engine.</summary>
    [Params("interp", "jit-checked", "jit")]
    public string Engine { get; set; } = "interp";

    private IBpfEngineFactory Factory { get; set; } = InterpreterEngineFactory.Instance;

    /// <summary>Loads the object, makes the runner on the engine, loads the frame once for the repeat benchmark.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var path = Path.Combine(FindCorpus(), "xdp", Object + ".v4.o");
        _loaded = LoadedObject.Open(path, new LoadOptions { PossibleCpus = 2 });
        Factory = Engine switch
        {
            "interp" => InterpreterEngineFactory.Instance,
            "jit-checked" => JitEngineFactory.Checked,
            _ => JitEngineFactory.Unchecked([Seal()]),
        };
        _runner = new XdpRunner(_loaded, Object, null, Factory);
        var first = _runner.Run(_frame);
        if (first.Error is { } e)
        {
            throw new InvalidOperationException($"{Object} on {Engine}: {e}");
        }

        if (_buffer.Load(_frame, 1, 0) != 0)
        {
            throw new InvalidOperationException("the frame does not load");
        }

        RunRepeat();
    }

    /// <summary>Releases the runner and the maps.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _runner.Dispose();
        _loaded.Dispose();
    }

    /// <summary>1,000 runs of the program on one loaded frame (neither the context nor the bytes reset between runs).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public ulong RunRepeat()
    {
        var engine = _runner.Engine;
        var env = engine.Env;
        ulong last = 0;
        for (int i = 0; i < Batch; i++)
        {
            env.BeginPacket();
            last = engine.RunXdp(_buffer).R0;
        }

        return last;
    }

    /// <summary>1,000 packets through the runner (frame loaded, timers, results).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public uint RunPacket()
    {
        uint last = 0;
        for (int i = 0; i < Batch; i++)
        {
            last = _runner.Run(_frame).Retval;
        }

        return last;
    }

    /// <summary>Making an engine for the program and running it once (for the JIT: IL emission, the .NET JIT's
    /// compilation of the dynamic method, the first run).</summary>
    [Benchmark]
    public ulong CreateEngineAndRunOnce()
    {
        var env = new Vm.Helpers.RuntimeEnv { Maps = _loaded.Maps, PossibleCpus = _loaded.PossibleCpus };
        _loaded.Maps.RegisterRegions(env.Regions);
        using var engine = Factory.Create(_runner.Executable, _loaded.Helpers, null, env);
        return engine.RunXdp(_frame, 1, 0).R0;
    }

    // The verifier's token for the program, as the commands make it for the default engine.
    private Vm.Programs.VerifiedProgram Seal()
    {
        var spec = _loaded.GetProgram(Object);
        var maps = _loaded.Maps.Select(m => m.Spec).ToArray();
        return Verifier.Sealing.TryVerify(spec, maps, _loaded.Prepare(spec), null, out var result)
            ?? throw new InvalidOperationException($"{Object}: the verifier rejects it: {result.Error}");
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
}
