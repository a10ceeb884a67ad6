namespace VethXdp.Kernel;

/// <summary>Reading a verifier log: the line that says why a program was refused.</summary>
public static class KernelLog
{
    /// <summary>Number of non-empty lines.</summary>
    /// <param name="log">The log.</param>
    public static int LineCount(string log)
    {
        ArgumentNullException.ThrowIfNull(log);
        int n = 0;
        foreach (var line in log.AsSpan().EnumerateLines())
        {
            if (!line.IsWhiteSpace())
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>The last non-empty line that is not one of the closing statistics lines
    /// (<c>processed N insns</c>, <c>verification time</c>, <c>stack depth</c>), or null for an empty log.</summary>
    /// <param name="log">The log.</param>
    public static string? Reason(string log)
    {
        ArgumentNullException.ThrowIfNull(log);
        string[] lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (int i = lines.Length - 1; i >= 0; i--)
        {
            string l = lines[i];
            if (l.StartsWith("processed ", StringComparison.Ordinal) || l.StartsWith("verification time", StringComparison.Ordinal)
                || l.StartsWith("stack depth", StringComparison.Ordinal))
            {
                continue;
            }

            return l;
        }

        return null;
    }
}
