using System.Globalization;

namespace VethXdp.Testing.Model;

/// <summary>A Hop-by-Hop, Routing or Destination Options header: next header, length, then <see cref="Data"/> padded with
/// zero bytes (Pad1 options) to a multiple of 8 octets.</summary>
/// <param name="Kind">Which extension header.</param>
/// <param name="Data">The bytes after the length byte (options, or the routing type, segments left and addresses).</param>
public sealed record Ipv6ExtensionHeader(Ipv6ExtensionKind Kind, ReadOnlyMemory<byte> Data) : Header
{
    /// <summary>The next header to write; null: the next header's.</summary>
    public byte? NextHeader { get; init; }

    /// <summary>The Hdr Ext Len to write (8-octet units beyond the first 8); null: the real one.</summary>
    public byte? ExtensionLength { get; init; }

    /// <inheritdoc/>
    public override string Name => Kind switch
    {
        Ipv6ExtensionKind.HopByHop => "Hop-by-Hop",
        Ipv6ExtensionKind.Routing => "Routing",
        _ => "Dest-Options",
    };

    /// <inheritdoc/>
    public override int Length => Math.Min(2048, (2 + Data.Length + 7) & ~7);

    /// <summary>The Hdr Ext Len the header's real size gives.</summary>
    public byte RealExtensionLength => (byte)((Length / 8) - 1);

    internal override int IpProtocolWhenNext => (int)Kind;

    internal override void Write(in RenderContext ctx)
    {
        var h = ctx.Here;
        h.Clear();
        h[0] = IpProtocolFor(ctx.Next, NextHeader, ctx.SomethingFollows);
        h[1] = ExtensionLength ?? RealExtensionLength;
        var data = Data.Span;
        data[..Math.Min(data.Length, h.Length - 2)].CopyTo(h[2..]);
    }

    internal override string Describe(ReadOnlySpan<byte> bytes) =>
        string.Create(CultureInfo.InvariantCulture, $"next {bytes[0]} ({Names.IpProtocol(bytes[0])})  hdr-ext-len {bytes[1]} ({(bytes[1] + 1) * 8} bytes)");

    internal override IEnumerable<Header> Simplify()
    {
        if (ExtensionLength is not null)
        {
            yield return this with { ExtensionLength = null };
        }

        if (NextHeader is not null)
        {
            yield return this with { NextHeader = null };
        }

        if (Data.Length > 6)
        {
            yield return this with { Data = Data[..6] };
        }

        if (Data.Span.ContainsAnyExcept((byte)0))
        {
            yield return this with { Data = new byte[Data.Length] };
        }
    }
}
