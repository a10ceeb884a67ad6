using System.Globalization;
using System.Text;

namespace VethXdp.Reports.Cfg;

/// <summary>Writes a <see cref="ControlFlowGraph"/> in Graphviz's DOT language: a cluster per function, a box per block
/// with its instructions and source lines (left-aligned), edges labelled taken / fall-through, calls dashed.</summary>
public static class CfgDotWriter
{
    /// <summary>The graph as DOT text.</summary>
    public static string Render(ControlFlowGraph graph, int maxLineChars = 72)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        Write(graph, sw, maxLineChars);
        return sw.ToString();
    }

    /// <summary>Writes the graph as DOT text to <paramref name="w"/>.</summary>
    public static void Write(ControlFlowGraph graph, TextWriter w, int maxLineChars = 72)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(w);
        w.Write("digraph ");
        w.Write(Quote(graph.Name));
        w.Write(" {\n");
        w.Write("  graph [fontname=\"monospace\", compound=true];\n");
        w.Write("  node [shape=box, fontname=\"monospace\", fontsize=10];\n");
        w.Write("  edge [fontname=\"monospace\", fontsize=9];\n");
        foreach (var f in graph.Functions)
        {
            w.Write(string.Create(CultureInfo.InvariantCulture, $"  subgraph \"cluster_{f.Index}\" {{\n"));
            w.Write("    label=");
            w.Write(Quote(f.Name));
            w.Write(";\n");
            foreach (int b in f.Blocks)
            {
                var label = new StringBuilder();
                foreach (var line in graph.BlockText(b, maxLineChars))
                {
                    label.Append(Escape(line.Text)).Append("\\l");
                }

                w.Write(string.Create(CultureInfo.InvariantCulture, $"    b{b} [label=\"{label}\"];\n"));
            }

            w.Write("  }\n");
        }

        foreach (var e in graph.Edges)
        {
            var attrs = new List<string>();
            if (e.Label is { } label)
            {
                attrs.Add("label=" + Quote(label));
            }

            if (CfgStyle.Dashed(e.Kind))
            {
                attrs.Add("style=dashed");
            }

            if (e.Kind is not (CfgEdgeKind.Jump or CfgEdgeKind.Next))
            {
                attrs.Add("color=" + Quote(CfgStyle.Color(e.Kind)));
            }

            w.Write(string.Create(CultureInfo.InvariantCulture, $"  b{e.From} -> b{e.To}"));
            if (attrs.Count > 0)
            {
                w.Write(" [");
                w.Write(string.Join(", ", attrs));
                w.Write(']');
            }

            w.Write(";\n");
        }

        w.Write("}\n");
    }

    private static string Quote(string s) => "\"" + Escape(s) + "\"";

    // DOT double-quoted strings: only '"' needs escaping, and '\' starts escapes (\l, \n), so it is doubled too.
    private static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\n':
                case '\r':
                    sb.Append(' ');
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }

        return sb.ToString();
    }
}
