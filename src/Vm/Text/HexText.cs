using System.Text;

namespace VethXdp.Vm.Text;

/// <summary>Base16 text as the command line and bpf_conformance's plugin protocol exchange it.</summary>
public static class HexText
{
    /// <summary>Parses hex digits, with or without whitespace between bytes (<c>b7 01</c>, <c>b701</c>, <c>b7  01 </c>).</summary>
    /// <remarks>Within one whitespace-separated token, digits pair up from the left; a token of odd length is an error,
    /// as is any character that is neither a hex digit nor whitespace. An optional <c>0x</c> prefix on a token is allowed.</remarks>
    /// <exception cref="FormatException">The text is not hex; the message names the offending character and its position.</exception>
    public static byte[] Parse(string text, string what = "hex input")
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<byte>(text.Length / 2);
        int i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                i++;
                continue;
            }

            int start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            int tokenStart = start;
            if (i - start >= 2 && text[start] == '0' && (text[start + 1] == 'x' || text[start + 1] == 'X'))
            {
                tokenStart += 2;
            }

            if ((i - tokenStart) % 2 != 0)
            {
                throw new FormatException($"{what}: odd number of hex digits in \"{text[start..i]}\" at character {start + 1}");
            }

            for (int j = tokenStart; j < i; j += 2)
            {
                int hi = Digit(text[j]), lo = Digit(text[j + 1]);
                if (hi < 0 || lo < 0)
                {
                    int bad = hi < 0 ? j : j + 1;
                    throw new FormatException($"{what}: '{text[bad]}' at character {bad + 1} is not a hex digit");
                }

                result.Add((byte)((hi << 4) | lo));
            }
        }

        return [.. result];
    }

    /// <summary>True when the text holds only hex digits and whitespace, and at least one digit.</summary>
    public static bool LooksLikeHex(ReadOnlySpan<byte> content)
    {
        bool any = false;
        foreach (byte b in content)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                continue;
            }

            if (Digit((char)b) < 0)
            {
                return false;
            }

            any = true;
        }

        return any;
    }

    /// <summary>Formats bytes as lowercase hex pairs separated by <paramref name="separator"/>.</summary>
    public static string Format(ReadOnlySpan<byte> bytes, string separator = " ")
    {
        var sb = new StringBuilder(bytes.Length * (2 + separator.Length));
        for (int i = 0; i < bytes.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(separator);
            }

            sb.Append(bytes[i].ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    private static int Digit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
