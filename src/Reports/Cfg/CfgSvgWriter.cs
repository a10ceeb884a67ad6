using System.Globalization;
using System.Text;

namespace VethXdp.Reports.Cfg;

/// <summary>Draws a <see cref="CfgLayout"/> as a standalone SVG document (no scripts, no external resources).</summary>
public static class CfgSvgWriter
{
    /// <summary>The picture as SVG text.</summary>
    public static string Render(CfgLayout layout)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        Write(layout, sw);
        return sw.ToString();
    }

    /// <summary>Lays out <paramref name="graph"/> and returns the picture as SVG text.</summary>
    public static string Render(ControlFlowGraph graph, CfgLayoutOptions? options = null) => Render(CfgLayout.Compute(graph, options));

    /// <summary>Writes the picture as SVG text to <paramref name="w"/>.</summary>
    public static void Write(CfgLayout layout, TextWriter w)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(w);
        var o = layout.Options;
        var g = layout.Graph;
        string width = N(Math.Ceiling(layout.Width));
        string height = N(Math.Ceiling(layout.Height));
        w.Write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        w.Write($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace\" font-size=\"{N(o.FontSize)}\">\n");
        w.Write($"<title>control-flow graph of {Escape(g.Name)}</title>\n");
        w.Write("<style>\n");
        w.Write("text { white-space: pre; }\n");
        w.Write(".cluster { fill: #f4f6f8; stroke: #b0bec5; stroke-width: 1; }\n");
        w.Write(".ctitle { font-weight: bold; fill: #263238; }\n");
        w.Write(".block { fill: #ffffff; stroke: #455a64; stroke-width: 1; }\n");
        w.Write(".entry { stroke: #000000; stroke-width: 2.5; }\n");
        w.Write(".exit { fill: #fff8e1; }\n");
        w.Write(".insn { fill: #111111; }\n");
        w.Write(".src { fill: #5f6b7a; font-style: italic; }\n");
        w.Write(".edge { fill: none; stroke-width: 1.4; }\n");
        w.Write(".dashed { stroke-dasharray: 6 4; }\n");
        w.Write($".label {{ font-size: {N(o.FontSize - 2)}px; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; }}\n");
        w.Write("</style>\n");
        w.Write("<defs>\n");
        foreach (CfgEdgeKind kind in Enum.GetValues<CfgEdgeKind>())
        {
            w.Write($"<marker id=\"arrow-{CfgStyle.Id(kind)}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{CfgStyle.Color(kind)}\"/></marker>\n");
        }

        w.Write("</defs>\n");
        w.Write("<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");

        foreach (var c in layout.Clusters)
        {
            w.Write($"<g class=\"function\"><rect class=\"cluster\" x=\"{N(c.X)}\" y=\"{N(c.Y)}\" width=\"{N(c.Width)}\" height=\"{N(c.Height)}\" rx=\"6\"/>");
            w.Write($"<text class=\"ctitle\" x=\"{N(c.X + 10)}\" y=\"{N(c.Y + 16)}\">{Escape(c.Title)}</text></g>\n");
        }

        foreach (var e in layout.Edges)
        {
            string id = CfgStyle.Id(e.Edge.Kind);
            string cls = CfgStyle.Dashed(e.Edge.Kind) ? "edge dashed" : "edge";
            w.Write($"<path class=\"{cls}\" stroke=\"{CfgStyle.Color(e.Edge.Kind)}\" marker-end=\"url(#arrow-{id})\" d=\"{PathData(e)}\"><title>{Escape(EdgeTitle(g, e.Edge))}</title></path>\n");
        }

        int mainEntry = g.Functions.Count > 0 && g.Functions[0].Blocks.Count > 0 ? g.Functions[0].Blocks[0] : -1;
        foreach (var n in layout.Nodes)
        {
            var block = g.Blocks[n.Block];
            string cls = "block";
            if (n.Block == mainEntry)
            {
                cls += " entry";
            }

            if (EndsWithExit(g, block))
            {
                cls += " exit";
            }

            w.Write($"<g class=\"node\" id=\"block{n.Block}\"><rect class=\"{cls}\" x=\"{N(n.X)}\" y=\"{N(n.Y)}\" width=\"{N(n.Width)}\" height=\"{N(n.Height)}\" rx=\"3\"/>\n");
            for (int i = 0; i < n.Lines.Count; i++)
            {
                var line = n.Lines[i];
                double baseline = n.Y + o.PaddingY + (i * o.LineHeight) + (o.LineHeight / 2) + (o.FontSize * 0.35);
                w.Write($"<text class=\"{(line.IsSource ? "src" : "insn")}\" x=\"{N(n.X + o.PaddingX)}\" y=\"{N(baseline)}\">{Escape(line.Text)}</text>\n");
            }

            w.Write("</g>\n");
        }

        foreach (var e in layout.Edges)
        {
            if (e.Label is not { } label)
            {
                continue;
            }

            string anchor = e.Anchor switch
            {
                LabelAnchor.End => "end",
                LabelAnchor.Middle => "middle",
                _ => "start",
            };
            w.Write($"<text class=\"label\" x=\"{N(e.LabelAt.X)}\" y=\"{N(e.LabelAt.Y)}\" text-anchor=\"{anchor}\" fill=\"{CfgStyle.Color(e.Edge.Kind)}\">{Escape(label)}</text>\n");
        }

        w.Write("</svg>\n");
    }

    private static bool EndsWithExit(ControlFlowGraph g, BasicBlock b)
    {
        var slots = g.Slots;
        int last = b.End - 1;
        if (last > b.Start && g.InstructionText(last) is null)
        {
            last--;
        }

        return slots[last].Opcode == Vm.Isa.Op.Exit;
    }

    private static string EdgeTitle(ControlFlowGraph g, CfgEdge e) =>
        string.Create(CultureInfo.InvariantCulture, $"{(e.Label ?? e.Kind.ToString().ToLowerInvariant())}: insn {g.Blocks[e.From].Start}..{g.Blocks[e.From].End - 1} -> insn {g.Blocks[e.To].Start}");

    // Forward edges: straight through dummy ranks, a cubic curve with vertical tangents between ranks. Back edges:
    // straight segments with rounded corners. Calls: one cubic curve with horizontal tangents.
    private static string PathData(LayoutEdge e)
    {
        var p = e.Points;
        var sb = new StringBuilder();
        sb.Append('M').Append(N(p[0].X)).Append(',').Append(N(p[0].Y));
        switch (e.Route)
        {
            case EdgeRoute.Call:
            {
                var a = p[0];
                var b = p[^1];
                double dx = Math.Max(40, Math.Abs(b.X - a.X) / 2);
                double sa = b.X >= a.X ? 1 : -1;
                sb.Append(" C").Append(N(a.X + (sa * dx))).Append(',').Append(N(a.Y))
                  .Append(' ').Append(N(b.X - (sa * dx))).Append(',').Append(N(b.Y))
                  .Append(' ').Append(N(b.X)).Append(',').Append(N(b.Y));
                break;
            }

            case EdgeRoute.Back:
            case EdgeRoute.Bus:
                for (int i = 1; i < p.Count; i++)
                {
                    if (i + 1 < p.Count)
                    {
                        // Round the corner at p[i]: stop short of it, curve through it.
                        double r = Math.Min(6, Math.Min(Dist(p[i - 1], p[i]), Dist(p[i], p[i + 1])) / 2);
                        var before = Towards(p[i], p[i - 1], r);
                        var after = Towards(p[i], p[i + 1], r);
                        sb.Append(" L").Append(N(before.X)).Append(',').Append(N(before.Y));
                        sb.Append(" Q").Append(N(p[i].X)).Append(',').Append(N(p[i].Y)).Append(' ').Append(N(after.X)).Append(',').Append(N(after.Y));
                    }
                    else
                    {
                        sb.Append(" L").Append(N(p[i].X)).Append(',').Append(N(p[i].Y));
                    }
                }

                break;
            default:
                for (int i = 1; i < p.Count; i++)
                {
                    var a = p[i - 1];
                    var b = p[i];
                    if (Math.Abs(a.X - b.X) < 0.01)
                    {
                        sb.Append(" L").Append(N(b.X)).Append(',').Append(N(b.Y));
                    }
                    else
                    {
                        double my = (a.Y + b.Y) / 2;
                        sb.Append(" C").Append(N(a.X)).Append(',').Append(N(my))
                          .Append(' ').Append(N(b.X)).Append(',').Append(N(my))
                          .Append(' ').Append(N(b.X)).Append(',').Append(N(b.Y));
                    }
                }

                break;
        }

        return sb.ToString();
    }

    private static double Dist(LayoutPoint a, LayoutPoint b) => Math.Sqrt(((a.X - b.X) * (a.X - b.X)) + ((a.Y - b.Y) * (a.Y - b.Y)));

    private static LayoutPoint Towards(LayoutPoint from, LayoutPoint to, double r)
    {
        double d = Dist(from, to);
        return d < 1e-9 ? from : new LayoutPoint(from.X + ((to.X - from.X) * r / d), from.Y + ((to.Y - from.Y) * r / d));
    }

    private static string N(double v) => Math.Round(v, 2).ToString("0.##", CultureInfo.InvariantCulture);

    // XML text and attribute escaping; characters XML 1.0 cannot carry are dropped.
    private static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        foreach (char c in s)
        {
            switch (c)
            {
                case '&':
                    sb.Append("&amp;");
                    break;
                case '<':
                    sb.Append("&lt;");
                    break;
                case '>':
                    sb.Append("&gt;");
                    break;
                case '"':
                    sb.Append("&quot;");
                    break;
                case '\'':
                    sb.Append("&apos;");
                    break;
                case '\t':
                    sb.Append(' ');
                    break;
                default:
                    if (c >= 0x20 && c != '\uFFFE' && c != '\uFFFF')
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.ToString();
    }
}
