using System.Text.Json;

namespace VethXdp.Cli.Tests;

public class SimCommandTests
{
    private static string Scenario(string name) => Path.Combine(TestPaths.CorpusDir, "scenarios", name + ".json");

    [Fact]
    public void Sim_Json_OneLinePerScenarioWithCounters()
    {
        var r = CliProcess.Run("sim", Scenario("paper-drop-native-1flow"), Scenario("paper-missing-peer-6.18"), "--packets", "2000", "--json");
        Assert.Equal(0, r.ExitCode);
        var lines = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using var drop = JsonDocument.Parse(lines[0]);
        Assert.Equal("paper-drop-native-1flow", drop.RootElement.GetProperty("scenario").GetString());
        Assert.Equal(2000, drop.RootElement.GetProperty("generated").GetInt64());
        Assert.Equal(2000, drop.RootElement.GetProperty("devices").GetProperty("veth1").GetProperty("rx_queues")[0].GetProperty("xdp_drops").GetInt64());
        Assert.True(drop.RootElement.GetProperty("conserved").GetBoolean());
        using var missing = JsonDocument.Parse(lines[1]);
        Assert.Equal(2000, missing.RootElement.GetProperty("drops").GetProperty("xdp_redirect_err").GetInt64());
        Assert.Contains("peer veth1 has no XDP program", missing.RootElement.GetProperty("diagnosis")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Sim_Chart_WritesSvgWithOneBarPerScenario()
    {
        string svg = Path.Combine(Path.GetTempPath(), "vethxdp-sim-" + Guid.NewGuid().ToString("N") + ".svg");
        try
        {
            var r = CliProcess.Run("sim", Scenario("paper-drop-native-1flow"), Scenario("paper-drop-generic-1flow"), "--packets", "1000", "--chart", svg, "--engine", "interp");
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("conservation: ok", r.StdOut, StringComparison.Ordinal);
            string text = File.ReadAllText(svg);
            Assert.StartsWith("<svg", text, StringComparison.Ordinal);
            Assert.Equal(2, text.Split("<rect").Length - 1);
            Assert.Contains("XDP_DROP", text, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(svg);
        }
    }

    [Fact]
    public void Sim_UnknownEngine_Exit2()
    {
        var r = CliProcess.Run("sim", Scenario("paper-drop-native-1flow"), "--engine", "fast");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown engine", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Sim_MissingFile_Exit2()
    {
        var r = CliProcess.Run("sim", Path.Combine(Path.GetTempPath(), "no-such-scenario.json"));
        Assert.Equal(2, r.ExitCode);
    }

    [Fact]
    public void Sim_NegativeWarmup_Exit2()
    {
        var r = CliProcess.Run("sim", Scenario("paper-drop-native-1flow"), "--warmup", "-1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--warmup -1", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Sim_WarmupAndTwoThreads_SameCountersAsPlainRun()
    {
        // The warm-up runs on a copy of the world: the measured run's counters are those of a run without one.
        var plain = CliProcess.Run("sim", Scenario("paper-redirect-native-100flow"), "--packets", "3000", "--warmup", "0", "--json");
        var warmed = CliProcess.Run("sim", Scenario("paper-redirect-native-100flow"), "--packets", "3000", "--warmup", "5000", "--threads", "2", "--json");
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal(0, warmed.ExitCode);
        using var a = JsonDocument.Parse(plain.StdOut);
        using var b = JsonDocument.Parse(warmed.StdOut);
        foreach (var key in new[] { "devices", "drops", "generated", "conserved" })
        {
            Assert.Equal(a.RootElement.GetProperty(key).GetRawText(), b.RootElement.GetProperty(key).GetRawText());
        }

        Assert.Equal(3000, b.RootElement.GetProperty("generated").GetInt64());
    }
}
