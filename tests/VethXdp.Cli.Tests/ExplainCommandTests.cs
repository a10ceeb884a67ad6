namespace VethXdp.Cli.Tests;

/// <summary><c>explain</c> as a process: the page for a rejected and an accepted corpus object.</summary>
public sealed class ExplainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vethxdp-explain-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Explain_RejectedObject_WritesThePageWithTheHintAndExitsOne()
    {
        string page = Path.Combine(_dir, "report.html");
        var r = CliProcess.Run("explain", Path.Combine(TestPaths.CorpusDir, "buggy", "xdp_off_by_one.v4.o"), "-o", page);

        Assert.True(r.ExitCode == 1, $"exit {r.ExitCode}: {r.StdErr}");
        Assert.Equal($"{page}: xdp_off_by_one rejected at insn 28 (EACCES): Packet access without a bounds check\n", r.StdOut);
        string html = File.ReadAllText(page);
        Assert.Contains("<div class=\"vx-badge\">REJECTED</div>", html, StringComparison.Ordinal);
        Assert.Contains("data-class=\"PacketBounds\"", html, StringComparison.Ordinal);
        Assert.Contains("if ((void *)p + 1 &gt; data_end) return XDP_DROP;", html, StringComparison.Ordinal);
        Assert.Contains("xdp_off_by_one.c:42", html, StringComparison.Ordinal);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_AcceptedObject_WritesThePageAndExitsZero()
    {
        string page = Path.Combine(_dir, "ok.html");
        var r = CliProcess.Run("explain", Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_paper_drop.v4.o"), "-o", page);

        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.StdErr}");
        Assert.StartsWith($"{page}: xdp_paper_drop accepted (", r.StdOut, StringComparison.Ordinal);
        string html = File.ReadAllText(page);
        Assert.Contains("<div class=\"vx-badge\">ACCEPTED</div>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"hint\"", html, StringComparison.Ordinal);
        Assert.Contains("id=\"listing\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_UnknownProgram_IsBadInput()
    {
        var r = CliProcess.Run("explain", Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_paper_drop.v4.o"), "--prog", "nope", "-o", Path.Combine(_dir, "x.html"));

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no program named \"nope\"", r.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "x.html")));
    }
}
