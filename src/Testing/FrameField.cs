using VethXdp.Testing.Model;

namespace VethXdp.Testing;

/// <summary>A field of a frame, located through its model: a byte range inside the first (or innermost) header of a
/// type, or at a fixed offset. <see cref="XdpAssert.OutputEqualsInputExcept"/> takes fields a program may change.</summary>
public sealed class FrameField
{
    private readonly Func<Frame, int> _base;

    private FrameField(string name, Func<Frame, int> @base, int offset, int length)
    {
        Name = name;
        _base = @base;
        Offset = offset;
        Length = length;
    }

    /// <summary>A name for messages, e.g. "IPv4 TTL".</summary>
    public string Name { get; }

    /// <summary>The offset inside the header (or the frame).</summary>
    public int Offset { get; }

    /// <summary>The length in bytes.</summary>
    public int Length { get; }

    /// <summary>The Ethernet destination address: bytes 0-5 of every frame (raw bytes too).</summary>
    public static FrameField EthernetDestination { get; } = At("Ethernet destination", 0, 6);

    /// <summary>The Ethernet source address: bytes 6-11.</summary>
    public static FrameField EthernetSource { get; } = At("Ethernet source", 6, 6);

    /// <summary>The link layer's EtherType: bytes 12-13.</summary>
    public static FrameField EtherType { get; } = At("EtherType", 12, 2);

    /// <summary>The first IPv4 header's TOS.</summary>
    public static FrameField Ipv4Tos { get; } = Of<Ipv4Header>("IPv4 TOS", 1, 1);

    /// <summary>The first IPv4 header's TTL.</summary>
    public static FrameField Ipv4Ttl { get; } = Of<Ipv4Header>("IPv4 TTL", 8, 1);

    /// <summary>The first IPv4 header's checksum.</summary>
    public static FrameField Ipv4Checksum { get; } = Of<Ipv4Header>("IPv4 checksum", 10, 2);

    /// <summary>The first IPv4 header's source address.</summary>
    public static FrameField Ipv4Source { get; } = Of<Ipv4Header>("IPv4 source", 12, 4);

    /// <summary>The first IPv4 header's destination address.</summary>
    public static FrameField Ipv4Destination { get; } = Of<Ipv4Header>("IPv4 destination", 16, 4);

    /// <summary>The first IPv6 header's hop limit.</summary>
    public static FrameField Ipv6HopLimit { get; } = Of<Ipv6Header>("IPv6 hop limit", 7, 1);

    /// <summary>The first TCP header's ports.</summary>
    public static FrameField TcpPorts { get; } = Of<TcpHeader>("TCP ports", 0, 4);

    /// <summary>The first TCP header's checksum.</summary>
    public static FrameField TcpChecksum { get; } = Of<TcpHeader>("TCP checksum", 16, 2);

    /// <summary>The first UDP header's ports.</summary>
    public static FrameField UdpPorts { get; } = Of<UdpHeader>("UDP ports", 0, 4);

    /// <summary>The first UDP header's checksum.</summary>
    public static FrameField UdpChecksum { get; } = Of<UdpHeader>("UDP checksum", 6, 2);

    /// <summary>The first ICMP or ICMPv6 header's type, code and checksum.</summary>
    public static FrameField IcmpTypeCodeChecksum { get; } = Of<IcmpHeader>("ICMP type, code and checksum", 0, 4);

    /// <summary>Bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="length"/> of the first header
    /// of type <typeparamref name="T"/> (absent when the frame has none).</summary>
    public static FrameField Of<T>(string name, int offset, int length)
        where T : Header => new(name, f => f.IndexOf<T>() is int i and >= 0 ? f.OffsetOf(i) : -1, offset, length);

    /// <summary>The same bytes in the innermost (last) header of type <typeparamref name="T"/>.</summary>
    public static FrameField OfInnermost<T>(string name, int offset, int length)
        where T : Header => new(name, f => LastIndex<T>(f) is int i and >= 0 ? f.OffsetOf(i) : -1, offset, length);

    /// <summary>Bytes at a fixed offset of the frame.</summary>
    public static FrameField At(string name, int offset, int length) => new(name, _ => 0, offset, length);

    /// <summary>Where the field is in <paramref name="frame"/>'s bytes; false when the frame has no such header.</summary>
    public bool TryLocate(Frame frame, out int offset, out int length)
    {
        ArgumentNullException.ThrowIfNull(frame);
        int b = _base(frame);
        offset = b < 0 ? 0 : b + Offset;
        length = b < 0 ? 0 : Length;
        return b >= 0;
    }

    /// <summary>The name.</summary>
    public override string ToString() => Name;

    private static int LastIndex<T>(Frame f)
        where T : Header
    {
        for (int i = f.Headers.Count - 1; i >= 0; i--)
        {
            if (f.Headers[i] is T)
            {
                return i;
            }
        }

        return -1;
    }
}
