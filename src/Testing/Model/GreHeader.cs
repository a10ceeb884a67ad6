using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace VethXdp.Testing.Model;

/// <summary>A GRE header (RFC 2784 with the RFC 2890 key and sequence number): 4 bytes, plus 4 for each of checksum,
/// key and sequence when present. The protocol is the next header's EtherType (0x0800, 0x86dd, 0x6558 for Ethernet)
/// unless overridden.</summary>
public sealed record GreHeader : Header
{
    /// <summary>True to carry a checksum (C bit) over the GRE header and everything after it.</summary>
    public bool WithChecksum { get; init; }

    /// <summary>The key (K bit), when present.</summary>
    public uint? Key { get; init; }

    /// <summary>The sequence number (S bit), when present.</summary>
    public uint? Sequence { get; init; }

    /// <summary>The protocol type to write; null: the next header's EtherType.</summary>
    public ushort? Protocol { get; init; }

    /// <summary>The checksum to write when <see cref="WithChecksum"/>; null: the correct one.</summary>
    public ushort? Checksum { get; init; }

    /// <inheritdoc/>
    public override string Name => "GRE";

    /// <inheritdoc/>
    public override int Length => 4 + (WithChecksum ? 4 : 0) + (Key is null ? 0 : 4) + (Sequence is null ? 0 : 4);

    internal override int IpProtocolWhenNext => 47;

    internal override void Write(in RenderContext ctx)
    {
        var h = ctx.Here;
        h.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(h, (ushort)((WithChecksum ? 0x8000 : 0) | (Key is null ? 0 : 0x2000) | (Sequence is null ? 0 : 0x1000)));
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], EtherTypeFor(ctx.Next, Protocol));
        int at = 4 + (WithChecksum ? 4 : 0);
        if (Key is { } key)
        {
            BinaryPrimitives.WriteUInt32BigEndian(h[at..], key);
            at += 4;
        }

        if (Sequence is { } seq)
        {
            BinaryPrimitives.WriteUInt32BigEndian(h[at..], seq);
        }

        if (WithChecksum)
        {
            BinaryPrimitives.WriteUInt16BigEndian(h[4..], Checksum ?? Model.Checksum.Compute(ctx.Frame[ctx.Offset..]));
        }
    }

    internal override string Describe(ReadOnlySpan<byte> bytes)
    {
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(bytes);
        ushort proto = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"proto {Names.Hex(proto)} ({Names.EtherType(proto)})");
        int at = 4;
        if ((flags & 0x8000) != 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  csum {Names.Hex(BinaryPrimitives.ReadUInt16BigEndian(bytes[at..]))}");
            at += 4;
        }

        if ((flags & 0x2000) != 0 && at + 4 <= bytes.Length)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  key {BinaryPrimitives.ReadUInt32BigEndian(bytes[at..])}");
            at += 4;
        }

        if ((flags & 0x1000) != 0 && at + 4 <= bytes.Length)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  seq {BinaryPrimitives.ReadUInt32BigEndian(bytes[at..])}");
        }

        return sb.ToString();
    }

    internal override IEnumerable<Header> Simplify()
    {
        if (Protocol is not null)
        {
            yield return this with { Protocol = null };
        }

        if (Checksum is not null)
        {
            yield return this with { Checksum = null };
        }

        if (WithChecksum)
        {
            yield return this with { WithChecksum = false, Checksum = null };
        }

        if (Key is not null)
        {
            yield return this with { Key = null };
        }

        if (Sequence is not null)
        {
            yield return this with { Sequence = null };
        }
    }
}
