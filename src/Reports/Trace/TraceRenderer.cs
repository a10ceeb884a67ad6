using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace VethXdp.Reports.Trace;

/// <summary>Writes a recorded trace as text for people or as JSON lines for tools.</summary>
/// <remarks>
/// Text: a source line (<c>; if (eth + 1 &gt; data_end) @ file.c:69</c>) wherever a new one starts, then one line per
/// instruction: step, slot, the instruction (indented by call depth), and what it did: the jump taken or not, the
/// call and its result, the memory it read or wrote, the registers it changed (old -&gt; new, and where a new pointer
/// points). The verdict comes last.
/// JSON: one object per instruction, <c>{"step", "run", "prog", "insn", "frame", "func", "text", "line", "source", "regs",
/// "old", "ptr", "mem", "call", "taken"}</c>, then one verdict object <c>{"verdict", "retval", "instructions",
/// "redirect", "error", "data", "dropped"}</c>.
/// </remarks>
public static class TraceRenderer
{
    private const int TextColumn = 40;

    private static readonly JsonWriterOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The trace as text.</summary>
    public static string RenderText(TraceRecorder recorder)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        WriteText(sw, recorder);
        return sw.ToString();
    }

    /// <summary>Writes the trace as text.</summary>
    public static void WriteText(TextWriter w, TraceRecorder recorder)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(recorder);
        string? shownLine = null;
        string? shownProgram = null;
        int shownFrame = -1;
        int shownRun = -1;
        var records = recorder.Records;
        int lastRun = records.Count > 0 ? records[^1].Run : 0;
        foreach (var r in records)
        {
            if (r.Run != shownRun && lastRun > 0)
            {
                w.WriteLine(r.Run < lastRun ? "; a BPF timer callback that fired before the packet:" : "; the packet:");
                shownRun = r.Run;
                shownLine = null;
            }

            string indent = new(' ', 2 * r.Frame);
            if (r.Line is not null && (r.Line != shownLine || r.Program != shownProgram || r.Frame != shownFrame))
            {
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{string.Empty,13}{indent}; {r.Source} @ {r.Line}"));
            }

            shownLine = r.Line;
            shownProgram = r.Program;
            shownFrame = r.Frame;
            string head = string.Create(CultureInfo.InvariantCulture, $"{r.Step,6} {r.Insn,5}: {indent}{r.Text}");
            string effects = Effects(r);
            w.WriteLine(effects.Length == 0 ? head : head.PadRight(TextColumn + indent.Length) + "  " + effects);
        }

        if (recorder.Dropped > 0)
        {
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"... {recorder.Dropped} more instructions not recorded (the limit is {recorder.MaxSteps})"));
        }

        if (recorder.Verdict is { } v)
        {
            w.WriteLine(VerdictText(v));
        }
    }

    /// <summary>The verdict line: <c>verdict: XDP_PASS (retval 2) after 104 instructions</c>, or the error.</summary>
    public static string VerdictText(TraceVerdict v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (v.ErrorMessage is { } message)
        {
            if (v.ErrorInsn is not { } insn)
            {
                return "error: " + message;
            }

            string where = v.ErrorText is null ? string.Empty : " (" + v.ErrorText + (v.ErrorLine is null ? string.Empty : " @ " + v.ErrorLine) + ")";
            return string.Create(CultureInfo.InvariantCulture, $"error at insn {insn}{where}: {message}");
        }

        string text = string.Create(CultureInfo.InvariantCulture, $"verdict: {v.Action} (retval {v.Retval}) after {v.Instructions} instructions");
        return v.Redirect is { } rd ? text + " -> " + rd : text;
    }

    /// <summary>Writes the trace as JSON lines to <paramref name="output"/>.</summary>
    public static void WriteJson(Stream output, TraceRecorder recorder)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(recorder);
        using var w = new Utf8JsonWriter(output, s_json);
        foreach (var r in recorder.Records)
        {
            WriteRecord(w, r);
            w.Flush();
            w.Reset();
            output.WriteByte((byte)'\n');
        }

        if (recorder.Verdict is { } v)
        {
            WriteVerdict(w, v, recorder.Dropped);
            w.Flush();
            output.WriteByte((byte)'\n');
        }
    }

    /// <summary>The trace as JSON lines.</summary>
    public static string RenderJson(TraceRecorder recorder)
    {
        using var ms = new MemoryStream();
        WriteJson(ms, recorder);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static string Effects(TraceRecord r)
    {
        var parts = new List<string>();
        if (r.Taken is { } taken)
        {
            parts.Add(taken ? string.Create(CultureInfo.InvariantCulture, $"taken -> {r.Next}") : "not taken");
        }

        if (r.Call is { } c)
        {
            parts.Add(c.Kind switch
            {
                "helper" or "kfunc" => string.Create(CultureInfo.InvariantCulture, $"{c.Name ?? "#" + c.Id}({string.Join(", ", c.ArgText)}) = {Hex(c.Result ?? 0)}{ResultPointer(r)}"),
                "tail_call" => string.Create(CultureInfo.InvariantCulture, $"{c.Name ?? "#" + c.Id}({string.Join(", ", c.ArgText)}): tail call into {c.TailCallTarget}"),
                "call" => string.Create(CultureInfo.InvariantCulture, $"call {c.Name ?? "function"} (insn {c.Target}), frame {r.Frame + 1}"),
                "return" => string.Create(CultureInfo.InvariantCulture, $"return {Hex(c.Result ?? 0)} to insn {c.Target} (frame {r.Frame - 1})"),
                _ => r.Frame == 0 ? string.Create(CultureInfo.InvariantCulture, $"exit, r0 = {Hex(c.Result ?? 0)}") : string.Create(CultureInfo.InvariantCulture, $"callback returns {Hex(c.Result ?? 0)}"),
            });
        }

        foreach (var m in r.Memory)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{m.Op} {m.Location} ({SizeName(m.Size)}) {(m.Op == "load" ? "=" : "<-")} {Hex(m.Value)}"));
        }

        foreach (var g in r.Registers)
        {
            if (r.Call is { Kind: "helper" or "kfunc" } && g.Register == 0)
            {
                continue;   // the result is shown with the call
            }

            if (r.Call is { Kind: "call" or "return" or "exit" } && g.Register == 10)
            {
                continue;   // a new frame's (or the caller's) r10: implied by the call or return
            }

            string change = string.Create(CultureInfo.InvariantCulture, $"r{g.Register}: {Hex(g.Old)} -> {Hex(g.New)}");
            parts.Add(g.Pointer is null ? change : change + " (" + g.Pointer + ")");
        }

        return string.Join("; ", parts);
    }

    private static string ResultPointer(TraceRecord r)
    {
        foreach (var g in r.Registers)
        {
            if (g.Register == 0 && g.Pointer is { } p)
            {
                return " (" + p + ")";
            }
        }

        return string.Empty;
    }

    private static string SizeName(int size) => size switch
    {
        1 => "u8",
        2 => "u16",
        4 => "u32",
        _ => "u64",
    };

    private static void WriteRecord(Utf8JsonWriter w, TraceRecord r)
    {
        w.WriteStartObject();
        w.WriteNumber("step", r.Step);
        w.WriteNumber("run", r.Run);
        w.WriteString("prog", r.Program);
        w.WriteNumber("insn", r.Insn);
        w.WriteNumber("frame", r.Frame);
        WriteStringOrNull(w, "func", r.Function);
        w.WriteString("text", r.Text);
        WriteStringOrNull(w, "line", r.Line);
        WriteStringOrNull(w, "source", r.Source);
        w.WriteStartObject("regs");
        foreach (var g in r.Registers)
        {
            w.WriteString(Reg(g.Register), Hex(g.New));
        }

        w.WriteEndObject();
        w.WriteStartObject("old");
        foreach (var g in r.Registers)
        {
            w.WriteString(Reg(g.Register), Hex(g.Old));
        }

        w.WriteEndObject();
        w.WriteStartObject("ptr");
        foreach (var g in r.Registers)
        {
            if (g.Pointer is { } p)
            {
                w.WriteString(Reg(g.Register), p);
            }
        }

        w.WriteEndObject();
        w.WriteStartArray("mem");
        foreach (var m in r.Memory)
        {
            w.WriteStartObject();
            w.WriteString("op", m.Op);
            w.WriteString("region", m.Region);
            w.WriteNumber("off", m.Offset);
            w.WriteNumber("size", m.Size);
            w.WriteString("value", Hex(m.Value));
            if (m.Frame is { } f)
            {
                w.WriteNumber("frame", f);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (r.Call is { } c)
        {
            w.WriteStartObject("call");
            w.WriteString("kind", c.Kind);
            w.WriteNumber("id", c.Id);
            WriteStringOrNull(w, "name", c.Name);
            w.WriteStartArray("args");
            foreach (ulong a in c.Args)
            {
                w.WriteStringValue(Hex(a));
            }

            w.WriteEndArray();
            w.WriteStartArray("args_text");
            foreach (string a in c.ArgText)
            {
                w.WriteStringValue(a);
            }

            w.WriteEndArray();
            WriteStringOrNull(w, "ret", c.Result is { } res ? Hex(res) : null);
            if (c.Target is { } t)
            {
                w.WriteNumber("target", t);
            }
            else
            {
                w.WriteNull("target");
            }

            WriteStringOrNull(w, "tail_call", c.TailCallTarget);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("call");
        }

        if (r.Taken is { } taken)
        {
            w.WriteBoolean("taken", taken);
        }
        else
        {
            w.WriteNull("taken");
        }

        w.WriteEndObject();
    }

    private static void WriteVerdict(Utf8JsonWriter w, TraceVerdict v, long dropped)
    {
        w.WriteStartObject();
        w.WriteString("verdict", v.Action);
        w.WriteNumber("retval", v.Retval);
        w.WriteNumber("instructions", v.Instructions);
        WriteStringOrNull(w, "redirect", v.Redirect);
        if (v.ErrorMessage is { } message)
        {
            w.WriteStartObject("error");
            if (v.ErrorInsn is { } insn)
            {
                w.WriteNumber("insn", insn);
            }
            else
            {
                w.WriteNull("insn");
            }

            w.WriteString("message", message);
            WriteStringOrNull(w, "text", v.ErrorText);
            WriteStringOrNull(w, "line", v.ErrorLine);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("error");
        }

        w.WriteString("data", Convert.ToHexStringLower(v.Data));
        w.WriteNumber("dropped", dropped);
        w.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static string Reg(int r) => "r" + r.ToString(CultureInfo.InvariantCulture);

    private static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);
}
