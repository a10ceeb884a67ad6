using System.Buffers.Binary;
using System.Globalization;

namespace VethXdp.Testing.Model;

/// <summary>A VXLAN header (RFC 7348, 8 bytes) after UDP to port 4789: flags (0x08: VNI valid), the 24-bit VNI; an inner
/// Ethernet frame follows.</summary>
/// <param name="Vni">The VXLAN network identifier (24 bits).</param>
/// <param name="Flags">The flags byte (0x08).</param>
public sealed record VxlanHeader(uint Vni, byte Flags = 0x08) : Header
{
    /// <inheritdoc/>
    public override string Name => "VXLAN";

    /// <inheritdoc/>
    public override int Length => 8;

    internal override void Write(in RenderContext ctx)
    {
        var h = ctx.Here;
        BinaryPrimitives.WriteUInt32BigEndian(h, (uint)Flags << 24);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], (Vni & 0xffffff) << 8);
    }

    internal override string Describe(ReadOnlySpan<byte> bytes) => string.Create(CultureInfo.InvariantCulture,
        $"vni {BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]) >> 8}  flags {Names.Hex(bytes[0])}");

    internal override IEnumerable<Header> Simplify()
    {
        if (Vni != 0)
        {
            yield return this with { Vni = 0 };
        }

        if (Flags != 0x08)
        {
            yield return this with { Flags = 0x08 };
        }
    }
}
