using System.Buffers.Binary;
using System.Globalization;

namespace VethXdp.Testing.Model;

/// <summary>The IPv6 Fragment header (44, 8 bytes). A fragment with a non-zero offset carries no transport header.</summary>
/// <param name="FragmentOffset">The offset in 8-octet units (13 bits).</param>
/// <param name="MoreFragments">The M flag.</param>
/// <param name="Identification">The identification.</param>
public sealed record Ipv6FragmentHeader(ushort FragmentOffset, bool MoreFragments, uint Identification) : Header
{
    /// <summary>The next header to write; null: the next header's.</summary>
    public byte? NextHeader { get; init; }

    /// <inheritdoc/>
    public override string Name => "Fragment";

    /// <inheritdoc/>
    public override int Length => 8;

    internal override int IpProtocolWhenNext => 44;

    internal override void Write(in RenderContext ctx)
    {
        var h = ctx.Here;
        h[0] = IpProtocolFor(ctx.Next, NextHeader, ctx.SomethingFollows);
        h[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], (ushort)((FragmentOffset << 3) | (MoreFragments ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], Identification);
    }

    internal override string Describe(ReadOnlySpan<byte> bytes)
    {
        ushort off = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        return string.Create(CultureInfo.InvariantCulture,
            $"next {bytes[0]} ({Names.IpProtocol(bytes[0])})  offset {(off >> 3) * 8}{((off & 1) != 0 ? " M" : string.Empty)}  id {BinaryPrimitives.ReadUInt32BigEndian(bytes[4..])}");
    }

    internal override IEnumerable<Header> Simplify()
    {
        if (NextHeader is not null)
        {
            yield return this with { NextHeader = null };
        }

        if (FragmentOffset != 0)
        {
            yield return this with { FragmentOffset = 0 };
        }

        if (MoreFragments)
        {
            yield return this with { MoreFragments = false };
        }

        if (Identification != 0)
        {
            yield return this with { Identification = 0 };
        }
    }
}
