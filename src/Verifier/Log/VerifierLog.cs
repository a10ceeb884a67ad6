using System.Globalization;
using System.Text;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Log;

/// <summary>The log_level bits of BPF_PROG_LOAD (include/linux/bpf_verifier.h).</summary>
/// <remarks>
/// <code>
///  bit 2   bit 1    bit 0
/// +-------+--------+--------+
/// | STATS | LEVEL2 | LEVEL1 |   LEVEL1: errors and branch states; LEVEL2: every instruction; STATS: time, stack depth
/// +-------+--------+--------+
/// </code>
/// </remarks>
[Flags]
public enum VerifierLogLevel
{
    /// <summary>No log (the verifier writes nothing).</summary>
    None = 0,

    /// <summary>BPF_LOG_LEVEL1: the path to the error, the error, the closing line.</summary>
    Level1 = 1,

    /// <summary>BPF_LOG_LEVEL2: every processed instruction with the registers it touched.</summary>
    Level2 = 2,

    /// <summary>BPF_LOG_STATS: <c>verification time</c> and <c>stack depth</c> lines.</summary>
    Stats = 4,
}

/// <summary>The counters of the closing line (<c>print_verification_stats</c>).</summary>
public sealed class VerifierStats
{
    /// <summary>BPF_COMPLEXITY_LIMIT_INSNS: the most instructions a privileged load may process.</summary>
    public const int InsnLimit = 1_000_000;

    /// <summary>insn_processed.</summary>
    public int InsnProcessed { get; set; }

    /// <summary>max_states_per_insn.</summary>
    public int MaxStatesPerInsn { get; set; }

    /// <summary>total_states.</summary>
    public int TotalStates { get; set; }

    /// <summary>peak_states.</summary>
    public int PeakStates { get; set; }

    /// <summary>longest_mark_read_walk (printed as <c>mark_read</c>).</summary>
    public int MarkRead { get; set; }

    /// <summary>Wall time of the verification, in microseconds.</summary>
    public long VerificationTimeUsec { get; set; }

    /// <summary>The stack depth of each function, in function order (subprog_info[i].stack_depth).</summary>
    public IReadOnlyList<int> StackDepths { get; set; } = [];
}

/// <summary>The verifier log (the kernel's <c>struct bpf_verifier_log</c> and <c>verbose()</c>): text is written
/// only when the level asks for it, into one growing buffer that can be rewound to a saved position as the kernel
/// does when it abandons a branch.</summary>
public sealed class VerifierLog
{
    private readonly StringBuilder _sb = new();
    private readonly IReadOnlyList<LineInfo> _lines;
    private LineInfo? _prevLine;

    /// <summary>Creates a log.</summary>
    /// <param name="level">The requested level bits.</param>
    /// <param name="lines">The program's BTF line info, sorted by slot, for source lines (none when absent).</param>
    public VerifierLog(VerifierLogLevel level, IReadOnlyList<LineInfo>? lines = null)
    {
        Level = level;
        _lines = lines ?? [];
    }

    /// <summary>A log that records nothing.</summary>
    public static VerifierLog Disabled => new(VerifierLogLevel.None);

    /// <summary>The requested level bits.</summary>
    public VerifierLogLevel Level { get; }

    /// <summary>True when anything is written (<c>bpf_verifier_log_needed</c>).</summary>
    public bool Enabled => Level != VerifierLogLevel.None;

    /// <summary>True at level 1 or 2 (BPF_LOG_LEVEL).</summary>
    public bool IsLevel1Or2 => (Level & (VerifierLogLevel.Level1 | VerifierLogLevel.Level2)) != 0;

    /// <summary>True at level 2 (BPF_LOG_LEVEL2).</summary>
    public bool IsLevel2 => (Level & VerifierLogLevel.Level2) != 0;

    /// <summary>The current length: a position for <see cref="ResetTo"/> (the kernel's log end_pos).</summary>
    public int Position => _sb.Length;

    /// <summary>Appends text as is (<c>verbose(env, "%s", text)</c>).</summary>
    /// <param name="text">The text.</param>
    public void Write(string text)
    {
        if (Enabled)
        {
            _sb.Append(text);
        }
    }

