using System.Buffers.Binary;
using System.Globalization;

namespace VethXdp.Testing.Model;

/// <summary>An ICMP (RFC 792, over IPv4) or ICMPv6 (RFC 4443, over IPv6) header: type, code, checksum and the 4-byte
/// rest of the header (identifier and sequence for echo). The checksum covers the message, with the IPv6 pseudo-header
/// for ICMPv6; it is computed unless overridden.</summary>
/// <param name="Type">The type (ICMP 8 echo request, 0 reply, 3 unreachable, 11 time exceeded; ICMPv6 128 echo request,
/// 129 reply, 1 unreachable, 135/136 neighbour solicitation/advertisement).</param>
/// <param name="Code">The code.</param>
/// <param name="RestOfHeader">Bytes 4-7.</param>
/// <param name="IsV6">True for ICMPv6 (protocol 58).</param>
public sealed record IcmpHeader(byte Type, byte Code, uint RestOfHeader, bool IsV6 = false) : Header
{
    /// <summary>The checksum to write; null: the correct one.</summary>
    public ushort? Checksum { get; init; }

    /// <inheritdoc/>
    public override string Name => IsV6 ? "ICMPv6" : "ICMP";

    /// <inheritdoc/>
    public override int Length => 8;

    internal override int IpProtocolWhenNext => IsV6 ? 58 : 1;

    internal override void Write(in RenderContext ctx)
    {
        var h = ctx.Here;
        h[0] = Type;
        h[1] = Code;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], RestOfHeader);
        var message = ctx.Frame[ctx.Offset..];
        uint sum = IsV6 ? Model.Checksum.Pseudo(ctx.EnclosingIp, 58, message.Length) : 0;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], Checksum ?? Model.Checksum.Finish(Model.Checksum.Add(sum, message)));
    }

    internal override string Describe(ReadOnlySpan<byte> bytes) => string.Create(CultureInfo.InvariantCulture,
        $"type {bytes[0]} ({TypeName(bytes[0])}) code {bytes[1]}  rest {Names.Hex(BinaryPrimitives.ReadUInt16BigEndian(bytes[4..]))} {Names.Hex(BinaryPrimitives.ReadUInt16BigEndian(bytes[6..]))}  csum {Names.Hex(BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]))}");

    private string TypeName(byte type) => (IsV6, type) switch
    {
        (false, 0) => "echo reply",
        (false, 3) => "unreachable",
        (false, 8) => "echo request",
        (false, 11) => "time exceeded",
        (true, 1) => "unreachable",
        (true, 2) => "packet too big",
        (true, 3) => "time exceeded",
        (true, 128) => "echo request",
        (true, 129) => "echo reply",
        (true, 133) => "router solicitation",
        (true, 134) => "router advertisement",
        (true, 135) => "neighbour solicitation",
        (true, 136) => "neighbour advertisement",
        _ => "?",
    };

    internal override IEnumerable<Header> Simplify()
    {
        if (Checksum is not null)
        {
            yield return this with { Checksum = null };
        }

        if (Type != 0)
        {
            yield return this with { Type = 0 };
        }

        if (Code != 0)
        {
            yield return this with { Code = 0 };
        }

        if (RestOfHeader != 0)
        {
            yield return this with { RestOfHeader = 0 };
        }
    }
}
