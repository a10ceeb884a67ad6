using System.Text.Json;
using VethXdp.Kernel;

namespace VethXdp.Cli.Tests;

/// <summary><c>vethxdp diff</c> against the running kernel, as a process.</summary>
public sealed class DiffCommandTests
{
    private static string Obj(string name) => Path.Combine(TestPaths.CorpusDir, "xdp", name);

    private static string Pcap(string name) => Path.Combine(TestPaths.CorpusDir, "pcaps", name);

    [SkippableFact]
    public void Diff_AgreeingProgram_ExitsZeroAndSaysAgree()
    {
        Skip.IfNot(KernelProbe.IsBpfPermitted(out var reason), reason);
        var r = CliProcess.Run("diff", Obj("xdp_l4_filter.v3.o"), "--pcap", Pcap("l4.pcap"));
        Assert.True(r.ExitCode == 0, r.StdErr + r.StdOut);
        Assert.Contains("25 agree, 0 disagree", r.StdOut);
        Assert.Contains("AGREE", r.StdOut);
    }

    [SkippableFact]
    public void Diff_KernelSecretInOutput_ExitsOneListingThePackets()
    {
        // SYN cookies depend on the kernel's boot-time secret, so the SYN-ACK bytes differ from ours (the manifest lists
        // them as not comparable); diff, which knows nothing of the manifest, must report them.
        Skip.IfNot(KernelProbe.IsBpfPermitted(out var reason), reason);
        var r = CliProcess.Run("diff", Obj("xdp_syncookie.v4.o"), "--pcap", Pcap("syn_flood.pcap"), "--json");
        Assert.Equal(1, r.ExitCode);
        var lines = r.StdOut.TrimEnd('\n').Split('\n');
        using var summary = JsonDocument.Parse(lines[^1]);
        Assert.False(summary.RootElement.GetProperty("agrees").GetBoolean());
        Assert.True(summary.RootElement.GetProperty("packet_disagreements").GetInt32() > 0);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal("bytes", first.RootElement.GetProperty("field").GetString());
    }

    [Fact]
    public void Diff_WithoutBpf_SaysSkippedAndExitsZero_OrCompares()
    {
        // Runs on any machine: where bpf() is refused the command says so and skips; where it is permitted it compares.
        var r = CliProcess.Run("diff", Obj("xdp_paper_drop.v3.o"), "--pcap", Pcap("basic_mixed.pcap"));
        Assert.Equal(0, r.ExitCode);
        Assert.True(r.StdErr.Contains("diff skipped", StringComparison.Ordinal) || r.StdOut.Contains("AGREE", StringComparison.Ordinal), r.StdErr + r.StdOut);
    }

    [Fact]
    public void Diff_MissingPcap_IsUsageError()
    {
        var r = CliProcess.Run("diff", Obj("xdp_paper_drop.v3.o"));
        Assert.Equal(2, r.ExitCode);
    }
}