    /// <summary>Appends a line.</summary>
    /// <param name="text">The text, without the newline.</param>
    public void WriteLine(string text)
    {
        if (Enabled)
        {
            _sb.Append(text).Append('\n');
        }
    }

    /// <summary>Appends a formatted line from a <see cref="Msg"/> template (formats only when enabled).</summary>
    /// <param name="template">The template.</param>
    /// <param name="args">The arguments in the kernel's order.</param>
    public void Verbose(string template, params object[] args)
    {
        if (Enabled)
        {
            _sb.Append(string.Format(CultureInfo.InvariantCulture, template, args)).Append('\n');
        }
    }

    /// <summary>Cuts the log back to <paramref name="position"/> (<c>bpf_vlog_reset</c>).</summary>
    /// <param name="position">A value of <see cref="Position"/>.</param>
    public void ResetTo(int position)
    {
        if (position >= 0 && position < _sb.Length)
        {
            _sb.Length = position;
        }
    }

    /// <summary>Appends the source line of <paramref name="insn"/> when it differs from the last one printed
    /// (<c>verbose_linfo</c>): <c>{prefix}{text} @ {file}:{line}</c>, e.g. <c>; if (v) (*v)++; @ sample_xdp.c:22</c>.</summary>
    /// <param name="insn">The instruction index.</param>
    /// <param name="prefix">The prefix (<c>"; "</c> before an instruction, <c>"5: "</c> before a CFG error).</param>
    public void LineInfo(int insn, string prefix)
    {
        if (!Enabled || _lines.Count == 0)
        {
            return;
        }

        var line = FindLine(insn);
        if (line is null || ReferenceEquals(line, _prevLine))
        {
            return;
        }

        // Two records for the same file and line (different columns) print once: the log has no columns.
        if (_prevLine is not null && line.File == _prevLine.File && line.Line == _prevLine.Line)
        {
            return;
        }

        string file = line.File;
        int slash = file.LastIndexOf('/');
        if (slash >= 0)
        {
            file = file[(slash + 1)..];
        }

        _sb.Append(prefix).Append(line.Text.TrimStart(' ', '\t', '\n', '\v', '\f', '\r'))
           .Append(" @ ").Append(file).Append(':').Append(line.Line.ToString(CultureInfo.InvariantCulture)).Append('\n');
        _prevLine = line;
    }

    /// <summary>Forgets the last source line printed, so the next <see cref="LineInfo"/> prints its line even when it is
    /// the same (a new pass of the verifier: the kernel's <c>env->prev_linfo = NULL</c>).</summary>
    public void ForgetLastLine() => _prevLine = null;

    /// <summary>Writes the closing lines (<c>print_verification_stats</c>): with <see cref="VerifierLogLevel.Stats"/>
    /// the time and the per-function stack depths (<c>stack depth 8+0</c>), then always the <c>processed</c> line.</summary>
    /// <param name="stats">The counters.</param>
    public void WriteStats(VerifierStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        if (!Enabled)
        {
            return;
        }

        if ((Level & VerifierLogLevel.Stats) != 0)
        {
            Verbose(Msg.VerificationTime, stats.VerificationTimeUsec);
            _sb.Append(Msg.StackDepthPrefix);
            for (int i = 0; i < stats.StackDepths.Count; i++)
            {
                _sb.Append(stats.StackDepths[i].ToString(CultureInfo.InvariantCulture));
                if (i + 1 < stats.StackDepths.Count)
                {
                    _sb.Append('+');
                }
            }

            _sb.Append('\n');
        }

        Verbose(Msg.Processed, stats.InsnProcessed, VerifierStats.InsnLimit, stats.MaxStatesPerInsn, stats.TotalStates,
            stats.PeakStates, stats.MarkRead);
    }

    /// <summary>The text written so far.</summary>
    public override string ToString() => _sb.ToString();

    // find_linfo: the last record whose first slot is at or before insn.
    private LineInfo? FindLine(int insn)
    {
        int lo = 0, hi = _lines.Count - 1;
        LineInfo? best = null;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) / 2);
            if (_lines[mid].Slot <= insn)
            {
                best = _lines[mid];
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return best ?? (_lines.Count > 0 ? _lines[0] : null);
    }
}
