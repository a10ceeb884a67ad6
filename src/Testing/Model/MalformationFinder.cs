using System.Buffers.Binary;
using System.Globalization;

namespace VethXdp.Testing.Model;

/// <summary>Finds a frame's defects: a cut, raw bytes, and every override that makes a field disagree with what the
/// frame really holds.</summary>
internal static class MalformationFinder
{
    public static IReadOnlyList<Malformation> Find(Frame frame)
    {
        var found = new List<Malformation>();
        if (frame.Headers.Count == 0)
        {
            if (frame.Payload.Length > 0)
            {
                found.Add(new Malformation(MalformationKind.RandomBytes, -1, $"{frame.Payload.Length} bytes without headers"));
            }

            return found;
        }

        int full = frame.FullLength;
        int length = frame.Length;
        if (length < full && frame.Cut is { } cut)
        {
            string where = cut.HeaderIndex < frame.Headers.Count ? frame.Headers[cut.HeaderIndex].Name : "payload";
            found.Add(new Malformation(MalformationKind.Truncated, Math.Min(cut.HeaderIndex, frame.Headers.Count),
                cut.Into == 0 ? $"ends where the {where} starts ({length} of {full} bytes)" : $"ends {cut.Into} bytes into the {where} ({length} of {full} bytes)"));
        }

        byte[]? bytes = null;
        int off = 0;
        for (int i = 0; i < frame.Headers.Count; i++)
        {
            var h = frame.Headers[i];
            int there = Math.Max(0, length - off);
            switch (h)
            {
                case Ipv4Header v4:
                    FindIpv4(found, i, v4, full - off, there);
                    break;
                case Ipv6Header v6:
                    if (v6.Version != 6)
                    {
                        found.Add(new Malformation(MalformationKind.WrongIpVersion, i, $"IPv6 header with version {v6.Version}"));
                    }

                    Compare(found, i, v6.PayloadLength, full - off - Ipv6Header.Size, "IPv6 payload length");
                    break;
                case Ipv6ExtensionHeader ext:
                    Compare(found, i, ext.ExtensionLength, ext.RealExtensionLength, $"{ext.Name} Hdr Ext Len");
                    break;
                case TcpHeader tcp:
                    Compare(found, i, tcp.DataOffset, tcp.Length / 4, "TCP data offset");
                    Options(found, i, tcp.Options, "TCP");
                    break;
                case UdpHeader udp:
                    Compare(found, i, udp.DatagramLength, full - off, "UDP length");
                    break;
            }

            if (ChecksumOverride(h) is not null)
            {
                bytes ??= frame.RenderFull();
                var fixedFrame = frame with { Cut = null, Headers = Replace(frame.Headers, i, WithoutChecksum(h)) };
                var good = fixedFrame.Render();
                int at = off + ChecksumOffset(h);
                ushort written = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at));
                ushort correct = BinaryPrimitives.ReadUInt16BigEndian(good.AsSpan(at));
                if (written != correct)
                {
                    found.Add(new Malformation(MalformationKind.BadChecksum, i,
                        string.Create(CultureInfo.InvariantCulture, $"{h.Name} checksum {Names.Hex(written)}, correct {Names.Hex(correct)}")));
                }
            }

            off += h.Length;
        }

        return found;
    }

    private static void FindIpv4(List<Malformation> found, int i, Ipv4Header v4, int fullRemaining, int there)
    {
        if (v4.Version != 4)
        {
            found.Add(new Malformation(MalformationKind.WrongIpVersion, i, $"IPv4 header with version {v4.Version}"));
        }

        if (v4.Ihl is { } ihl)
        {
            if (ihl < 5)
            {
                found.Add(new Malformation(MalformationKind.IhlBelowFive, i, $"IHL {ihl}"));
            }
            else if (ihl * 4 > there)
            {
                found.Add(new Malformation(MalformationKind.IhlBeyondFrame, i, $"IHL {ihl} ({ihl * 4} bytes), {there} bytes there"));
            }
            else
            {
                Compare(found, i, ihl, v4.Length / 4, "IPv4 IHL");
            }
        }

        Compare(found, i, v4.TotalLength, fullRemaining, "IPv4 total length");
        Options(found, i, v4.Options, "IPv4");
    }

    private static void Compare(List<Malformation> found, int i, int? written, int real, string what)
    {
        if (written is { } w && w != real)
        {
            found.Add(new Malformation(w > real ? MalformationKind.LengthTooLong : MalformationKind.LengthTooShort, i, $"{what} {w}, really {real}"));
        }
    }

    private static void Options(List<Malformation> found, int i, IReadOnlyList<HeaderOption> options, string what)
    {
        foreach (var o in options)
        {
            if (o.LengthOverride is { } len && len != o.Length)
            {
                found.Add(new Malformation(MalformationKind.BadOptionLength, i, $"{what} option {o.Kind} with length {len}"));
            }
        }
    }

    private static ushort? ChecksumOverride(Header h) => h switch
    {
        Ipv4Header v4 => v4.Checksum,
        TcpHeader tcp => tcp.Checksum,
        UdpHeader udp => udp.Checksum,
        IcmpHeader icmp => icmp.Checksum,
        GreHeader { WithChecksum: true } gre => gre.Checksum,
        _ => null,
    };

    private static Header WithoutChecksum(Header h) => h switch
    {
        Ipv4Header v4 => v4 with { Checksum = null },
        TcpHeader tcp => tcp with { Checksum = null },
        UdpHeader udp => udp with { Checksum = null },
        IcmpHeader icmp => icmp with { Checksum = null },
        GreHeader gre => gre with { Checksum = null },
        _ => h,
    };

    internal static int ChecksumOffset(Header h) => h switch
    {
        Ipv4Header => 10,
        TcpHeader => 16,
        UdpHeader => 6,
        IcmpHeader => 2,
        GreHeader => 4,
        _ => -1,
    };

    internal static IReadOnlyList<Header> Replace(IReadOnlyList<Header> headers, int index, Header header)
    {
        var list = new Header[headers.Count];
        for (int i = 0; i < list.Length; i++)
        {
            list[i] = i == index ? header : headers[i];
        }

        return list;
    }
}
