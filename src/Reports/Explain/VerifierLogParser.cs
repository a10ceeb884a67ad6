using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace VethXdp.Reports.Explain;

/// <summary>Reads the text of a verifier log (Linux 6.18's format, as <c>BpfVerifier</c> writes it): instruction
/// lines, whole states, resumed branches and source lines; and replays the register facts along the log.</summary>
/// <remarks>A level-1 log of a rejected program is the path to the failing instruction: the kernel rewinds the log
/// to where a branch was pushed whenever it resumes that branch, which may glue the resumed branch's state
/// (<c>9: R1=...</c>) onto the end of the jump's line; <see cref="Parse"/> splits it off again.</remarks>
public static partial class VerifierLogParser
{
    /// <summary>Parses every line of <paramref name="log"/>.</summary>
    public static IReadOnlyList<VerifierLogLine> Parse(string log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var result = new List<VerifierLogLine>();
        foreach (var raw in log.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            ParseLine(line, result);
        }

        return result;
    }

    /// <summary>The instructions of the instruction lines, in log order: for a level-1 log of a rejected program,
    /// the path from the entry to the failing instruction.</summary>
    public static IReadOnlyList<int> Path(IReadOnlyList<VerifierLogLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var path = new List<int>();
        foreach (var l in lines)
        {
            if (l.Kind == VerifierLogLineKind.Instruction)
            {
                path.Add(l.Insn);
            }
        }

        return path;
    }

    /// <summary>Splits state text into its entries (<c>R1</c> → <c>pkt(off=14,r=14)</c>, <c>fp-8</c> →
    /// <c>0000????</c>), keeping parenthesised values whole (<c>var_off=(0x0; 0x3c)</c> holds a space).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> SplitState(string state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var entries = new List<KeyValuePair<string, string>>();
        int depth = 0, start = 0;
        for (int i = 0; i <= state.Length; i++)
        {
            char c = i < state.Length ? state[i] : ' ';
            if (c == '(')
            {
                depth++;
            }
            else if (c == ')')
            {
                depth = Math.Max(0, depth - 1);
            }
            else if (c == ' ' && depth == 0)
            {
                if (i > start)
                {
                    string token = state[start..i];
                    int eq = token.IndexOf('=', StringComparison.Ordinal);
                    if (eq > 0)
                    {
                        entries.Add(new(token[..eq], token[(eq + 1)..]));
                    }
                }

                start = i + 1;
            }
        }

