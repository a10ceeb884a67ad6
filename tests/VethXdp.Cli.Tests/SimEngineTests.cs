using System.Text.Json;

namespace VethXdp.Cli.Tests;

/// <summary><c>vethxdp sim</c> verifies every program a scenario attaches and runs it on the unchecked JIT (issues 6
/// and 7): the counters do not depend on the engine, the result names each program's engine, and a program the
/// verifier rejects is refused as Linux would refuse to load it.</summary>
public class SimEngineTests
{
    private static string ScenarioDir => Path.Combine(TestPaths.CorpusDir, "scenarios");

    private static readonly string[] s_counterKeys = ["devices", "drops", "delivered", "generated", "cloned", "in_flight", "conserved"];

    // Every scenario with an expected.json, in one process per engine.
    private static string[] ExpectedScenarios() =>
        [.. Directory.GetFiles(ScenarioDir, "*.expected.json").Select(f => Path.GetFileName(f)[..^".expected.json".Length]).Order(StringComparer.Ordinal)];

    [Theory]
    [InlineData("interp")]
    [InlineData("jit-checked")]
    [InlineData("jit")]
    [InlineData(null)]
    public void Sim_EveryScenario_ExpectedCountersOnEngine(string? engine)
    {
        var names = ExpectedScenarios();
        var args = new List<string> { "sim" };
        args.AddRange(names.Select(n => Path.Combine(ScenarioDir, n + ".json")));
        args.AddRange(["--json", "--warmup", "0"]);
        if (engine is not null)
        {
            args.AddRange(["--engine", engine]);
        }

        var r = CliProcess.Run(args, timeoutMs: 240_000);
        Assert.True(r.ExitCode == 0, r.StdErr);
        var lines = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(names.Length, lines.Length);
        for (int i = 0; i < names.Length; i++)
        {
            using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(ScenarioDir, names[i] + ".expected.json")));
            using var actual = JsonDocument.Parse(lines[i]);
            foreach (var key in s_counterKeys)
            {
                Assert.True(
                    JsonSerializer.Serialize(expected.RootElement.GetProperty(key)) == JsonSerializer.Serialize(actual.RootElement.GetProperty(key)),
                    $"{names[i]} on {engine ?? "the default engine"}: \"{key}\" differs from the expected file");
            }

