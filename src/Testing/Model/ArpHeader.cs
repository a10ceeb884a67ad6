using System.Buffers.Binary;
using System.Net;
using VethXdp.Vm.Runtime;

namespace VethXdp.Testing.Model;

/// <summary>An ARP packet for IPv4 over Ethernet (28 bytes: hardware type 1, protocol 0x0800, lengths 6 and 4).</summary>
public sealed record ArpHeader : Header
{
    /// <summary>1: request, 2: reply.</summary>
    public ushort Operation { get; init; } = 1;

    /// <summary>The sender's hardware address.</summary>
    public MacAddress SenderMac { get; init; }

    /// <summary>The sender's IPv4 address.</summary>
    public IPAddress SenderIp { get; init; } = IPAddress.Any;

    /// <summary>The target's hardware address.</summary>
    public MacAddress TargetMac { get; init; }

    /// <summary>The target's IPv4 address.</summary>
    public IPAddress TargetIp { get; init; } = IPAddress.Any;

    /// <inheritdoc/>
    public override string Name => "ARP";

    /// <inheritdoc/>
    public override int Length => 28;

    internal override int EtherTypeWhenNext => 0x0806;

    internal override void Write(in RenderContext ctx)
    {
        var h = ctx.Here;
        BinaryPrimitives.WriteUInt16BigEndian(h, 1);
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], 0x0800);
        h[4] = 6;
        h[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(h[6..], Operation);
        SenderMac.WriteTo(h[8..]);
        Ipv4Header.WriteAddress(SenderIp, h[14..]);
        TargetMac.WriteTo(h[18..]);
        Ipv4Header.WriteAddress(TargetIp, h[24..]);
    }

    internal override string Describe(ReadOnlySpan<byte> bytes)
    {
        ushort op = BinaryPrimitives.ReadUInt16BigEndian(bytes[6..]);
        string what = op switch { 1 => "request", 2 => "reply", _ => $"op {op}" };
        return $"{what}  {new IPAddress(bytes.Slice(14, 4))} ({Macs.Read(bytes[8..])}) > {new IPAddress(bytes.Slice(24, 4))} ({Macs.Read(bytes[18..])})";
    }

    internal override IEnumerable<Header> Simplify()
    {
        if (Operation != 1)
        {
            yield return this with { Operation = 1 };
        }

        if (SenderMac != Macs.Zero)
        {
            yield return this with { SenderMac = Macs.Zero };
        }

        if (!SenderIp.Equals(IPAddress.Any))
        {
            yield return this with { SenderIp = IPAddress.Any };
        }

        if (TargetMac != Macs.Zero)
        {
            yield return this with { TargetMac = Macs.Zero };
        }

        if (!TargetIp.Equals(IPAddress.Any))
        {
            yield return this with { TargetIp = IPAddress.Any };
        }
    }
}
