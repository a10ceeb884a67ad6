using System.Buffers.Binary;

namespace VethXdp.Testing.Tests;

/// <summary>An independent reading of frame bytes for the tests: walks EtherTypes and protocol numbers the way a
/// receiver does (not through the library's model), and checks lengths and checksums.</summary>
internal static class Wire
{
    public static ushort Checksum(ReadOnlySpan<byte> data, uint sum = 0)
    {
        for (int i = 0; i < data.Length; i++)
        {
            sum += (i & 1) == 0 ? (uint)data[i] << 8 : data[i];
        }

        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    public static uint PseudoSum(ReadOnlySpan<byte> frame, int ipOffset, byte proto, int length)
    {
        uint sum = 0;
        bool v6 = frame[ipOffset] >> 4 == 6;
        var addrs = v6 ? frame.Slice(ipOffset + 8, 32) : frame.Slice(ipOffset + 12, 8);
        for (int i = 0; i < addrs.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(addrs[i..]);
        }

        return sum + proto + (uint)(length >> 16) + (uint)(length & 0xffff);
    }

    /// <summary>Walks a well-formed frame and returns the problems found (empty: every length and checksum is right).</summary>
    public static List<string> Problems(ReadOnlySpan<byte> f)
    {
        var problems = new List<string>();
        int off = 12;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(f[off..]);
        off += 2;
        L2(f, ref off, ref type);
        Walk(f, off, type, problems, depth: 0);
        return problems;
    }

    private static void L2(ReadOnlySpan<byte> f, ref int off, ref ushort type)
    {
        while (type is 0x8100 or 0x88a8)
        {
            type = BinaryPrimitives.ReadUInt16BigEndian(f[(off + 2)..]);
            off += 4;
        }
    }

    private static void Walk(ReadOnlySpan<byte> f, int off, ushort type, List<string> problems, int depth)
    {
        if (depth > 4)
        {
            return;
        }

        switch (type)
        {
            case 0x0800:
                Ipv4(f, off, problems, depth);
                break;
            case 0x86dd:
                Ipv6(f, off, problems, depth);
                break;
            case 0x0806:
                if (f.Length - off < 28)
                {
                    problems.Add("ARP shorter than 28 bytes");
                }

                break;
            case 0x6558:
                int inner = off + 14;
                ushort t = BinaryPrimitives.ReadUInt16BigEndian(f[(off + 12)..]);
                L2(f, ref inner, ref t);
                Walk(f, inner, t, problems, depth + 1);
                break;
        }
    }

    private static void Ipv4(ReadOnlySpan<byte> f, int off, List<string> problems, int depth)
    {
        int ihl = (f[off] & 0xf) * 4;
        if (f[off] >> 4 != 4 || ihl < 20)
        {
            problems.Add($"IPv4 version/ihl byte 0x{f[off]:x2}");
            return;
        }

        int total = BinaryPrimitives.ReadUInt16BigEndian(f[(off + 2)..]);
        if (total != f.Length - off)
        {
            problems.Add($"IPv4 total length {total}, {f.Length - off} bytes there");
        }

        if (Checksum(f.Slice(off, ihl)) != 0)
        {
            problems.Add("IPv4 header checksum");
        }

        Options(f.Slice(off + 20, ihl - 20), "IPv4", problems);
        ushort frag = BinaryPrimitives.ReadUInt16BigEndian(f[(off + 6)..]);
        if ((frag & 0x1fff) != 0)
        {
            return;
        }

        Transport(f, off, off + ihl, f[off + 9], problems, depth);
    }

    private static void Ipv6(ReadOnlySpan<byte> f, int off, List<string> problems, int depth)
    {
        if (f[off] >> 4 != 6)
        {
            problems.Add("IPv6 version");
            return;
        }

        int plen = BinaryPrimitives.ReadUInt16BigEndian(f[(off + 4)..]);
        if (plen != f.Length - off - 40)
        {
            problems.Add($"IPv6 payload length {plen}, {f.Length - off - 40} bytes there");
        }

        byte next = f[off + 6];
        int at = off + 40;
        while (next is 0 or 43 or 60 or 44)
        {
            if (next == 44)
            {
                ushort fo = BinaryPrimitives.ReadUInt16BigEndian(f[(at + 2)..]);
                next = f[at];
                at += 8;
                if ((fo >> 3) != 0)
                {
                    return;
                }

                continue;
            }

            next = f[at];
            at += (f[at + 1] + 1) * 8;
            if (at > f.Length)
            {
                problems.Add("IPv6 extension header past the end");
                return;
            }
        }

        Transport(f, off, at, next, problems, depth);
    }

    private static void Transport(ReadOnlySpan<byte> f, int ip, int off, byte proto, List<string> problems, int depth)
    {
        int len = f.Length - off;
        switch (proto)
        {
            case 6:
                int doff = (f[off + 12] >> 4) * 4;
                if (doff < 20 || doff > len)
                {
                    problems.Add($"TCP data offset {doff}");
                    return;
                }

                if (Checksum(f[off..], PseudoSum(f, ip, 6, len)) != 0)
                {
                    problems.Add("TCP checksum");
                }

                Options(f.Slice(off + 20, doff - 20), "TCP", problems);
                break;
            case 17:
                if (BinaryPrimitives.ReadUInt16BigEndian(f[(off + 4)..]) != len)
                {
                    problems.Add("UDP length");
                }

                if (Checksum(f[off..], PseudoSum(f, ip, 17, len)) != 0)
                {
                    problems.Add("UDP checksum");
                }

                if (BinaryPrimitives.ReadUInt16BigEndian(f[(off + 2)..]) == 4789 && len >= 8 + 8 + 14)
                {
                    int inner = off + 16 + 14;
                    ushort t = BinaryPrimitives.ReadUInt16BigEndian(f[(off + 16 + 12)..]);
                    L2(f, ref inner, ref t);
                    Walk(f, inner, t, problems, depth + 1);
                }

                break;
            case 1:
                if (Checksum(f[off..]) != 0)
                {
                    problems.Add("ICMP checksum");
                }

                break;
            case 58:
                if (Checksum(f[off..], PseudoSum(f, ip, 58, len)) != 0)
                {
                    problems.Add("ICMPv6 checksum");
                }

                break;
            case 47:
                ushort flags = BinaryPrimitives.ReadUInt16BigEndian(f[off..]);
                if ((flags & 0x8000) != 0 && Checksum(f[off..]) != 0)
                {
                    problems.Add("GRE checksum");
                }

                int size = 4 + ((flags & 0x8000) != 0 ? 4 : 0) + ((flags & 0x2000) != 0 ? 4 : 0) + ((flags & 0x1000) != 0 ? 4 : 0);
                Walk(f, off + size, BinaryPrimitives.ReadUInt16BigEndian(f[(off + 2)..]), problems, depth + 1);
                break;
            case 4:
                Ipv4(f, off, problems, depth + 1);
                break;
            case 41:
                Ipv6(f, off, problems, depth + 1);
                break;
        }
    }

    /// <summary>The first bad option of an options area (length 0 or 1, or past the area), or null.</summary>
    public static string? BadOption(ReadOnlySpan<byte> area)
    {
        int i = 0;
        while (i < area.Length)
        {
            byte kind = area[i];
            if (kind == 0)
            {
                return null;
            }

            if (kind == 1)
            {
                i++;
                continue;
            }

            if (i + 1 >= area.Length)
            {
                return $"option {kind} without a length byte";
            }

            int len = area[i + 1];
            if (len < 2 || i + len > area.Length)
            {
                return $"option {kind} with length {len} at {i} of a {area.Length}-byte area";
            }

            i += len;
        }

        return null;
    }

    private static void Options(ReadOnlySpan<byte> area, string what, List<string> problems)
    {
        if (BadOption(area) is { } bad)
        {
            problems.Add($"{what} {bad}");
        }
    }
}
