using System.Buffers.Binary;

namespace VethXdp.Testing.Model;

/// <summary>An 802.1Q (TPID 0x8100) or 802.1ad (TPID 0x88a8, the outer tag of QinQ) tag: 4 bytes after the header
/// before it, which announces it with <see cref="Tpid"/>: the tag control information and the next EtherType.</summary>
/// <param name="Vid">The VLAN id (12 bits).</param>
/// <param name="Priority">The priority code point (3 bits).</param>
/// <param name="DropEligible">The drop eligible indicator.</param>
/// <param name="Tpid">The tag protocol identifier the previous header writes as its EtherType.</param>
/// <param name="EtherType">The EtherType to write; null: the next header's.</param>
public sealed record VlanTag(ushort Vid, byte Priority = 0, bool DropEligible = false, ushort Tpid = VlanTag.Dot1Q, ushort? EtherType = null) : Header
{
    /// <summary>802.1Q's TPID.</summary>
    public const ushort Dot1Q = 0x8100;

    /// <summary>802.1ad's TPID (the service tag of QinQ).</summary>
    public const ushort Dot1AD = 0x88a8;

    /// <inheritdoc/>
    public override string Name => Tpid == Dot1AD ? "802.1ad" : "802.1Q";

    /// <inheritdoc/>
    public override int Length => 4;

    internal override int EtherTypeWhenNext => Tpid;

    /// <summary>The tag control information: priority, DEI, VID.</summary>
    public ushort Tci => (ushort)((Priority << 13) | (DropEligible ? 0x1000 : 0) | (Vid & 0x0fff));

    internal override void Write(in RenderContext ctx)
    {
        var h = ctx.Here;
        BinaryPrimitives.WriteUInt16BigEndian(h, Tci);
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], EtherTypeFor(ctx.Next, EtherType));
    }

    internal override string Describe(ReadOnlySpan<byte> bytes)
    {
        ushort tci = BinaryPrimitives.ReadUInt16BigEndian(bytes);
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        return $"vid {tci & 0xfff} pcp {tci >> 13}{((tci & 0x1000) != 0 ? " dei" : string.Empty)}  type {Names.Hex(type)} ({Names.EtherType(type)})";
    }

    internal override IEnumerable<Header> Simplify()
    {
        if (EtherType is not null)
        {
            yield return this with { EtherType = null };
        }

        if (Vid != 0 || Priority != 0 || DropEligible)
        {
            yield return this with { Vid = 0, Priority = 0, DropEligible = false };
        }
    }
}
