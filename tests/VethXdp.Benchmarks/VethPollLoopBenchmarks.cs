using BenchmarkDotNet.Attributes;
using VethXdp.Devices;
using VethXdp.Devices.Scenarios;
using VethXdp.Jit;
using VethXdp.Vm.Runtime;

namespace VethXdp.Benchmarks;

/// <summary>The paper's three tests through NIC -> devmap -> veth -> XDP, one CPU: ns per frame and bytes allocated
/// (steady state must show 0 B). One invocation runs rounds until 64 * Rounds frames have been generated.</summary>
[MemoryDiagnoser]
public class VethPollLoopBenchmarks
{
    private const int Rounds = 1000;
    private SimWorld _world = null!;

    /// <summary>The paper's test and mode: corpus/scenarios/paper-TEST-1flow.json.</summary>
    [Params("drop-native", "tx-native", "redirect-native", "drop-generic")]
    public string Test { get; set; } = "drop-native";

    [Params("jit-checked", "interp")]
    public string Engine { get; set; } = "jit-checked";

    [GlobalSetup]
    public void Setup()
    {
        string dir = AppContext.BaseDirectory;
        while (!Directory.Exists(Path.Combine(dir, "corpus", "scenarios")))
        {
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("corpus/scenarios not found");
        }

        string path = Path.Combine(dir, "corpus", "scenarios", "paper-" + Test + "-1flow.json");
        _world = ScenarioBuilder.Build(path, r => r.Engine == "interp" ? InterpreterEngineFactory.Instance : JitEngineFactory.Checked, long.MaxValue / 2, Engine);
    }

    [GlobalCleanup]
    public void Cleanup() => _world.Dispose();

    [Benchmark(OperationsPerInvoke = Rounds * 64)]
    public void PollRounds()
    {
        var cpu = _world.Cpu(0);
        var source = _world.Source!;
        for (int i = 0; i < Rounds; i++)
        {
            source.Deliver(cpu);
            cpu.NetRxAction();
        }
    }
}