            // every attached program ran on the engine named, and by default on the unchecked JIT (all are verified)
            var programs = actual.RootElement.GetProperty("programs");
            Assert.True(programs.GetArrayLength() > 0, names[i]);
            foreach (var p in programs.EnumerateArray())
            {
                Assert.Equal(engine ?? "jit", p.GetProperty("engine").GetString());
            }
        }
    }

    [Fact]
    public void Sim_Text_NamesEachProgramsEngine()
    {
        var r = CliProcess.Run("sim", Path.Combine(ScenarioDir, "paper-tx-native-1flow.json"), "--packets", "1000", "--warmup", "0");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("program tx/xdp_paper_tx on veth1 (native): engine jit", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("program drop/xdp_paper_drop on veth0 (native): engine jit", r.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("jit")]
    public void Sim_BuggyProgram_RefusedAsLinuxWouldExit1(string? engine)
    {
        string path = BuggyScenario();
        try
        {
            var r = engine is null ? CliProcess.Run("sim", path, "--json") : CliProcess.Run("sim", path, "--json", "--engine", engine);
            Assert.Equal(1, r.ExitCode);
            Assert.Equal(string.Empty, r.StdOut);
            Assert.Contains("invalid access to packet, off=14 size=1, R1(id=2,off=14,r=14)", r.StdErr, StringComparison.Ordinal);
            Assert.Contains("processed ", r.StdErr, StringComparison.Ordinal);
            Assert.Contains("scenario buggy-attach: program b/xdp_off_by_one (attached to eth0): rejected by the verifier", r.StdErr, StringComparison.Ordinal);
            Assert.Contains("insn 28, EACCES", r.StdErr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("interp")]
    [InlineData("jit-checked")]
    public void Sim_BuggyProgramOnCheckedEngine_RunsUnverified(string engine)
    {
        string path = BuggyScenario();
        try
        {
            var r = CliProcess.Run("sim", path, "--json", "--engine", engine);
            Assert.True(r.ExitCode == 0, r.StdErr);
            using var doc = JsonDocument.Parse(r.StdOut);
            Assert.Equal(engine, doc.RootElement.GetProperty("programs")[0].GetProperty("engine").GetString());
            Assert.Equal(200, doc.RootElement.GetProperty("generated").GetInt64());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Sim_DevmapProgramAttachedToDevice_RefusedExit2()
    {
        string path = Path.Combine(Path.GetTempPath(), "vethxdp-sim-devmap-" + Guid.NewGuid().ToString("N") + ".json");
        string obj = Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_devmap_switch.v3.o").Replace("\\", "/", StringComparison.Ordinal);
        File.WriteAllText(path, $$"""
            { "name": "devmap-on-device", "objects": { "sw": "{{obj}}" },
              "devices": [ { "name": "eth0", "type": "nic", "queues": 1 } ],
              "attach": [ { "device": "eth0", "object": "sw", "program": "xdp_switch_egress" } ],
              "traffic": { "device": "eth0", "packets": 10 } }
            """);
        try
        {
            var r = CliProcess.Run("sim", path);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("BPF_XDP_DEVMAP programs can not be attached to a device", r.StdErr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // An XDP program no verifier can decide within its limits: r2 = ctx->rx_queue_index, then 8,200 times
    // "if r2 == i goto +1; r0 = 0", then r0 = XDP_PASS; exit. Every jump's taken branch waits on the stack while
    // the fall-through path goes on, and none can be pruned before the first path ends, so the 8,193rd pending
    // branch exceeds BPF_COMPLEXITY_LIMIT_JMP_SEQ: "The sequence of 8193 jumps is too complex", after 16,386
    // insns, as Linux 6.18 says too (bpftool, same statistics line). The program itself is safe and runs 16,403
    // instructions per packet.
    private static byte[] UndecidableXdp()
    {
        const int jumps = 8200;
        var code = new byte[8 * (1 + (2 * jumps) + 2)];
        var at = code.AsSpan();
        Convert.FromHexString("6112100000000000").CopyTo(at); // r2 = *(u32 *)(r1 +16)
        for (int i = 0; i < jumps; i++)
        {
            var jeq = at[(8 * (1 + (2 * i)))..];
            Convert.FromHexString("1502010000000000").CopyTo(jeq); // if r2 == i goto pc+1
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(jeq[4..], i);
            Convert.FromHexString("b700000000000000").CopyTo(at[(8 * (2 + (2 * i)))..]); // r0 = 0
        }

        Convert.FromHexString("b700000002000000" + "9500000000000000").CopyTo(at[(8 * (1 + (2 * jumps)))..]);
        return TinyElf.ForRunner(code, "xdp");
    }

    [Fact]
    public void Sim_ProgramTheVerifierCannotDecide_RunsCheckedWithNoteOrRefusesJit()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vethxdp-sim-undecided-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string obj = Path.Combine(dir, "undecided.o");
        File.WriteAllBytes(obj, UndecidableXdp());
        string path = Path.Combine(dir, "scenario.json");
        string objJson = obj.Replace("\\", "/", StringComparison.Ordinal);
        File.WriteAllText(path, $$"""
            { "name": "undecided-attach", "objects": { "k": "{{objJson}}" },
              "devices": [ { "name": "eth0", "type": "nic", "queues": 1 } ],
              "attach": [ { "device": "eth0", "object": "k" } ],
              "traffic": { "device": "eth0", "packets": 20 } }
            """);
        try
        {
            var verdict = CliProcess.Run("verify", obj);
            Assert.Contains("The sequence of 8193 jumps is too complex", verdict.StdOut + verdict.StdErr, StringComparison.Ordinal);

            var byDefault = CliProcess.Run("sim", path, "--json");
            Assert.True(byDefault.ExitCode == 0, byDefault.StdErr);
            Assert.Contains("note: scenario undecided-attach: program k/main: the verifier could not decide", byDefault.StdErr, StringComparison.Ordinal);
            using var doc = JsonDocument.Parse(byDefault.StdOut);
            Assert.Equal("jit-checked", doc.RootElement.GetProperty("programs")[0].GetProperty("engine").GetString());

            var onJit = CliProcess.Run("sim", path, "--engine", "jit");
            Assert.Equal(2, onJit.ExitCode);
            Assert.Contains("use --engine jit-checked", onJit.StdErr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // corpus/buggy/xdp_off_by_one (Linux 6.18 rejects it: insn 28, invalid access to packet) on a NIC.
    private static string BuggyScenario()
    {
        string path = Path.Combine(Path.GetTempPath(), "vethxdp-sim-buggy-" + Guid.NewGuid().ToString("N") + ".json");
        string obj = Path.Combine(TestPaths.CorpusDir, "buggy", "xdp_off_by_one.v3.o").Replace("\\", "/", StringComparison.Ordinal);
        File.WriteAllText(path, $$"""
            { "name": "buggy-attach", "objects": { "b": "{{obj}}" },
              "devices": [ { "name": "eth0", "type": "nic", "queues": 1 } ],
              "attach": [ { "device": "eth0", "object": "b", "program": "xdp_off_by_one" } ],
              "traffic": { "device": "eth0", "packets": 200 } }
            """);
        return path;
    }
}
