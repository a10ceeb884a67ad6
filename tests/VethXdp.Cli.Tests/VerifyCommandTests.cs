using System.Text.Json;

namespace VethXdp.Cli.Tests;

/// <summary><c>verify</c> as a process: exit codes, the kernel-style log of a rejected program, JSON lines.</summary>
public sealed class VerifyCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vethxdp-verify-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Obj(string name) => Path.Combine(TestPaths.CorpusDir, name);

    [Fact]
    public void Verify_AcceptedObject_ExitsZeroWithoutLog()
    {
        var r = CliProcess.Run("verify", Obj("xdp/xdp_paper_drop.v4.o"));

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("xdp_paper_drop: accepted, 20 insns processed\n", r.StdOut);
    }

    [Fact]
    public void Verify_BuggyObject_ExitsOneWithKernelLog()
    {
        var r = CliProcess.Run("verify", Obj("buggy/xdp_off_by_one.v4.o"));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("invalid access to packet", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("offset is outside of the packet", r.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"processed \d+ insns \(limit 1000000\) max_states_per_insn \d+ total_states \d+ peak_states \d+ mark_read 0", r.StdOut);
        Assert.Contains("xdp_off_by_one: rejected at insn", r.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_Json_OneLinePerProgramWithErrorAndStates()
    {
        var r = CliProcess.Run("verify", Obj("buggy/xdp_off_by_one.v4.o"), "--json");

        Assert.Equal(1, r.ExitCode);
        var line = r.StdOut.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        Assert.Equal("xdp", root.GetProperty("type").GetString());
        Assert.False(root.GetProperty("accepted").GetBoolean());
        Assert.Equal("EACCES", root.GetProperty("error").GetProperty("errno").GetString());
        Assert.True(root.GetProperty("error").GetProperty("insn").GetInt32() > 0);
        Assert.True(root.GetProperty("processed_insns").GetInt32() > 0);
        Assert.True(root.GetProperty("states").TryGetProperty("peak_states", out _));
        Assert.Contains("invalid access to packet", root.GetProperty("log").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AssemblyWithType_VerifiesSnippet()
    {
        string path = Path.Combine(_dir, "snippet.s");
        File.WriteAllText(path, "r2 = *(u32 *)(r1 +0)\nr0 = *(u8 *)(r2 +0)\nexit\n");

        var r = CliProcess.Run("verify", path, "--type", "xdp", "--log-level", "2");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Live regs before insn:", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)", r.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AssemblyWithoutType_ExitsTwo()
    {
        string path = Path.Combine(_dir, "snippet.s");
        File.WriteAllText(path, "r0 = 0\nexit\n");

        var r = CliProcess.Run("verify", path);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--type", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_Stats_PrintsCountersForEveryProgram()
    {
        var r = CliProcess.Run("verify", Obj("xdp/xdp_l4_filter.v4.o"), "--stats");

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Matches(@"processed \d+ insns \(limit 1000000\) max_states_per_insn \d+ total_states \d+ peak_states \d+ mark_read \d+; stack depth \d+", r.StdOut);
    }
}

/// <summary><c>run</c> verifies first: a program Linux would refuse is refused (exit 1, with the log); --unverified
/// runs it anyway, checked.</summary>
public sealed class RunVerifiesFirstTests
{
    private static string Obj(string name) => Path.Combine(TestPaths.CorpusDir, name);

    private static string Pcap(string name) => Path.Combine(TestPaths.CorpusDir, "pcaps", name);

    [Fact]
    public void Run_RejectedProgram_ExitsOneWithLog()
    {
        var r = CliProcess.Run("run", Obj("buggy/xdp_off_by_one.v4.o"), "--pcap", Pcap("basic_mixed.pcap"));

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.StdOut);
        Assert.Contains("invalid access to packet", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("rejected by the verifier, as Linux would refuse to load it", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("--unverified", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_RejectedProgramUnverified_RunsChecked()
    {
        var r = CliProcess.Run("run", Obj("buggy/xdp_off_by_one.v4.o"), "--pcap", Pcap("basic_mixed.pcap"), "--unverified");

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.StartsWith("packet 0: ", r.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_AcceptedProgram_RunsWithoutNote()
    {
        var r = CliProcess.Run("run", Obj("xdp/xdp_paper_drop.v4.o"), "--pcap", Pcap("basic_mixed.pcap"));

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.DoesNotContain("note:", r.StdErr, StringComparison.Ordinal);
        Assert.StartsWith("packet 0: XDP_DROP", r.StdOut, StringComparison.Ordinal);
    }
}