        return entries;
    }

    /// <summary>Replays <paramref name="lines"/> and returns the registers and stack slots the verifier knew just
    /// before the last instruction line (for a rejected program's level-1 log: the failing instruction), keyed
    /// <c>R0</c>..<c>R10</c> and <c>fp-N</c>.</summary>
    public static IReadOnlyDictionary<string, string> StateBeforeLastInstruction(IReadOnlyList<VerifierLogLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        int last = -1;
        for (int i = lines.Count - 1; i >= 0; i--)
        {
            if (lines[i].Kind == VerifierLogLineKind.Instruction)
            {
                last = i;
                break;
            }
        }

        var state = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < (last < 0 ? lines.Count : last); i++)
        {
            Apply(state, lines[i]);
        }

        return state;
    }

    /// <summary>Replays <paramref name="lines"/> (a level-2 log) and calls <paramref name="visit"/> with each
    /// instruction the verifier processed and the whole state it knew just before it (as
    /// <see cref="FormatState"/> writes it).</summary>
    public static void ReplayStates(IReadOnlyList<VerifierLogLine> lines, Action<int, string> visit)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(visit);
        var state = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var l in lines)
        {
            if (l.Kind == VerifierLogLineKind.Instruction)
            {
                visit(l.Insn, FormatState(state));
            }

            Apply(state, l);
        }
    }

    /// <summary>Writes state entries in the kernel's order: R0..R10, then the stack slots from fp-8 down.</summary>
    public static string FormatState(IReadOnlyDictionary<string, string> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var keys = state.Keys.OrderBy(SortKey).ThenBy(k => k, StringComparer.Ordinal);
        var sb = new StringBuilder();
        foreach (var k in keys)
        {
            if (sb.Length > 0)
            {
                sb.Append(' ');
            }

            sb.Append(k).Append('=').Append(state[k]);
        }

        return sb.ToString();
    }

    /// <summary>The register number of an entry key (<c>R7</c> → 7), or -1.</summary>
    public static int RegisterNumber(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Length >= 2 && key[0] == 'R' && int.TryParse(key.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int r) ? r : -1;
    }

    private static long SortKey(string key)
    {
        int r = RegisterNumber(key);
        if (r >= 0)
        {
            return r;
        }

        return key.StartsWith("fp-", StringComparison.Ordinal) && long.TryParse(key.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out long off)
            ? 100 + off
            : long.MaxValue;
    }

    private static void Apply(Dictionary<string, string> state, VerifierLogLine l)
    {
        switch (l.Kind)
        {
            case VerifierLogLineKind.State:
            case VerifierLogLineKind.Branch:
                state.Clear();
                foreach (var e in SplitState(l.State))
                {
                    state[e.Key] = e.Value;
                }

                break;
            case VerifierLogLineKind.Instruction:
                if (l.Text.StartsWith("call ", StringComparison.Ordinal))
                {
                    // a call leaves R1-R5 unreadable; the log prints only what is readable afterwards
                    for (int r = 1; r <= 5; r++)
                    {
                        state.Remove("R" + r.ToString(CultureInfo.InvariantCulture));
                    }
                }

                foreach (var e in SplitState(l.State))
                {
                    state[e.Key] = e.Value;
                }

                break;
            default:
                break;
        }
    }

    private static void ParseLine(string line, List<VerifierLogLine> result)
    {
        var m = InsnLine().Match(line);
        if (m.Success)
        {
            int insn = int.Parse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
            string rest = m.Groups[2].Value;
            int semi = rest.IndexOf("; ", StringComparison.Ordinal);
            if (semi >= 0)
            {
                result.Add(new(VerifierLogLineKind.Instruction, insn, -1, rest[..semi].TrimEnd(), rest[(semi + 2)..].Trim()));
                return;
            }

            var glued = GluedState().Match(rest);
            if (glued.Success)
            {
                result.Add(new(VerifierLogLineKind.Instruction, insn, -1, rest[..glued.Index].TrimEnd(), string.Empty));
                ParseLine(rest[(glued.Index + 1)..], result);
                return;
            }

            result.Add(new(VerifierLogLineKind.Instruction, insn, -1, rest.TrimEnd(), string.Empty));
            return;
        }

        m = StateLine().Match(line);
        if (m.Success)
        {
            result.Add(new(VerifierLogLineKind.State, int.Parse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture), -1, line, m.Groups[2].Value.Trim()));
            return;
        }

        m = BranchLine().Match(line);
        if (m.Success)
        {
            int from = int.Parse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
            int to = int.Parse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
            string state = m.Groups[3].Value.Trim();
            result.Add(new(state == "safe" ? VerifierLogLineKind.Other : VerifierLogLineKind.Branch, to, from, line, state == "safe" ? string.Empty : state));
            return;
        }

        m = SourceLine().Match(line);
        result.Add(m.Success
            ? new(VerifierLogLineKind.Source, -1, -1, m.Groups[1].Value, string.Empty)
            : new(VerifierLogLineKind.Other, -1, -1, line, string.Empty));
    }

    [GeneratedRegex(@"^(\d+): \([0-9a-f]{2}\) (.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex InsnLine();

    [GeneratedRegex(@" \d+: (?=R\d+=|fp-?\d+=|frame\d+:)", RegexOptions.CultureInvariant)]
    private static partial Regex GluedState();

    [GeneratedRegex(@"^(\d+): ((?:R\d+|fp-?\d+)=.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex StateLine();

    [GeneratedRegex(@"^from (\d+) to (\d+)(?: \(speculative execution\))?: ?(.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex BranchLine();

    [GeneratedRegex(@"^; (.*) @ \S+:\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex SourceLine();
}
