using System.Buffers.Binary;
using VethXdp.Vm.Runtime;

namespace VethXdp.Testing.Model;

/// <summary>An Ethernet II header (14 bytes): destination, source, EtherType. As the first header of a frame it is the
/// frame's link layer; after GRE (EtherType 0x6558) or VXLAN it is an inner frame.</summary>
/// <param name="Destination">The destination address.</param>
/// <param name="Source">The source address.</param>
/// <param name="EtherType">The EtherType to write; null: the next header's (0x88b5, local experimental, when there is
/// none or it has no EtherType).</param>
public sealed record EthernetHeader(MacAddress Destination, MacAddress Source, ushort? EtherType = null) : Header
{
    /// <summary>The header's size.</summary>
    public const int Size = 14;

    /// <inheritdoc/>
    public override string Name => "Ethernet";

    /// <inheritdoc/>
    public override int Length => Size;

    internal override int EtherTypeWhenNext => 0x6558;

    internal override void Write(in RenderContext ctx)
    {
        var h = ctx.Here;
        Destination.WriteTo(h);
        Source.WriteTo(h[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(h[12..], EtherTypeFor(ctx.Next, EtherType));
    }

    internal override string Describe(ReadOnlySpan<byte> bytes)
    {
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(bytes[12..]);
        return $"{Macs.Read(bytes[6..])} > {Macs.Read(bytes)}  type {Names.Hex(type)} ({Names.EtherType(type)})";
    }

    internal override IEnumerable<Header> Simplify()
    {
        if (EtherType is not null)
        {
            yield return this with { EtherType = null };
        }

        if (Destination != Macs.Zero)
        {
            yield return this with { Destination = Macs.Zero };
        }

        if (Source != Macs.Zero)
        {
            yield return this with { Source = Macs.Zero };
        }
    }
}
