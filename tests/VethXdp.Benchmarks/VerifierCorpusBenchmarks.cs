using BenchmarkDotNet.Attributes;
using VethXdp.Verifier;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Elf;

namespace VethXdp.Benchmarks;

/// <summary>Time to verify corpus programs (no log), per program and — with <see cref="ProcessedInsns"/> — per
/// processed instruction. Compare with the kernel's own "verification time" from `vethxdp verify --stats` against
/// `bpftool prog load` + log level 4 on the same objects.</summary>
[MemoryDiagnoser]
public class VerifierCorpusBenchmarks
{
    private BpfObject _obj = null!;

    /// <summary>The corpus object.</summary>
    [Params("xdp_paper_drop.v4.o", "xdp_l4_filter.v4.o", "xdp_flow_counter.v4.o", "xdp_strings.v4.o", "xdp_task_info.v4.o")]
    public string Object { get; set; } = string.Empty;

    /// <summary>Instructions the verifier processes for the program (printed once at setup).</summary>
    public int ProcessedInsns { get; private set; }

    /// <summary>Loads the object and verifies once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        string dir = AppContext.BaseDirectory;
        while (!Directory.Exists(Path.Combine(dir, "corpus")))
        {
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("corpus/ not found above the benchmark");
        }

        _obj = ElfObjectReader.Load(Path.Combine(dir, "corpus", "xdp", Object));
        ProcessedInsns = Verify().Stats.InsnProcessed;
        Console.WriteLine($"// {Object}: {ProcessedInsns} processed insns");
    }

    /// <summary>One verification of the object's first program.</summary>
    [Benchmark]
    public VerificationResult Verify() =>
        BpfVerifier.Verify(_obj.Programs[0], _obj.Maps, new VerifierOptions { LogLevel = VerifierLogLevel.None });
}
