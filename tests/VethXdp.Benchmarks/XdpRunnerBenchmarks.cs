using BenchmarkDotNet.Attributes;
using VethXdp.Vm.Runtime;

namespace VethXdp.Benchmarks;

/// <summary>Per-packet cost of running corpus objects with <see cref="XdpRunner"/> (the checked interpreter), as
/// <c>vethxdp run</c> does.</summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/VethXdp.Benchmarks -- --filter '*XdpRunnerBenchmarks*'</c>.
/// Each invocation runs a batch of 1,000 packets (OperationsPerInvoke), so Mean reads as ns per packet; the memory
/// diagnoser must show 0 B allocated per packet.</remarks>
[MemoryDiagnoser]
public class XdpRunnerBenchmarks
{
    private const int Batch = 1000;

    private LoadedObject _loaded = null!;
    private XdpRunner _runner = null!;

    // A 64-byte UDP frame (10.0.0.1:54321 -> 10.0.0.2:53).
    private readonly byte[] _frame = Convert.FromHexString(
        "020000000002020000000001080045000032000100004011f96c0a0000010a000002d4310035001e0000" + new string('0', 44));

    /// <summary>The corpus object to run.</summary>
    [Params("xdp_paper_drop", "xdp_port_filter", "xdp_flow_counter", "xdp_subprogs")]
    public string Object { get; set; } = "xdp_paper_drop";

    /// <summary>Loads the object (v4 build) and prepares its program once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var path = Path.Combine(FindCorpus(), "xdp", Object + ".v4.o");
        _loaded = LoadedObject.Open(path, new LoadOptions { PossibleCpus = 2 });
        _runner = new XdpRunner(_loaded, Object);
        _runner.Run(_frame);
    }

    /// <summary>Releases the runner and the maps.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _runner.Dispose();
        _loaded.Dispose();
    }

    /// <summary>1,000 packets through the program.</summary>
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
