using System.Globalization;
using System.Text;
using PacketDotNet;
using VethXdp.Testing.Model;

namespace VethXdp.Testing;

/// <summary>Frames as text: a hex dump, and the decoding PacketDotNet gives.</summary>
public static class FrameFormatter
{
    /// <summary>A hex dump, 16 bytes a line: <c>0000  ff ff ff ff ff ff 02 00  00 00 00 01 08 00 45 00</c>.</summary>
    public static string Hex(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder();
        AppendHex(sb, bytes, string.Empty);
        return sb.ToString().TrimEnd();
    }

    /// <summary>PacketDotNet's one-line decoding of an Ethernet frame, or why it could not decode it.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return Packet.ParsePacket(LinkLayers.Ethernet, bytes.ToArray()).ToString(StringOutputType.Normal);
        }
#pragma warning disable CA1031 // PacketDotNet throws anything on malformed frames; the reason is the answer
        catch (Exception e)
#pragma warning restore CA1031
        {
            return e is IndexOutOfRangeException or ArgumentOutOfRangeException
                ? $"(PacketDotNet cannot decode it: it reads past the end of the frame, {e.GetType().Name})"
                : $"(PacketDotNet cannot decode it: {e.GetType().Name}: {e.Message})";
        }
    }

    /// <summary>The frame's lines (<see cref="Frame.Describe"/>), PacketDotNet's decoding and the hex dump.</summary>
    public static string Report(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var bytes = frame.Render();
        return frame.Describe(includeHex: false) + Environment.NewLine
            + "  decoded      " + Decode(bytes) + Environment.NewLine
            + Indent(Hex(bytes), "  ");
    }

    internal static void AppendHex(StringBuilder sb, ReadOnlySpan<byte> bytes, string indent)
    {
        for (int line = 0; line < bytes.Length; line += 16)
        {
            sb.Append(indent).Append(line.ToString("x4", CultureInfo.InvariantCulture)).Append(' ');
            for (int i = line; i < line + 16 && i < bytes.Length; i++)
            {
                sb.Append(i == line + 8 ? "  " : " ").Append(bytes[i].ToString("x2", CultureInfo.InvariantCulture));
            }

            sb.AppendLine();
        }
    }

    private static string Indent(string text, string indent) =>
        indent + text.Replace("\n", "\n" + indent, StringComparison.Ordinal);
}
