using System.Buffers.Binary;
using System.Globalization;

namespace VethXdp.Testing.Model;

/// <summary>A UDP header (RFC 768, 8 bytes). The length and checksum are computed unless overridden.</summary>
public sealed record UdpHeader : Header
{
    /// <summary>The header's size.</summary>
    public const int Size = 8;

    /// <summary>VXLAN's port (RFC 7348).</summary>
    public const ushort VxlanPort = 4789;

    /// <summary>The source port.</summary>
    public ushort SourcePort { get; init; }

    /// <summary>The destination port.</summary>
    public ushort DestinationPort { get; init; }

    /// <summary>The length field to write; null: the bytes from this header to the end of the frame.</summary>
    public ushort? DatagramLength { get; init; }

    /// <summary>The checksum to write; null: the correct one (0xffff for a computed 0).</summary>
    public ushort? Checksum { get; init; }

    /// <inheritdoc/>
    public override string Name => "UDP";

    /// <inheritdoc/>
    public override int Length => Size;

    internal override int IpProtocolWhenNext => 17;

    internal override void Write(in RenderContext ctx)
    {
        var h = ctx.Here;
        var datagram = ctx.Frame[ctx.Offset..];
        BinaryPrimitives.WriteUInt16BigEndian(h, SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], DatagramLength ?? (ushort)Math.Min(ushort.MaxValue, datagram.Length));
        BinaryPrimitives.WriteUInt16BigEndian(h[6..], 0);
        ushort sum = Model.Checksum.Finish(Model.Checksum.Add(Model.Checksum.Pseudo(ctx.EnclosingIp, 17, datagram.Length), datagram));
        BinaryPrimitives.WriteUInt16BigEndian(h[6..], Checksum ?? (sum == 0 ? (ushort)0xffff : sum));
    }

    internal override string Describe(ReadOnlySpan<byte> bytes) => string.Create(CultureInfo.InvariantCulture,
        $"{BinaryPrimitives.ReadUInt16BigEndian(bytes)} > {BinaryPrimitives.ReadUInt16BigEndian(bytes[2..])}  len {BinaryPrimitives.ReadUInt16BigEndian(bytes[4..])}  csum {Names.Hex(BinaryPrimitives.ReadUInt16BigEndian(bytes[6..]))}");

    internal override IEnumerable<Header> Simplify()
    {
        if (DatagramLength is not null)
        {
            yield return this with { DatagramLength = null };
        }

        if (Checksum is not null)
        {
            yield return this with { Checksum = null };
        }

        if (SourcePort != 0)
        {
            yield return this with { SourcePort = 0 };
        }

        if (DestinationPort != 0)
        {
            yield return this with { DestinationPort = 0 };
        }
    }
}
