using System.Text.Json;
using VethXdp.Jit;
using VethXdp.Vm.Runtime;

namespace VethXdp.Cli.Tests;

/// <summary><c>vethxdp bench</c> as a process: the JSON shape, pcap means, --kernel, and usage errors.</summary>
public sealed class BenchCommandTests
{
    // A 64-byte UDP frame (10.0.0.1:54321 -> 10.0.0.2:53).
    private const string Udp = "020000000002020000000001080045000032000100004011f96c0a0000010a000002d4310035001e0000"
        + "00000000000000000000000000000000000000000000";

    private static string Obj(string name) => Path.Combine(TestPaths.CorpusDir, "xdp", name);

    private static string Pcap(string name) => Path.Combine(TestPaths.CorpusDir, "pcaps", name);

    [Fact]
    public void Bench_PacketJson_GivesNsPerRunEngineAndRepeatOnly()
    {
        var r = CliProcess.Run("bench", Obj("xdp_pass.v4.o"), "--packet", Udp, "--repeat", "1000", "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var root = doc.RootElement;
        Assert.Equal(["ns_per_run", "engine", "repeat"], root.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.True(root.GetProperty("ns_per_run").GetDouble() > 0);
        // the verifier accepts xdp_pass, so the default engine is the unchecked JIT
        Assert.Equal("jit", root.GetProperty("engine").GetString());
        Assert.Equal(1000, root.GetProperty("repeat").GetInt64());
    }

    [Fact]
    public void Bench_EngineJitChecked_ReportsThatEngine()
    {
        var r = CliProcess.Run("bench", Obj("xdp_paper_tx.v4.o"), "--packet", Udp, "--repeat", "1000", "--engine", "jit-checked", "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.Equal("jit-checked", doc.RootElement.GetProperty("engine").GetString());
        Assert.True(doc.RootElement.GetProperty("ns_per_run").GetDouble() > 0);
    }

    [Fact]
    public void Bench_Pcap_MeanOverPacketsShortFrameSkipped()
    {
        // basic_mixed.pcap: 7 frames that run and a 12-byte one BPF_PROG_TEST_RUN refuses.
        var r = CliProcess.Run("bench", Obj("xdp_paper_drop.v4.o"), "--pcap", Pcap("basic_mixed.pcap"), "--repeat", "1000");
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("packet 7 skipped", r.StdErr, StringComparison.Ordinal);
        var line = Assert.Single(r.StdOut.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("xdp_paper_drop on jit: ", line, StringComparison.Ordinal);
        Assert.Contains("ns per run (1,000 runs per packet, 7 packets)", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_Kernel_GivesKernelFiguresOrKernelError()
    {
        var r = CliProcess.Run("bench", Obj("xdp_pass.v4.o"), "--packet", Udp, "--repeat", "1000", "--kernel", "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var root = doc.RootElement;
        var kernelNs = root.GetProperty("kernel_ns_per_run");
        var ratio = root.GetProperty("ratio");
        if (root.TryGetProperty("kernel_error", out var error))
        {
            Assert.False(string.IsNullOrEmpty(error.GetString()));
            Assert.Equal(JsonValueKind.Null, kernelNs.ValueKind);
            Assert.Equal(JsonValueKind.Null, ratio.ValueKind);
        }
        else
        {
            double ours = root.GetProperty("ns_per_run").GetDouble();
            double kernel = kernelNs.GetDouble();
            Assert.True(kernel > 0, $"kernel_ns_per_run {kernel}");
            Assert.Equal(ours / kernel, ratio.GetDouble(), 0.01);
        }
    }

    [Fact]
    public void Bench_KernelText_OneLineWithBothFigures()
    {
        var r = CliProcess.Run("bench", Obj("xdp_pass.v4.o"), "--packet", Udp, "--repeat", "1000", "--kernel");
        Assert.True(r.ExitCode == 0, r.StdErr);
        var line = Assert.Single(r.StdOut.TrimEnd('\n').Split('\n'));
        Assert.Contains("; kernel: ", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--packet", "zz")]
    [InlineData("--packet", "0200")]
    [InlineData("--repeat", "0")]
    [InlineData("--engine", "turbo")]
    [InlineData("--unverified", "--engine=jit")]
    public void Bench_BadInput_Exit2(string option, string value)
    {
        var args = new List<string> { "bench", Obj("xdp_pass.v4.o"), option, value };
        if (option != "--packet")
        {
            args.AddRange(["--packet", Udp]);
        }

        var r = CliProcess.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("vethxdp: ", r.StdErr, StringComparison.Ordinal);
        Assert.Equal("", r.StdOut);
    }

    [Fact]
    public void Bench_NoPacketSource_Exit2()
    {
        var r = CliProcess.Run("bench", Obj("xdp_pass.v4.o"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--pcap IN or --packet HEX", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_UnknownEngine_NamesTheEngines()
    {
        var r = CliProcess.Run("bench", Obj("xdp_pass.v4.o"), "--packet", Udp, "--engine", "fast");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown engine 'fast'", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("jit-checked", r.StdErr, StringComparison.Ordinal);
    }

    // The library call the command makes, on corpus programs with maps, helpers and packet writes: the timed loop
    // allocates nothing on either engine (a count of bytes, not a timing).
    [Theory]
    [InlineData("xdp_flow_counter", "interp")]
    [InlineData("xdp_flow_counter", "jit-checked")]
    [InlineData("xdp_paper_tx", "jit-checked")]
    [InlineData("xdp_loops", "jit-checked")]
    [InlineData("xdp_flow_counter", "jit")]
    [InlineData("xdp_paper_tx", "jit")]
    [InlineData("xdp_loops", "jit")]
    public void XdpBench_RunTimed_AllocatesNothing(string obj, string engine)
    {
        using var loaded = LoadedObject.Open(Obj(obj + ".v4.o"), new LoadOptions { PossibleCpus = 2 });
        IBpfEngineFactory factory = engine switch
        {
            "interp" => InterpreterEngineFactory.Instance,
            "jit" => JitEngineFactory.Unchecked([Verify(loaded, obj)]),
            _ => JitEngineFactory.Checked,
        };
        using var bench = new XdpBench(loaded, null, null, factory, new XdpBenchOptions { Repeat = 1000, Warmup = TimeSpan.Zero });
        Assert.Null(bench.Load(Convert.FromHexString(Udp)));

        // Windows of 10,000 runs after 1,000 (SteadyState: the runtime's one-off tiering work shows in one window only).
        long allocated = SteadyState.AllocatedBytes(() => bench.RunTimed(100), warm: 10, count: 100);

        Assert.Equal(0, allocated);
        Assert.Equal(engine, bench.EngineName);
    }

    private static VethXdp.Vm.Programs.VerifiedProgram Verify(LoadedObject loaded, string name)
    {
        var spec = loaded.GetProgram(name);
        return VethXdp.Verifier.Sealing.TryVerify(spec, [.. loaded.Maps.Select(m => m.Spec)], loaded.Prepare(spec), null, out var result)
            ?? throw new InvalidOperationException("rejected: " + result.Error);
    }
}
