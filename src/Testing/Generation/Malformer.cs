using System.Buffers.Binary;
using VethXdp.Testing.Model;

namespace VethXdp.Testing.Generation;

/// <summary>Gives a well-formed frame one named defect, with parameters that fit the frame (a length too long is longer
/// than what the frame holds, an IHL beyond the frame ends past it, ...).</summary>
internal static class Malformer
{
    private static readonly byte[] s_ipv4OptionKinds = [0x07, 0x44, 0x83, 0x89, 0x94];
    private static readonly byte[] s_tcpOptionKinds = [2, 3, 4, 5, 8];

    /// <summary>The frame with one defect of a kind drawn from <paramref name="kinds"/> by weight among those that fit the
    /// frame; null when none fits.</summary>
    public static Frame? Apply(Frame frame, List<MalformationKind> kinds, FrameRandom rng, FrameSpec spec)
    {
        var left = new List<MalformationKind>(kinds);
        Span<int> all = stackalloc int[left.Count];
        while (left.Count > 0)
        {
            var weights = all[..left.Count];
            for (int i = 0; i < left.Count; i++)
            {
                weights[i] = spec.MalformationWeight(left[i]);
            }

            int pick = rng.Weighted(weights);
            if (pick < 0)
            {
                return null;
            }

            var kind = left[pick];
            if (Apply(frame, kind, rng) is { } malformed)
            {
                return malformed;
            }

            left.RemoveAt(pick);
        }

        return null;
    }

    /// <summary>The frame with a defect of <paramref name="kind"/>, or null when the frame has nowhere to put it.</summary>
    public static Frame? Apply(Frame frame, MalformationKind kind, FrameRandom rng) => kind switch
    {
        MalformationKind.Truncated => Truncate(frame, rng),
        MalformationKind.LengthTooLong => Length(frame, rng, tooLong: true),
        MalformationKind.LengthTooShort => Length(frame, rng, tooLong: false),
        MalformationKind.IhlBelowFive => OnOne<Ipv4Header>(frame, rng, (f, i, h) => Set(f, i, h with { Ihl = (byte)rng.Next(0, 4) })),
        MalformationKind.IhlBeyondFrame => OnOne<Ipv4Header>(frame, rng, (f, i, h) => IhlBeyond(f, i, h, rng)),
        MalformationKind.WrongIpVersion => WrongVersion(frame, rng),
        MalformationKind.BadOptionLength => BadOption(frame, rng),
        MalformationKind.BadChecksum => BadChecksum(frame, rng),
        _ => null,
    };

    private static Frame? Truncate(Frame frame, FrameRandom rng)
    {
        // Boundaries after the Ethernet header: each later header, and the payload when there is one.
        int last = frame.Payload.Length > 0 ? frame.Headers.Count : frame.Headers.Count - 1;
        if (last < 1)
        {
            return null;
        }

        int b = rng.Next(1, last);
        int size = b < frame.Headers.Count ? frame.Headers[b].Length : frame.Payload.Length;
        int into = size <= 1 || rng.Percent(50) ? 0 : rng.Next(1, size - 1);
        return frame with { Cut = new FrameCut(b, into) };
    }

    private static Frame? Length(Frame frame, FrameRandom rng, bool tooLong)
    {
        var candidates = new List<int>();
        for (int i = 0; i < frame.Headers.Count; i++)
        {
            if (frame.Headers[i] is Ipv4Header or Ipv6Header or UdpHeader or TcpHeader or Ipv6ExtensionHeader)
            {
                candidates.Add(i);
            }
        }

        while (candidates.Count > 0)
        {
            int k = rng.Next(0, candidates.Count - 1);
            int i = candidates[k];
            int rest = frame.FullLength - frame.OffsetOf(i);
            Header? changed = frame.Headers[i] switch
            {
                Ipv4Header v4 => tooLong
                    ? (rest < ushort.MaxValue ? v4 with { TotalLength = (ushort)Math.Min(ushort.MaxValue, rest + rng.Next(1, 1500)) } : null)
                    : v4 with { TotalLength = (ushort)(rest > 20 && rng.Percent(60) ? rng.Next(20, rest - 1) : rng.Next(0, rest - 1)) },
                Ipv6Header v6 => tooLong
                    ? v6 with { PayloadLength = (ushort)Math.Min(ushort.MaxValue, rest - Ipv6Header.Size + rng.Next(1, 1500)) }
                    : (rest > Ipv6Header.Size ? v6 with { PayloadLength = (ushort)rng.Next(0, rest - Ipv6Header.Size - 1) } : null),
                UdpHeader udp => tooLong
                    ? udp with { DatagramLength = (ushort)Math.Min(ushort.MaxValue, rest + rng.Next(1, 1500)) }
                    : udp with { DatagramLength = (ushort)rng.Next(0, rest - 1) },
                TcpHeader tcp => tooLong
                    ? (tcp.Length < 60 ? tcp with { DataOffset = (byte)rng.Next((tcp.Length / 4) + 1, 15) } : null)
                    : tcp with { DataOffset = (byte)rng.Next(0, (tcp.Length / 4) - 1) },
                Ipv6ExtensionHeader ext => tooLong
                    ? ext with { ExtensionLength = (byte)Math.Min(255, ext.RealExtensionLength + rng.Next(1, 8)) }
                    : (ext.RealExtensionLength > 0 ? ext with { ExtensionLength = (byte)rng.Next(0, ext.RealExtensionLength - 1) } : null),
                _ => null,
            };
            if (changed is not null)
            {
                return Set(frame, i, changed);
            }

            candidates.RemoveAt(k);
        }

        return null;
    }

