using System.Globalization;
using VethXdp.Verifier.Domains;

namespace VethXdp.Verifier.Tests.Domains;

/// <summary>Reads a scalar back from the kernel's log text (the inverse of ScalarBounds.ToString): every field the
/// kernel omits has its trivial value, so the text describes the state completely.</summary>
public static class KernelText
{
    public static ScalarBounds ParseScalar(string text)
    {
        text = text.Trim();
        if (text.StartsWith('P'))
        {
            text = text[1..];
        }

        if (!text.StartsWith("scalar(", StringComparison.Ordinal))
        {
            return ScalarBounds.Const(ParseNumber(text));
        }

        var b = ScalarBounds.Unknown;
        string inner = text["scalar(".Length..^1];
        foreach (string item in SplitTopLevel(inner))
        {
            if (item.Length == 0 || item.StartsWith("id=", StringComparison.Ordinal))
            {
                continue;
            }

            if (item.StartsWith("var_off=", StringComparison.Ordinal))
            {
                string t = item["var_off=(".Length..^1];
                string[] parts = t.Split(';');
                b.VarOff = new Tnum(ParseNumber(parts[0]), ParseNumber(parts[1]));
                continue;
            }

            string[] names = item.Split('=');
            ulong v = ParseNumber(names[^1]);
            for (int i = 0; i < names.Length - 1; i++)
            {
                switch (names[i])
                {
                    case "smin": b.SMin = (long)v; break;
                    case "smax": b.SMax = (long)v; break;
                    case "umin": b.UMin = v; break;
                    case "umax": b.UMax = v; break;
                    case "smin32": b.S32Min = (int)v; break;
                    case "smax32": b.S32Max = (int)v; break;
                    case "umin32": b.U32Min = (uint)v; break;
                    case "umax32": b.U32Max = (uint)v; break;
                    default: throw new FormatException($"unknown field '{names[i]}' in '{text}'");
                }
            }
        }

        return b;
    }

    public static ulong ParseNumber(string s)
    {
        s = s.Trim();
        if (s.StartsWith("0x", StringComparison.Ordinal))
        {
            return ulong.Parse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }

        return s.StartsWith('-')
            ? (ulong)long.Parse(s, CultureInfo.InvariantCulture)
            : ulong.Parse(s, CultureInfo.InvariantCulture);
    }

    private static IEnumerable<string> SplitTopLevel(string s)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '(')
            {
                depth++;
            }
            else if (s[i] == ')')
            {
                depth--;
            }
            else if (s[i] == ',' && depth == 0)
            {
                yield return s[start..i];
                start = i + 1;
            }
        }

        yield return s[start..];
    }
}
