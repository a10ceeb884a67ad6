using System.Text.RegularExpressions;
using VethXdp.Reports.Explain;

namespace VethXdp.Reports.Tests.Explain;

public sealed class ExplainHtmlWriterTests
{
    internal static ExplainReport OffByOne()
    {
        var obj = Corpus.Load("../buggy/xdp_off_by_one.v4.o");
        return ExplainReport.Build(obj.Programs.Single(), obj.Maps, new ExplainOptions { ObjectName = "xdp_off_by_one.v4.o" });
    }

    [Fact]
    public void Build_RejectedObject_HasPathStatesAndHint()
    {
        var report = OffByOne();

        Assert.False(report.Result.Accepted);
        Assert.Equal(RejectionClass.PacketBounds, report.Hint?.Class);
        Assert.Equal(0, report.FailingPath[0]);
        Assert.Equal(28, report.FailingPath[^1]);
        Assert.NotNull(report.States);
        Assert.Contains("R1=ctx()", report.States![0].States[0], StringComparison.Ordinal);
        Assert.True(report.States[28].Visits >= 1);
    }

    [Fact]
    public void Render_RejectedObject_IsSelfContainedWithVerdictHintPathAndGraph()
    {
        string html = ExplainHtmlWriter.Render(OffByOne());

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Contains("<div class=\"vx-badge\">REJECTED</div>", html, StringComparison.Ordinal);
        Assert.Contains("id=\"hint\" class=\"vx-hint\" data-class=\"PacketBounds\"", html, StringComparison.Ordinal);
        Assert.Contains("if ((void *)p + 1 &gt; data_end) return XDP_DROP;", html, StringComparison.Ordinal);
        Assert.Matches("<tr id=\"i28\" class=\"vx-i vx-on vx-fail\">", html);
        Assert.Matches("<tr id=\"i0\" class=\"vx-i vx-on\">", html);
        Assert.Contains("if (l4[0] == 0)", html, StringComparison.Ordinal);        // the C source, interleaved
        Assert.Contains("<svg xmlns=\"http://www.w3.org/2000/svg\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<?xml", html, StringComparison.Ordinal);
        Assert.Matches(@"\.vx-cfg #block\d+ > rect \{ fill: #ffcdd2", html);

        // nothing loaded from anywhere: the only URL is the SVG namespace
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\bsrc\s*=", html);
        var urls = Regex.Matches(html, @"https?://[^\s""'<>]+").Select(m => m.Value).Distinct().ToArray();
        Assert.Equal(["http://www.w3.org/2000/svg"], urls);
    }

    [Fact]
    public void Render_AcceptedObject_HasVerdictStatesAndNoHint()
    {
        var obj = Corpus.Load("xdp_paper_drop.v4.o");
        var report = ExplainReport.Build(obj.Programs[0], obj.Maps);
        string html = ExplainHtmlWriter.Render(report);

        Assert.True(report.Result.Accepted);
        Assert.Null(report.Hint);
        Assert.Empty(report.FailingPath);
        Assert.Contains("<div class=\"vx-badge\">ACCEPTED</div>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"hint\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("vx-on", html.Replace("tr.vx-on", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("R1=ctx() R10=fp0", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_StateCap_SkipsLevel2ForLargeRuns()
    {
        var obj = Corpus.Load("../buggy/xdp_off_by_one.v4.o");
        var report = ExplainReport.Build(obj.Programs.Single(), obj.Maps, new ExplainOptions { MaxLevel2Insns = 5 });

        Assert.Null(report.States);
        Assert.Contains("too large to keep a state per instruction", ExplainHtmlWriter.Render(report), StringComparison.Ordinal);
    }
}
