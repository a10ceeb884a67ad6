using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using VethXdp.Reports.Cfg;
using VethXdp.Vm.Programs;

namespace VethXdp.Reports.Explain;

/// <summary>Writes an <see cref="ExplainReport"/> as one self-contained HTML page: inline CSS, SVG and a few lines of
/// script, nothing loaded from anywhere.</summary>
/// <remarks>Sections, each with an id a test or a reader can find: <c>verdict</c>, <c>hint</c> (a rejection's
/// explanation), <c>intro</c>, <c>path</c> (the failing path), <c>listing</c> (source lines interleaved with the
/// instructions, each row <c>i{N}</c> with the states before it; rows on the failing path carry <c>vx-on</c>, the
/// failing one <c>vx-fail</c>), <c>cfg</c> (the control-flow graph, failing path in red) and <c>log</c>. Our own
/// classes start with <c>vx-</c> so that the SVG's style sheet and ours cannot collide.</remarks>
public static partial class ExplainHtmlWriter
{
    private const int MaxPathItems = 200;
    private const int MaxLogChars = 200_000;

    /// <summary>The page as text.</summary>
    public static string Render(ExplainReport report)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        Write(report, sw);
        return sw.ToString();
    }

    /// <summary>Writes the page to <paramref name="w"/>.</summary>
    public static void Write(ExplainReport report, TextWriter w)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(w);
        var p = report.Program;
        var r = report.Result;
        string name = H(p.Name);
        w.Write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        w.Write("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        w.Write($"<title>explain {name}: {(r.Accepted ? "accepted" : "rejected")}</title>\n");
        w.Write("<style>\n");
        w.Write(Css);
        WritePathCss(report, w);
        w.Write("</style>\n</head>\n<body>\n");

        w.Write("<header>\n");
        w.Write(r.Accepted
            ? $"<h1><code>{name}</code> passes the verifier</h1>\n"
            : $"<h1>Why the verifier rejects <code>{name}</code></h1>\n");
        string from = report.ObjectName is { } o ? $"{H(o)} · " : string.Empty;
        string section = p.SectionName.Length > 0 ? $"section {H(p.SectionName)} · " : string.Empty;
        w.Write($"<p class=\"vx-sub\">{from}{section}program type {H(r.Type.ToString())} · {Count(p.Slots.Count)} instruction slots · checked by VethXdp's reimplementation of the Linux 6.18 verifier</p>\n");
        w.Write("</header>\n");

        WriteVerdict(report, w);
        if (report.Hint is { } hint)
        {
            WriteHint(report, hint, w);
        }

        WriteIntro(w);
        if (!r.Accepted)
        {
            WritePath(report, w);
        }

        WriteListing(report, w);
        WriteCfg(report, w);
        WriteLog(report, w);
        WriteScript(report, w);
        w.Write("</body>\n</html>\n");
    }

    private static void WriteVerdict(ExplainReport report, TextWriter w)
    {
        var r = report.Result;
        var s = r.Stats;
        string stats = $"The verifier processed {Count(s.InsnProcessed)} instructions (its limit is 1,000,000) and kept {Count(s.TotalStates)} states.";
        if (r.Error is not { } e)
        {
            w.Write("<section id=\"verdict\" class=\"vx-verdict vx-accepted\">\n<div class=\"vx-badge\">ACCEPTED</div>\n");
            w.Write("<p>Linux would load this program: on every path the verifier could find, every memory access stays inside memory the program may use, every register is written before it is read, and the program ends.</p>\n");
            w.Write($"<p>{stats}</p>\n</section>\n");
            return;
        }

        w.Write("<section id=\"verdict\" class=\"vx-verdict vx-rejected\">\n<div class=\"vx-badge\">REJECTED</div>\n");
        string at = e.InsnIndex >= 0 ? $" at <a href=\"#i{e.InsnIndex}\">instruction {e.InsnIndex}</a>" : string.Empty;
        w.Write($"<p>Linux would refuse to load this program (bpf() fails with {H(e.ErrnoName)}){at}. The verifier's message:</p>\n");
        w.Write($"<pre class=\"vx-msg\">{H(e.Message)}</pre>\n");
        w.Write($"<p>{stats}</p>\n</section>\n");
    }

    private static void WriteHint(ExplainReport report, ExplainHint hint, TextWriter w)
    {
        w.Write($"<section id=\"hint\" class=\"vx-hint\" data-class=\"{hint.Class}\">\n");
        w.Write($"<h2>{Inline(hint.Title)}</h2>\n");
        w.Write($"<p class=\"vx-where\">{Inline(hint.Where)}</p>\n");
        w.Write($"<h3>What happened</h3>\n<p class=\"vx-what\">{Inline(hint.What)}</p>\n");
        w.Write($"<h3>Why Linux refuses it</h3>\n<p class=\"vx-why\">{Inline(hint.Why)}</p>\n");
        w.Write($"<h3>How to fix it</h3>\n<p class=\"vx-fixtext\">{Inline(hint.Fix)}</p>\n");
        if (hint.FixCode is { } code)
        {
            w.Write($"<pre class=\"vx-fix\"><code>{H(code)}</code></pre>\n");
        }

        var before = VerifierLogParser.StateBeforeLastInstruction(VerifierLogParser.Parse(report.Result.Log));
        if (before.Count > 0 && hint.Insn >= 0)
        {
            w.Write("<h3>What the verifier knew just before the failing instruction</h3>\n<ul class=\"vx-regs\">\n");
            foreach (var line in VerifierLogParser.SplitState(VerifierLogParser.FormatState(before)))
            {
                string cls = hint.Register is { } reg && line.Key == "R" + reg.ToString(CultureInfo.InvariantCulture) ? " class=\"vx-key\"" : string.Empty;
                w.Write($"<li{cls}><code>{H(line.Key)}</code> = <code>{H(line.Value)}</code> <span class=\"vx-gloss\">{H(Gloss(line.Value))}</span></li>\n");
            }

            w.Write("</ul>\n");
        }

        w.Write("</section>\n");
    }

    private static void WriteIntro(TextWriter w)
    {
        w.Write("<section id=\"intro\">\n<details>\n<summary>New to BPF? How to read this page</summary>\n");
        w.Write("<p>An XDP program is a small program that Linux runs inside the kernel for every packet a network card receives. ");
        w.Write("Before Linux runs it, a part of the kernel called the <em>verifier</em> proves that the program cannot crash or hang the kernel and cannot read memory it does not own. ");
        w.Write("It does so by walking through every path the program can take and tracking what each <em>register</em> (R0 to R10: the processor-level variables that the C compiler turned the program's variables into) may hold. ");
        w.Write("If any path could do something unsafe, the program is refused.</p>\n");
        w.Write("<p>Words the verifier uses for what a register holds: <code>ctx</code> the program's context (R1 at the start); <code>pkt</code> a pointer into the packet, where <code>r=N</code> is how many bytes from it a comparison with the end has proved to exist; ");
        w.Write("<code>pkt_end</code> the address just past the packet (data_end); <code>map_value_or_null</code> a map lookup's result before its NULL check; <code>fp</code> the stack frame; <code>scalar</code> a number, with the range it may take (<code>umax</code> largest unsigned value, <code>smin</code> smallest signed value, <code>var_off</code> which bits may be set).</p>\n");
        w.Write("</details>\n</section>\n");
    }

    private static void WritePath(ExplainReport report, TextWriter w)
    {
        var path = report.FailingPath;
        w.Write("<section id=\"path\">\n<h2>The path to the failure</h2>\n");
        w.Write($"<p>The verifier reached the failing instruction along this path of {Count(path.Count)} instructions (marked orange in the listing and the graph below; the failing instruction red). ");
        w.Write("Each step is a source line and the instructions it was compiled into.</p>\n<ol class=\"vx-steps\">\n");
        int items = 0;
        int i = 0;
        while (i < path.Count && items < MaxPathItems)
        {
            var line = report.Source.LineAt(path[i]);
            int j = i + 1;
            while (j < path.Count && path[j] == path[j - 1] + 1 + (IsWide(report, path[j - 1]) ? 1 : 0) && SameLine(report.Source.LineAt(path[j]), line))
            {
                j++;
            }

            string insns = j - i == 1 ? $"instruction {Link(path[i])}" : $"instructions {Link(path[i])}–{Link(path[j - 1])}";
            bool fails = j == path.Count;
            w.Write(fails ? "<li class=\"vx-failstep\">" : "<li>");
            w.Write(line is not null
                ? $"<code>{H(line.Text.Trim())}</code> <span class=\"vx-loc\">{H(SourceLines.Location(line))}</span> — {insns}"
                : $"<code>{H(report.Text[path[i]] ?? string.Empty)}</code>{(j - i > 1 ? " …" : string.Empty)} — {insns}");
            if (fails)
            {
                w.Write(" <strong>(fails here)</strong>");
            }

            w.Write("</li>\n");
            items++;
            i = j;
        }

        w.Write("</ol>\n");
        if (i < path.Count)
        {
            w.Write($"<p>… and {Count(path.Count - i)} more instructions, up to instruction {Link(path[^1])}.</p>\n");
        }

        w.Write("</section>\n");
    }

    private static void WriteListing(ExplainReport report, TextWriter w)
    {
        var onPath = new HashSet<int>(report.FailingPath);
        int fail = report.Result.Error?.InsnIndex ?? -1;
        w.Write("<section id=\"listing\">\n<h2>Source and instructions</h2>\n");
        w.Write(report.States is null
            ? "<p>The C source (from the object's BTF line information) above the instructions it was compiled into. The program is too large to keep a state per instruction.</p>\n"
            : "<p>The C source (from the object's BTF line information) above the instructions it was compiled into; on the right, what the verifier knew about the registers and the stack just before each instruction (every distinct state, when it got there by several paths).</p>\n");
        w.Write("<table class=\"vx-listing\">\n<thead><tr><th>#</th><th>instruction</th><th>what the verifier knew before it</th></tr></thead>\n<tbody>\n");
        LineInfo? shown = null;
        for (int pc = 0; pc < report.Text.Count; pc++)
        {
            if (report.Text[pc] is not { } text)
            {
                continue;
            }

            if (report.Source.LineAt(pc) is { } line && !SameLine(line, shown))
            {
                shown = line;
                w.Write($"<tr class=\"vx-srcrow\"><td></td><td colspan=\"2\"><code>{H(line.Text.Trim())}</code> <span class=\"vx-loc\">{H(SourceLines.Location(line))}</span></td></tr>\n");
            }

            var cls = new StringBuilder("vx-i");
            if (onPath.Contains(pc))
            {
                cls.Append(" vx-on");
            }

            if (pc == fail)
            {
                cls.Append(" vx-fail");
            }

            var st = report.States?[pc];
            if (st is { Visits: 0 })
            {
                cls.Append(" vx-dead");
            }

            w.Write($"<tr id=\"i{pc}\" class=\"{cls}\"><td class=\"vx-n\">{pc}</td><td class=\"vx-t\"><code>{H(text)}</code>");
            if (pc == fail && report.Result.Error is { } e)
            {
                w.Write($"<div class=\"vx-err\">{H(e.Message)}</div>");
            }

            w.Write("</td><td class=\"vx-s\">");
            if (st is null)
            {
                w.Write(string.Empty);
            }
            else if (st.Visits == 0)
            {
                w.Write("<span class=\"vx-note\">never reached</span>");
            }
            else
            {
                w.Write($"<code>{H(st.States[0])}</code>");
                if (st.States.Count > 1 || st.Visits > 1)
                {
                    w.Write($"<details><summary>{(st.States.Count > 1 ? $"{st.States.Count - 1} more state{(st.States.Count > 2 ? "s" : string.Empty)}, " : string.Empty)}{Count(st.Visits)} visits</summary>");
                    for (int k = 1; k < st.States.Count; k++)
                    {
                        w.Write($"<code>{H(st.States[k])}</code>");
                    }

                    w.Write("</details>");
                }
            }

            w.Write("</td></tr>\n");
        }

        w.Write("</tbody>\n</table>\n</section>\n");
    }

    private static void WriteCfg(ExplainReport report, TextWriter w)
    {
        w.Write("<section id=\"cfg\">\n<h2>Control-flow graph</h2>\n");
        w.Write("<p>One box per basic block (instructions that always run together); green edges are conditional jumps taken, red ones the fall-through when the condition is false, grey ones unconditional jumps, dashed blue ones calls. ");
        w.Write(report.Result.Accepted ? string.Empty : "Blocks on the path to the failure have an orange frame, the failing block a red one. ");
        w.Write("Click a block to find it in the listing.</p>\n<div class=\"vx-cfg\">\n");
        string svg = CfgSvgWriter.Render(report.Graph);
        int start = svg.IndexOf("<svg", StringComparison.Ordinal);
        w.Write(start > 0 ? svg[start..] : svg);
        w.Write("</div>\n</section>\n");
    }

    private static void WriteLog(ExplainReport report, TextWriter w)
    {
        string log = report.Result.Log;
        if (log.Length > MaxLogChars)
        {
            log = string.Concat(log.AsSpan(0, MaxLogChars / 2), "\n…\n", log.AsSpan(log.Length - (MaxLogChars / 2)));
        }

        w.Write("<section id=\"log\">\n<details>\n<summary>The verifier's log (level 1: ");
        w.Write(report.Result.Accepted ? "the closing line" : "the path to the failure and the error");
        w.Write(", in Linux's format)</summary>\n");
        w.Write($"<pre class=\"vx-log\">{H(log)}</pre>\n</details>\n</section>\n");
    }

    private static void WriteScript(ExplainReport report, TextWriter w)
    {
        var starts = new StringBuilder();
        foreach (var b in report.Graph.Blocks)
        {
            if (starts.Length > 0)
            {
                starts.Append(',');
            }

            starts.Append(b.Start.ToString(CultureInfo.InvariantCulture));
        }

        w.Write("<script>\n");
        w.Write($"const vxBlockStart = [{starts}];\n");
        w.Write("""
            document.querySelectorAll('.vx-cfg g.node').forEach(function (g) {
              g.style.cursor = 'pointer';
              g.addEventListener('click', function () {
                var row = document.getElementById('i' + vxBlockStart[Number(g.id.slice(5))]);
                if (!row) { return; }
                row.scrollIntoView({ block: 'center' });
                row.classList.add('vx-flash');
                setTimeout(function () { row.classList.remove('vx-flash'); }, 1500);
              });
            });

            """);
        w.Write("</script>\n");
    }

    private static void WritePathCss(ExplainReport report, TextWriter w)
    {
        if (report.Result.Accepted)
        {
            return;
        }

        var blocks = new SortedSet<int>();
        foreach (int pc in report.FailingPath)
        {
            if ((uint)pc < (uint)report.Text.Count)
            {
                blocks.Add(report.Graph.BlockAt(pc));
            }
        }

        int fail = report.Result.Error?.InsnIndex ?? -1;
        foreach (int b in blocks)
        {
            w.Write($".vx-cfg #block{b} > rect {{ fill: #fff3e0; stroke: #e65100; stroke-width: 3; }}\n");
        }

        if ((uint)fail < (uint)report.Text.Count)
        {
            w.Write($".vx-cfg #block{report.Graph.BlockAt(fail)} > rect {{ fill: #ffcdd2; stroke: #b71c1c; stroke-width: 4; }}\n");
        }
    }

    private static bool IsWide(ExplainReport report, int pc) => (uint)pc < (uint)report.Program.Slots.Count && report.Program.Slots[pc].IsLdImm64;

    private static bool SameLine(LineInfo? a, LineInfo? b) =>
        a is null ? b is null : b is not null && a.Line == b.Line && a.File == b.File;

    private static string Link(int pc) => $"<a href=\"#i{pc}\">{pc}</a>";

    private static string Count(int n) => n.ToString("N0", CultureInfo.InvariantCulture);

    // A few words on what a register's value means, for readers new to the verifier's notation.
    private static string Gloss(string value)
    {
        string type = value.Contains('(', StringComparison.Ordinal) ? value[..value.IndexOf('(', StringComparison.Ordinal)] : value;
        return type switch
        {
            "ctx" => "the program's context",
            "pkt" => RangeGloss(value),
            "pkt_end" => "the end of the packet (data_end)",
            "pkt_meta" => "a pointer into the packet's metadata",
            "map_value_or_null" => "a map lookup's result, maybe NULL",
            "map_value" => "a pointer into a map value",
            "map_ptr" => "a map",
            "scalar" => value == "scalar()" ? "a number that could be anything" : "a number in the range shown",
            _ when type.StartsWith("fp", StringComparison.Ordinal) => "a pointer into the stack",
            _ when long.TryParse(type, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) || type.StartsWith("0x", StringComparison.Ordinal) => "a known number",
            _ => string.Empty,
        };
    }

    private static string RangeGloss(string value)
    {
        var m = PacketRange().Match(value);
        return m.Success ? $"a pointer into the packet; {m.Groups[1].Value} byte(s) from its base are proven to exist" : "a pointer into the packet";
    }

    // HTML text with `code` spans.
    private static string Inline(string text)
    {
        var sb = new StringBuilder();
        var parts = text.Split('`');
        for (int i = 0; i < parts.Length; i++)
        {
            sb.Append(i % 2 == 1 && i < parts.Length - 1 ? "<code>" + H(parts[i]) + "</code>" : H(parts[i]));
        }

        return sb.ToString();
    }

    private static string H(string s) => WebUtility.HtmlEncode(s);

    [GeneratedRegex(@"\br=(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex PacketRange();

    private const string Css = """
        :root { --red: #c62828; --green: #2e7d32; --ink: #1c2330; --muted: #5f6b7a; --line: #d5dbe3; }
        body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); background: #ffffff; margin: 0 auto; max-width: 1200px; padding: 16px 24px 48px; line-height: 1.45; }
        code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.92em; }
        h1 { font-size: 1.6em; margin: 0.2em 0; }
        h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
        h3 { font-size: 1.02em; margin: 1em 0 0.3em; }
        .vx-sub { color: var(--muted); margin-top: 0; }
        .vx-verdict { border-radius: 8px; padding: 12px 18px; margin: 16px 0; border: 2px solid; }
        .vx-accepted { border-color: var(--green); background: #e8f5e9; }
        .vx-rejected { border-color: var(--red); background: #ffebee; }
        .vx-badge { display: inline-block; font-weight: bold; font-size: 1.3em; letter-spacing: 0.06em; color: #ffffff; padding: 2px 12px; border-radius: 4px; }
        .vx-accepted .vx-badge { background: var(--green); }
        .vx-rejected .vx-badge { background: var(--red); }
        .vx-msg { background: #ffffff; border: 1px solid #ef9a9a; padding: 8px; white-space: pre-wrap; }
        .vx-hint { border-left: 6px solid #f9a825; background: #fffde7; padding: 4px 18px 12px; border-radius: 4px; }
        .vx-hint h2 { border: none; margin-top: 0.6em; }
        .vx-where { font-weight: bold; }
        .vx-fix { background: #263238; color: #e8f5e9; padding: 10px 14px; border-radius: 4px; overflow-x: auto; }
        .vx-regs { list-style: none; padding-left: 0; }
        .vx-regs li { margin: 2px 0; word-break: break-all; }
        .vx-regs li.vx-key { background: #ffe082; font-weight: bold; }
        .vx-gloss { color: var(--muted); font-style: italic; word-break: normal; }
        .vx-steps li.vx-failstep { color: var(--red); font-weight: bold; }
        .vx-loc { color: var(--muted); font-size: 0.85em; }
        table.vx-listing { border-collapse: collapse; width: 100%; font-size: 0.9em; }
        .vx-listing th { text-align: left; border-bottom: 2px solid var(--line); padding: 4px; }
        .vx-listing td { padding: 2px 6px; vertical-align: top; border-bottom: 1px solid #eef1f4; }
        .vx-listing td.vx-n { text-align: right; color: var(--muted); width: 3em; }
        .vx-listing td.vx-t { white-space: nowrap; width: 32em; }
        .vx-listing td.vx-s code { display: block; word-break: break-all; color: #37474f; font-size: 0.88em; }
        .vx-srcrow td { background: #f4f6f8; color: #37474f; padding-top: 6px; }
        .vx-srcrow code { font-style: italic; }
        tr.vx-on td { background: #fff3e0; }
        tr.vx-on td.vx-n { border-left: 4px solid #e65100; }
        tr.vx-fail td { background: #ffcdd2; }
        tr.vx-dead td { color: #9aa5b1; }
        tr.vx-flash td { background: #fff59d; }
        .vx-err { color: var(--red); font-weight: bold; white-space: pre-wrap; }
        .vx-note { color: #9aa5b1; font-style: italic; }
        .vx-cfg { overflow: auto; border: 1px solid var(--line); border-radius: 4px; max-height: 900px; }
        .vx-log { background: #f4f6f8; padding: 8px; overflow-x: auto; font-size: 0.85em; }
        details summary { cursor: pointer; color: #1565c0; }

        """;
}