    private static Frame IhlBeyond(Frame frame, int i, Ipv4Header v4, FrameRandom rng)
    {
        int rest = frame.FullLength - frame.OffsetOf(i);
        if (rest >= 60)
        {
            // IHL 15 is at most 60 bytes: end the frame right after the IPv4 header (and make room for one more word).
            if (v4.Length >= 60)
            {
                v4 = v4 with { Options = [] };
                frame = Set(frame, i, v4);
            }

            frame = frame with { Cut = new FrameCut(i + 1, 0) };
            rest = v4.Length;
        }

        return Set(frame, i, v4 with { Ihl = (byte)rng.Next((rest / 4) + 1, 15) });
    }

    private static Frame? WrongVersion(Frame frame, FrameRandom rng) => OnOne<Header>(frame, rng, (f, i, h) => h switch
    {
        Ipv4Header v4 => Set(f, i, v4 with { Version = rng.Percent(50) ? (byte)6 : OtherThan(4, rng) }),
        Ipv6Header v6 => Set(f, i, v6 with { Version = rng.Percent(50) ? (byte)4 : OtherThan(6, rng) }),
        _ => null,
    }, h => h is Ipv4Header or Ipv6Header);

    private static byte OtherThan(int version, FrameRandom rng)
    {
        int v = rng.Next(0, 14);
        return (byte)(v >= version ? v + 1 : v);
    }

    private static Frame? BadOption(Frame frame, FrameRandom rng) => OnOne<Header>(frame, rng, (f, i, h) =>
    {
        bool v4 = h is Ipv4Header;
        var existing = v4 ? ((Ipv4Header)h).Options : ((TcpHeader)h).Options;
        var kinds = v4 ? s_ipv4OptionKinds : s_tcpOptionKinds;

        // The bad option first (kind, length, 2 data bytes), then the existing options that still fit in 40 bytes.
        var options = new List<HeaderOption> { new(rng.Pick(kinds), rng.Bytes(2)) };
        int used = 4;
        foreach (var o in existing)
        {
            if (used + o.Length > Ipv4Header.MaxOptions)
            {
                break;
            }

            used += o.Length;
            options.Add(o);
        }

        int area = HeaderOption.PaddedLength(options, Ipv4Header.MaxOptions);
        int choice = rng.Next(0, 2);
        byte bad = choice switch { 0 => 0, 1 => 1, _ => (byte)rng.Next(area + 1, 255) };
        options[0] = options[0] with { LengthOverride = bad };
        return Set(f, i, v4 ? ((Ipv4Header)h) with { Options = options } : ((TcpHeader)h) with { Options = options });
    }, h => h is Ipv4Header or TcpHeader);

    private static Frame? BadChecksum(Frame frame, FrameRandom rng) => OnOne<Header>(frame, rng, (f, i, h) =>
    {
        var bytes = f.RenderFull();
        int at = f.OffsetOf(i) + MalformationFinder.ChecksumOffset(h);
        ushort correct = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at));
        ushort bad;
        do
        {
            bad = (ushort)(correct ^ rng.Next(1, 0xffff));
        }
        while (h is UdpHeader && bad == 0);

        return Set(f, i, h switch
        {
            Ipv4Header v4 => v4 with { Checksum = bad },
            TcpHeader tcp => tcp with { Checksum = bad },
            UdpHeader udp => udp with { Checksum = bad },
            IcmpHeader icmp => icmp with { Checksum = bad },
            GreHeader gre => gre with { Checksum = bad },
            _ => h,
        });
    }, h => h is Ipv4Header or TcpHeader or UdpHeader or IcmpHeader or GreHeader { WithChecksum: true });

    // Applies change to one header of type T (that also passes the filter), chosen at random.
    private static Frame? OnOne<T>(Frame frame, FrameRandom rng, Func<Frame, int, T, Frame?> change, Func<Header, bool>? filter = null)
        where T : Header
    {
        var candidates = new List<int>();
        for (int i = 0; i < frame.Headers.Count; i++)
        {
            if (frame.Headers[i] is T && (filter is null || filter(frame.Headers[i])))
            {
                candidates.Add(i);
            }
        }

        while (candidates.Count > 0)
        {
            int k = rng.Next(0, candidates.Count - 1);
            int i = candidates[k];
            if (change(frame, i, (T)frame.Headers[i]) is { } changed)
            {
                return changed;
            }

            candidates.RemoveAt(k);
        }

        return null;
    }

    private static Frame Set(Frame frame, int index, Header header) =>
        frame with { Headers = MalformationFinder.Replace(frame.Headers, index, header) };
}
