using System.Buffers.Binary;
using VethXdp.Testing.Model;

namespace VethXdp.Testing.Tests;

/// <summary>Every named malformation really is in the bytes of the frames made with it: checked on the rendered bytes
/// (headers located by the model's offsets, fields read from the wire), not through the library's own analysis.</summary>
public class MalformationTests
{
    public static TheoryData<MalformationKind> Kinds() => [.. Enum.GetValues<MalformationKind>()];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Malformed_EveryFrame_HasTheDefectInItsBytes(MalformationKind kind)
    {
        var frames = Frames.Spec().Malformed(1.0, kind).Sample(300, seed: (ulong)kind + 100);
        int defective = 0;
        foreach (var frame in frames)
        {
            if (!frame.IsMalformed)
            {
                continue;   // a frame with nowhere to put this defect (no IPv4 header for an IHL, ...) stays well-formed
            }

            Assert.True(HasDefect(frame, kind), $"{kind} not found in the bytes of\n{frame}");
            Assert.Contains(frame.Malformations, m => m.Kind == kind);
            defective++;
        }

        Assert.True(defective >= 50, $"only {defective} of 300 frames got {kind}");
    }

    [Fact]
    public void Truncated_Ipv4Tcp_CutAtEveryHeaderBoundary()
    {
        var frames = Frames.Spec().Ipv4().Tcp().Untagged().Payload(1, 30).Malformed(1.0, MalformationKind.Truncated).Sample(400, seed: 1);
        var seen = new HashSet<string>();
        foreach (var frame in frames)
        {
            var bytes = frame.Render();
            var full = frame.RenderFull();
            int ipEnd = 14 + ((full[14] & 0xf) * 4);
            int tcpEnd = ipEnd + ((full[ipEnd + 12] >> 4) * 4);
            seen.Add(bytes.Length switch
            {
                14 => "after Ethernet",
                _ when bytes.Length == ipEnd => "after IPv4",
                _ when bytes.Length == tcpEnd => "after TCP",
                _ when bytes.Length < ipEnd => "inside IPv4",
                _ when bytes.Length < tcpEnd => "inside TCP",
                _ => "inside the payload",
            });
        }

        Assert.Equal(["after Ethernet", "after IPv4", "after TCP", "inside IPv4", "inside TCP", "inside the payload"], seen.Order());
    }

    [Fact]
    public void IhlBeyondFrame_LongFrame_IsCutAfterTheHeader()
    {
        var frames = Frames.Spec().Ipv4().Udp().Untagged().Payload(100, 200).Malformed(1.0, MalformationKind.IhlBeyondFrame).Sample(50, seed: 2);
        Assert.All(frames, f =>
        {
            var b = f.Render();
            Assert.True((b[14] & 0xf) * 4 > b.Length - 14, f.ToString());
        });
    }

    [Fact]
    public void MalformedProbability_Half_AboutHalfTheFrames()
    {
        var frames = Frames.Spec().Malformed(0.5).Sample(1000, seed: 3);
        int n = frames.Count(f => f.IsMalformed);
        Assert.InRange(n, 400, 600);
    }

    [Fact]
    public void WellFormed_NoFrame_IsMalformed()
    {
        Assert.DoesNotContain(Frames.Spec().WellFormed().Sample(500, seed: 4), f => f.IsMalformed);
    }

    private static bool HasDefect(Frame frame, MalformationKind kind)
    {
        var b = frame.Render();
        if (kind == MalformationKind.RandomBytes)
        {
            return frame.Headers.Count == 0 && b.Length >= Frames.MinLength && b.AsSpan().SequenceEqual(frame.Payload.Span);
        }

        if (kind == MalformationKind.Truncated)
        {
            var full = frame.RenderFull();
            return b.Length < full.Length && full.AsSpan(0, b.Length).SequenceEqual(b) && frame.Cut is { } c
                && b.Length == frame.OffsetOf(c.HeaderIndex) + c.Into;
        }

        if (kind == MalformationKind.BadChecksum)
        {
            var problems = Wire.Problems(b);
            return problems.Count == 1 && problems[0].Contains("checksum", StringComparison.Ordinal);
        }

        for (int i = 0; i < frame.Headers.Count; i++)
        {
            int off = frame.OffsetOf(i);
            int there = b.Length - off;
            int size = frame.Headers[i].Length;
            if (there <= 0)
            {
                break;
            }

            bool found = (kind, frame.Headers[i]) switch
            {
                (MalformationKind.LengthTooLong, Ipv4Header) => BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(off + 2)) > there,
                (MalformationKind.LengthTooLong, Ipv6Header) => BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(off + 4)) > there - 40,
                (MalformationKind.LengthTooLong, UdpHeader) => BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(off + 4)) > there,
                (MalformationKind.LengthTooLong, TcpHeader) => (b[off + 12] >> 4) * 4 > size,
                (MalformationKind.LengthTooLong, Ipv6ExtensionHeader) => (b[off + 1] + 1) * 8 > size,
                (MalformationKind.LengthTooShort, Ipv4Header) => BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(off + 2)) < there,
                (MalformationKind.LengthTooShort, Ipv6Header) => BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(off + 4)) < there - 40,
                (MalformationKind.LengthTooShort, UdpHeader) => BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(off + 4)) < there,
                (MalformationKind.LengthTooShort, TcpHeader) => (b[off + 12] >> 4) * 4 < size,
                (MalformationKind.LengthTooShort, Ipv6ExtensionHeader) => (b[off + 1] + 1) * 8 < size,
                (MalformationKind.IhlBelowFive, Ipv4Header) => b[off] >> 4 == 4 && (b[off] & 0xf) < 5,
                (MalformationKind.IhlBeyondFrame, Ipv4Header) => (b[off] & 0xf) * 4 > there,
                (MalformationKind.WrongIpVersion, Ipv4Header) => b[off] >> 4 != 4 && Announced(frame, b, i) is 0x0800 or 4,
                (MalformationKind.WrongIpVersion, Ipv6Header) => b[off] >> 4 != 6 && Announced(frame, b, i) is 0x86dd or 41,
                (MalformationKind.BadOptionLength, Ipv4Header) => Wire.BadOption(b.AsSpan(off + 20, ((b[off] & 0xf) * 4) - 20)) is not null,
                (MalformationKind.BadOptionLength, TcpHeader) => Wire.BadOption(b.AsSpan(off + 20, ((b[off + 12] >> 4) * 4) - 20)) is not null,
                _ => false,
            };
            if (found)
            {
                return true;
            }
        }

        return false;
    }

    // The EtherType (or IP protocol) with which the header before header i announces it, read from the bytes.
    private static int Announced(Frame frame, byte[] b, int i)
    {
        int p = frame.OffsetOf(i - 1);
        return frame.Headers[i - 1] switch
        {
            EthernetHeader => BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(p + 12)),
            VlanTag or GreHeader => BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(p + 2)),
            Ipv4Header => b[p + 9],
            Ipv6Header => b[p + 6],
            _ => b[p],
        };
    }
}
