using BenchmarkDotNet.Attributes;
using VethXdp.Jit;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Benchmarks;

/// <summary>Compile time per corpus program: <see cref="JitCompiler.Compile(ExecutableProgram, HelperTable?, JitOptions?)"/>
/// (BPF to IL, the DynamicMethod and its delegate), and compile plus the first run (which makes the .NET JIT compile
/// the dynamic method to machine code).</summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/VethXdp.Benchmarks -- --filter '*JitCompileBenchmarks*'</c>.
/// Compilation allocates (IL, the method, its delegate); the numbers say how much. The checked mode is measured; the
/// unchecked one compiles a <see cref="VerifiedProgram"/> once the verifier issues them.</remarks>
[MemoryDiagnoser]
public class JitCompileBenchmarks
{
    private LoadedObject _loaded = null!;
    private ExecutableProgram _program = null!;
    private readonly byte[] _frame = new byte[64];

    /// <summary>Every corpus object with a manifest run (v4 build).</summary>
    public static IEnumerable<string> Objects() => CorpusEngineBenchmarks.Objects();

    /// <summary>The corpus object; its manifest run's program is compiled.</summary>
    [ParamsSource(nameof(Objects))]
    public string Object { get; set; } = "xdp_pass";

    /// <summary>Loads the object and prepares the program (map references resolved) once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var run = CorpusManifest.Runs().First(r => r.Object == Object);
        _loaded = LoadedObject.Open(Path.Combine(CorpusManifest.CorpusDir, "xdp", Object + ".v4.o"), new LoadOptions { PossibleCpus = 2 });
        _program = _loaded.Prepare(_loaded.GetProgram(run.Program));
        _frame[12] = 0x08;
    }

    /// <summary>Releases the maps.</summary>
    [GlobalCleanup]
    public void Cleanup() => _loaded.Dispose();

    /// <summary>BPF to IL: the DynamicMethod and its delegate (not yet compiled to machine code).</summary>
    [Benchmark]
    public int Compile() => JitCompiler.Compile(_program, _loaded.Helpers).IlSize;

    /// <summary>Compile, make an engine and run once: the .NET JIT compiles the dynamic method on that first call.</summary>
    [Benchmark]
    public ulong CompileAndFirstRun()
    {
        var env = new RuntimeEnv { Maps = _loaded.Maps, PossibleCpus = _loaded.PossibleCpus };
        _loaded.Maps.RegisterRegions(env.Regions);
        using var engine = new JitEngine(JitCompiler.Compile(_program, _loaded.Helpers), null, env);
        return engine.RunXdp(_frame, 1, 0).R0;
    }
}
