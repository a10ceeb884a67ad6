using System.Globalization;
using Xunit;

namespace VethXdp.Tests.Shared;

/// <summary>A <c>corpus/verifier/objects/NAME.expect</c> file: what Linux decided about one object's program (format:
/// corpus/verifier/objects/README.md), read by the verifier's tests and by the kernel cross-check.</summary>
internal sealed record ObjectExpectation(string Program, bool Accept, string? Errno, List<string> Messages, List<string> LogLines, List<string> Absent, int Processed)
{
    public static ObjectExpectation Read(string path)
    {
        string? program = null, decision = null, errno = null;
        int processed = -1;
        var msgs = new List<string>();
        var logs = new List<string>();
        var absent = new List<string>();
        foreach (string raw in File.ReadAllLines(path))
        {
            if (raw.Length == 0 || raw[0] == '#')
            {
                continue;
            }

            int colon = raw.IndexOf(": ", StringComparison.Ordinal);
            Assert.True(colon > 0, $"{path}: malformed line \"{raw}\"");
            string key = raw[..colon], value = raw[(colon + 2)..];
            switch (key)
            {
                case "program": program = value; break;
                case "decision": decision = value; break;
                case "errno": errno = value; break;
                case "processed": processed = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "msg": msgs.Add(value); break;
                case "log": logs.Add(value); break;
                case "absent": absent.Add(value); break;
                default: Assert.Fail($"{path}: unknown key \"{key}\""); break;
            }
        }

        Assert.True(program is not null && decision is "accept" or "reject", $"{path}: program and decision are required");
        return new ObjectExpectation(program!, decision == "accept", errno, msgs, logs, absent, processed);
    }

    // The log's lines without the closing statistics, the last n of them.
    public static List<string> LastLines(string log, int n)
    {
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith("processed ", StringComparison.Ordinal) && !l.StartsWith("verification time", StringComparison.Ordinal)
                        && !l.StartsWith("stack depth", StringComparison.Ordinal))
            .ToList();
        return lines.Skip(Math.Max(0, lines.Count - n)).ToList();
    }

    public static void AssertInOrder(List<string> expected, string log)
    {
        var lines = log.Split('\n');
        int at = 0;
        foreach (string e in expected)
        {
            while (at < lines.Length && lines[at] != e)
            {
                at++;
            }

            Assert.True(at < lines.Length, $"\"{e}\" is not in the log (in this order):\n{log}");
            at++;
        }
    }

    public static int ProcessedOf(string log)
    {
        string line = log.Split('\n').Last(l => l.StartsWith("processed ", StringComparison.Ordinal));
        return int.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
    }
}
