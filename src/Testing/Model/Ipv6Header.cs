using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Net;

namespace VethXdp.Testing.Model;

/// <summary>An IPv6 header (RFC 8200, 40 bytes). The payload length and next header are computed unless overridden;
/// <see cref="Version"/> other than 6 makes a wrong-version header.</summary>
public sealed record Ipv6Header : Header
{
    /// <summary>The header's size.</summary>
    public const int Size = 40;

    /// <summary>The source address.</summary>
    public IPAddress Source { get; init; } = IPAddress.IPv6Any;

    /// <summary>The destination address.</summary>
    public IPAddress Destination { get; init; } = IPAddress.IPv6Any;

    /// <summary>The traffic class.</summary>
    public byte TrafficClass { get; init; }

    /// <summary>The flow label (20 bits).</summary>
    public uint FlowLabel { get; init; }

    /// <summary>The hop limit.</summary>
    public byte HopLimit { get; init; } = 64;

    /// <summary>The next header to write; null: the next header's.</summary>
    public byte? NextHeader { get; init; }

    /// <summary>The version nibble (6).</summary>
    public byte Version { get; init; } = 6;

    /// <summary>The payload length to write; null: the bytes after this header.</summary>
    public ushort? PayloadLength { get; init; }

    /// <inheritdoc/>
    public override string Name => "IPv6";

    /// <inheritdoc/>
    public override int Length => Size;

    internal override int EtherTypeWhenNext => 0x86dd;

    internal override int IpProtocolWhenNext => 41;

    internal override bool IsIp => true;

    internal override void Write(in RenderContext ctx)
    {
        var h = ctx.Here;
        h.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(h, ((uint)Version << 28) | ((uint)TrafficClass << 20) | (FlowLabel & 0xfffff));
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], PayloadLength ?? (ushort)Math.Min(ushort.MaxValue, ctx.Remaining - Size));
        h[6] = IpProtocolFor(ctx.Next, NextHeader, ctx.SomethingFollows);
        h[7] = HopLimit;
        WriteAddress(Source, h[8..]);
        WriteAddress(Destination, h[24..]);
    }

    internal override string Describe(ReadOnlySpan<byte> bytes)
    {
        uint first = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        string version = first >> 28 != 6 ? $"version {first >> 28}  " : string.Empty;
        return string.Create(CultureInfo.InvariantCulture,
            $"{new IPAddress(bytes.Slice(8, 16))} > {new IPAddress(bytes.Slice(24, 16))}  {version}tc {(first >> 20) & 0xff} flow {first & 0xfffff}  plen {BinaryPrimitives.ReadUInt16BigEndian(bytes[4..])}  next {bytes[6]} ({Names.IpProtocol(bytes[6])})  hlim {bytes[7]}");
    }

    internal override IEnumerable<Header> Simplify()
    {
        if (Version != 6)
        {
            yield return this with { Version = 6 };
        }

        if (PayloadLength is not null)
        {
            yield return this with { PayloadLength = null };
        }

        if (NextHeader is not null)
        {
            yield return this with { NextHeader = null };
        }

        if (!Source.Equals(IPAddress.IPv6Any))
        {
            yield return this with { Source = IPAddress.IPv6Any };
        }

        if (!Destination.Equals(IPAddress.IPv6Any))
        {
            yield return this with { Destination = IPAddress.IPv6Any };
        }

        if (TrafficClass != 0 || FlowLabel != 0)
        {
            yield return this with { TrafficClass = 0, FlowLabel = 0 };
        }

        if (HopLimit != 0)
        {
            yield return this with { HopLimit = 0 };
        }
    }

    internal static void WriteAddress(IPAddress address, Span<byte> destination)
    {
        destination[..16].Clear();
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            address.TryWriteBytes(destination, out _);
        }
    }
}
