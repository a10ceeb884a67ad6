using VethXdp.Vm.Programs;

namespace VethXdp.Reports;

/// <summary>The source line (BTF line_info) and function of every slot of a linked program, looked up in O(1).</summary>
public sealed class SourceLines
{
    private readonly LineInfo?[] _lines;
    private readonly FunctionInfo?[] _functions;

    /// <summary>Indexes <paramref name="spec"/>'s line and function tables.</summary>
    public SourceLines(ProgramSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int n = spec.Slots.Count;
        _lines = new LineInfo?[n];
        _functions = new FunctionInfo?[n];
        int next = 0;
        LineInfo? current = null;
        var lines = spec.Lines;
        for (int slot = 0; slot < n; slot++)
        {
            while (next < lines.Count && lines[next].Slot <= slot)
            {
                current = lines[next++];
            }

            _lines[slot] = current;
        }

        var functions = spec.Functions.OrderBy(f => f.StartSlot).ToArray();
        for (int i = 0; i < functions.Length; i++)
        {
            int end = i + 1 < functions.Length ? Math.Min(functions[i + 1].StartSlot, n) : n;
            for (int slot = Math.Max(functions[i].StartSlot, 0); slot < end; slot++)
            {
                _functions[slot] = functions[i];
            }
        }
    }

    /// <summary>The line that covers <paramref name="slot"/> (the last line_info at or before it), or null.</summary>
    public LineInfo? LineAt(int slot) => (uint)slot < (uint)_lines.Length ? _lines[slot] : null;

    /// <summary>The function <paramref name="slot"/> belongs to, or null.</summary>
    public FunctionInfo? FunctionAt(int slot) => (uint)slot < (uint)_functions.Length ? _functions[slot] : null;

    /// <summary>"file.c:22" for a line (the file's name without its directories).</summary>
    public static string Location(LineInfo line)
    {
        ArgumentNullException.ThrowIfNull(line);
        return Path.GetFileName(line.File) + ":" + line.Line.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
