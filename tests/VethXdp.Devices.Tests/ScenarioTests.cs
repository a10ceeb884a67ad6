using System.Text.Json;
using VethXdp.Devices.Scenarios;
using VethXdp.Jit;
using VethXdp.Vm.Runtime;

namespace VethXdp.Devices.Tests;

public class ScenarioTests
{
    internal static IBpfEngineFactory Engine(string name) => name switch
    {
        "interp" => InterpreterEngineFactory.Instance,
        _ => JitEngineFactory.Checked,
    };

    internal static string ScenarioPath(string name) => Path.Combine(TestPaths.CorpusDir, "scenarios", name + ".json");

    // The scenarios name no engine (the command verifies them and runs them on jit); without a verifier these tests
    // run them on jit-checked unless told otherwise.
    internal static IBpfEngineFactory Select(ProgramAttachRequest r) => Engine(r.Engine ?? "jit-checked");

    internal static SimResult Run(string name, int threads = 1, long? packets = null, string? engine = null)
    {
        using var world = ScenarioBuilder.Build(ScenarioPath(name), Select, packets, engine);
        return new Simulator(world).Run(name, threads);
    }

    public static TheoryData<string> Scenarios()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(TestPaths.CorpusDir, "scenarios"), "*.expected.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(f)[..^".expected.json".Length]);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Run_PaperScenario_MatchesExpectedCounters(string name) => AssertExpected(name, Run(name));

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Run_PaperScenarioOnInterpreter_MatchesExpectedCounters(string name) => AssertExpected(name, Run(name, engine: "interp"));

    private static void AssertExpected(string name, SimResult result)
    {
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.CorpusDir, "scenarios", name + ".expected.json")));
        using var actual = JsonDocument.Parse(result.ToJson(withRate: false));
        foreach (var key in new[] { "devices", "drops", "delivered", "generated", "cloned", "in_flight", "conserved" })
        {
            Assert.Equal(JsonSerializer.Serialize(expected.RootElement.GetProperty(key)), JsonSerializer.Serialize(actual.RootElement.GetProperty(key)));
        }

        // AF_XDP scenarios also pin their socket statistics and the user-space applications' counters
        foreach (var key in new[] { "sockets", "xsk" })
        {
            if (expected.RootElement.TryGetProperty(key, out var want))
            {
                Assert.True(actual.RootElement.TryGetProperty(key, out var got), $"{name}: the result has no \"{key}\"");
                Assert.Equal(JsonSerializer.Serialize(want), JsonSerializer.Serialize(got));
            }
        }

        Assert.True(result.Conserved, string.Join("; ", result.Diagnosis));
    }

    [Theory]
    [InlineData("paper-redirect-native-100flow")]
    [InlineData("paper-tx-generic-100flow")]
    public void Run_TwoThreads_SameCountersAsOne(string name)
    {
        var one = Run(name, threads: 1);
        var two = Run(name, threads: 2);
        Assert.Equal(one.ToJson(withRate: false), two.ToJson(withRate: false));
    }

    [Fact]
    public void Run_InterpreterAndJit_SameCounters()
    {
        var interp = Run("paper-tx-native-1flow", engine: "interp", packets: 2000);
        var jit = Run("paper-tx-native-1flow", engine: "jit-checked", packets: 2000);
        Assert.All(interp.Programs, p => Assert.Equal("interp", p.Engine));
        Assert.All(jit.Programs, p => Assert.Equal("jit-checked", p.Engine));
        using var a = JsonDocument.Parse(interp.ToJson(withRate: false));
        using var b = JsonDocument.Parse(jit.ToJson(withRate: false));
        foreach (var p in a.RootElement.EnumerateObject())
        {
            if (p.Name != "programs")
            {
                Assert.Equal(p.Value.GetRawText(), b.RootElement.GetProperty(p.Name).GetRawText());
            }
        }
    }

    [Theory]
    [InlineData("paper-missing-peer-4.19", "xdp_xmit_err", 0UL)]
    [InlineData("paper-missing-peer-5.13", "xdp_xmit_err", 10_000UL)]
    [InlineData("paper-missing-peer-6.18", "xdp_redirect_err", 0UL)]
    public void Run_MissingPeer_DropsWithTheProfilesRule(string name, string reason, ulong veth0TxDropped)
    {
        var r = Run(name);
        Assert.Equal(10_000, Assert.Single(r.Drops, d => d.Key == reason).Value);
        var veth0 = r.Devices.Single(d => d.Name == "veth0");
        Assert.Equal(veth0TxDropped, veth0.Totals["tx_dropped"]);
        Assert.Equal(0UL, veth0.TxQueues[0]["xdp_xmit_errors"]);
        var eth0 = r.Devices.Single(d => d.Name == "eth0");
        Assert.Equal(name.EndsWith("6.18", StringComparison.Ordinal) ? 0UL : 10_000UL, eth0.RxQueues[0]["xdp_redirect"]);
        Assert.Contains(r.Diagnosis, s => s.Contains("peer veth1 has no XDP program", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_UnknownKernel_Throws()
    {
        var path = Path.Combine(Path.GetTempPath(), "vethxdp-bad-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, """{"kernel": "3.10", "devices": [], "traffic": {}}""");
        try
        {
            var e = Assert.Throws<ScenarioException>(() => ScenarioBuilder.Build(path, Select));
            Assert.Contains("3.10", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
