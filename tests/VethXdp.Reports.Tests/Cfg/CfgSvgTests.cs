using System.Diagnostics;
using System.Globalization;
using System.Xml.Linq;
using VethXdp.Reports.Cfg;

namespace VethXdp.Reports.Tests.Cfg;

public sealed class CfgSvgTests : IDisposable
{
    private static readonly XNamespace s_svg = "http://www.w3.org/2000/svg";

    private readonly string _dir = Directory.CreateTempSubdirectory("vethxdp-cfg-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [MemberData(nameof(Corpus.V4Programs), MemberType = typeof(Corpus))]
    public void Compute_CorpusProgram_BoxesDoNotOverlapAndEdgesEndOnTheirBlocks(string objectName, string program)
    {
        var layout = CfgLayout.Compute(ControlFlowGraph.Build(Corpus.Program(objectName, program)));

        Assert.False(layout.BoxesOverlap());
        Assert.Equal(layout.Graph.Blocks.Count, layout.Nodes.Count);
        foreach (var e in layout.Edges)
        {
            var from = layout.Nodes[e.Edge.From];
            var to = layout.Nodes[e.Edge.To];
            Assert.True(from.IsOnBoundary(e.Points[0]), $"edge {e.Edge} starts at {e.Points[0]}, off block {from}");
            Assert.True(to.IsOnBoundary(e.Points[^1]), $"edge {e.Edge} ends at {e.Points[^1]}, off block {to}");
            Assert.All(e.Points, p => Assert.True(p.X >= 0 && p.Y >= 0 && p.X <= layout.Width && p.Y <= layout.Height, $"{p} is outside the picture"));
        }

        // Every box lies inside its function's frame, and the frames do not overlap.
        foreach (var n in layout.Nodes)
        {
            var c = layout.Clusters[layout.Graph.Blocks[n.Block].Function];
            Assert.True(n.X >= c.X && n.Right <= c.X + c.Width && n.Y >= c.Y && n.Bottom <= c.Y + c.Height, $"block {n.Block} is outside its cluster");
        }

        for (int i = 1; i < layout.Clusters.Count; i++)
        {
            Assert.True(layout.Clusters[i].X >= layout.Clusters[i - 1].X + layout.Clusters[i - 1].Width);
        }
    }

    [Theory]
    [MemberData(nameof(Corpus.V4Programs), MemberType = typeof(Corpus))]
    public void Render_CorpusProgram_IsStandaloneWellFormedSvg(string objectName, string program)
    {
        var graph = ControlFlowGraph.Build(Corpus.Program(objectName, program));

        var doc = XDocument.Parse(CfgSvgWriter.Render(graph));

        var root = doc.Root!;
        Assert.Equal(s_svg + "svg", root.Name);
        var viewBox = root.Attribute("viewBox")!.Value.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal([0, 0], viewBox[..2]);
        Assert.True(viewBox[2] > 0 && viewBox[3] > 0);
        Assert.Equal(graph.Blocks.Count, root.Descendants(s_svg + "g").Count(g => (string?)g.Attribute("class") == "node"));
        Assert.Equal(graph.Edges.Count, root.Descendants(s_svg + "path").Count(p => ((string?)p.Attribute("class"))?.StartsWith("edge", StringComparison.Ordinal) == true));
        Assert.DoesNotContain(root.DescendantsAndSelf(), e => e.Name.LocalName is "script" or "image" or "foreignObject");
        Assert.DoesNotContain(root.DescendantsAndSelf().Attributes(), a => a.Value.Contains("http", StringComparison.Ordinal) && a.Name != "xmlns");
    }

    [Fact]
    public void Render_SourceWithMarkup_IsEscaped()
    {
        var graph = ControlFlowGraph.Build(Corpus.Program("xdp_loops.v4.o", "xdp_loops"));

        var doc = XDocument.Parse(CfgSvgWriter.Render(graph));

        var texts = doc.Descendants(s_svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("; if ((void *)(ip + 1) > data_end || ip->ihl < 5) @ xdp_loops.c:74", texts);
        Assert.Contains("; calls = bpf_map_lookup_elem(&callback_calls, &zero); @ xdp_loops.c:46", texts);
        Assert.Contains("  23: if r7 >= r2 goto pc+11", texts);
    }

    [Fact]
    public void Compute_Loop_BackEdgeRunsRightOfTheBlocksItPasses()
    {
        var layout = CfgLayout.Compute(ControlFlowGraph.Build(Corpus.Program("xdp_loops.v4.o", "xdp_loops")));
        var g = layout.Graph;

        var back = layout.Edges.Single(e => e.Edge.From == g.BlockAt(34) && e.Edge.To == g.BlockAt(23));

        Assert.Equal(EdgeRoute.Back, back.Route);
        Assert.Equal("taken", back.Label);
        double lane = back.Points.Max(p => p.X);
        double top = layout.Nodes[g.BlockAt(23)].Y, bottom = layout.Nodes[g.BlockAt(34)].Bottom;
        foreach (var n in layout.Nodes.Where(n => g.Blocks[n.Block].Function == 0 && n.Bottom >= top && n.Y <= bottom))
        {
            Assert.True(lane > n.Right, $"the back edge's lane at x={lane} crosses block {n.Block}");
        }

        // Forward edges go down.
        Assert.All(layout.Edges.Where(e => e.Route == EdgeRoute.Forward), e => Assert.True(e.Points[^1].Y > e.Points[0].Y));
    }

    [SkippableFact]
    public void Render_InChromium_IsNotBlank()
    {
        string? chromium = FindOnPath("chromium") ?? FindOnPath("chromium-browser");
        Skip.If(chromium is null, "chromium is not on PATH (Debian's chromium package renders the check)");
        var layout = CfgLayout.Compute(ControlFlowGraph.Build(Corpus.Program("xdp_subprogs.v4.o", "xdp_subprogs")));
        string svg = Path.Combine(_dir, "cfg.svg");
        string png = Path.Combine(_dir, "cfg.png");
        File.WriteAllText(svg, CfgSvgWriter.Render(layout));
        int w = (int)Math.Ceiling(layout.Width), h = (int)Math.Ceiling(layout.Height);

        var psi = new ProcessStartInfo(chromium!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", $"--screenshot={png}", $"--window-size={w},{h}", new Uri(svg).AbsoluteUri })
        {
            psi.ArgumentList.Add(a);
        }

        using (var p = Process.Start(psi)!)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Assert.True(p.WaitForExit(120_000), "chromium did not finish in 2 minutes");
            Assert.True(File.Exists(png), $"chromium wrote no screenshot: {stderr.Result}");
        }

        var image = PngImage.Read(File.ReadAllBytes(png));
        Assert.Equal(w, image.Width);
        long dark = 0, green = 0, blue = 0;
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                var (r, g, b) = image.Pixel(x, y);
                dark += r < 96 && g < 96 && b < 96 ? 1 : 0;
                green += g > r + 40 && g > b + 20 ? 1 : 0;     // taken edges (#1b873f)
                blue += b > r + 60 && b > g + 30 ? 1 : 0;      // call edges (#1565c0)
            }
        }

        long pixels = (long)image.Width * image.Height;
        Assert.True(dark > pixels / 200, $"only {dark} of {pixels} pixels are dark: the text and boxes did not render");
        Assert.True(green > 100, $"only {green} green pixels: the taken edges did not render");
        Assert.True(blue > 100, $"only {blue} blue pixels: the call edges did not render");
    }

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, name)))
            {
                return Path.Combine(dir, name);
            }
        }

        return null;
    }
}
