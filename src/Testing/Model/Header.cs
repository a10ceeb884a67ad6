namespace VethXdp.Testing.Model;

/// <summary>One header of a <see cref="Frame"/>. Fields that other headers determine (the next protocol, lengths,
/// checksums) are computed when the frame is rendered, unless an override sets them: a malformed frame is a model
/// with overrides, so it renders, prints and shrinks like any other.</summary>
public abstract record Header
{
    /// <summary>A short name: "Ethernet", "802.1Q", "IPv4", "TCP", ...</summary>
    public abstract string Name { get; }

    /// <summary>The bytes the header occupies in the frame.</summary>
    public abstract int Length { get; }

    /// <summary>The EtherType that announces this header after an Ethernet header or VLAN tag (-1: none).</summary>
    internal virtual int EtherTypeWhenNext => -1;

    /// <summary>The IP protocol number that announces this header after an IP header (-1: none).</summary>
    internal virtual int IpProtocolWhenNext => -1;

    /// <summary>True for IPv4 and IPv6 headers (the pseudo-header owners).</summary>
    internal virtual bool IsIp => false;

    /// <summary>Writes the header at <see cref="RenderContext.Offset"/>; everything after it is already written.</summary>
    internal abstract void Write(in RenderContext ctx);

    /// <summary>One line describing the header as it was written (<paramref name="bytes"/>: its bytes in the uncut frame).</summary>
    internal abstract string Describe(ReadOnlySpan<byte> bytes);

    /// <summary>Simpler variants of this header, for shrinking: options removed, fields zeroed, overrides dropped.</summary>
    internal abstract IEnumerable<Header> Simplify();

    /// <summary>The EtherType written by an L2 header with <paramref name="override"/> before <paramref name="next"/>.</summary>
    internal static ushort EtherTypeFor(Header? next, ushort? @override) =>
        @override ?? (next is { EtherTypeWhenNext: >= 0 } n ? (ushort)n.EtherTypeWhenNext : Frame.ExperimentalEtherType);

    /// <summary>The protocol written by an IP header (or extension header) before <paramref name="next"/>.</summary>
    internal static byte IpProtocolFor(Header? next, byte? @override, bool payloadFollows) =>
        @override ?? (next is { IpProtocolWhenNext: >= 0 } n ? (byte)n.IpProtocolWhenNext
            : next is null && !payloadFollows ? Frame.NoNextHeader : Frame.ExperimentalProtocol);
}
