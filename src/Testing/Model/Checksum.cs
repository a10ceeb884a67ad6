using System.Buffers.Binary;
using System.Net.Sockets;
using System.Net;

namespace VethXdp.Testing.Model;

/// <summary>The Internet checksum (RFC 1071) and the TCP/UDP/ICMPv6 pseudo-headers.</summary>
internal static class Checksum
{
    /// <summary>Adds <paramref name="data"/> as big-endian 16-bit words (odd length: padded with a zero byte).</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
        }

        return sum;
    }

    /// <summary>Folds the carries and complements.</summary>
    public static ushort Finish(uint sum)
    {
        while ((sum >> 16) != 0)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    /// <summary>The checksum of <paramref name="data"/> alone.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));

    /// <summary>The pseudo-header sum for an upper-layer packet of <paramref name="length"/> bytes under
    /// <paramref name="ip"/> (RFC 793 for IPv4, RFC 8200 section 8.1 for IPv6).</summary>
    public static uint Pseudo(Header? ip, byte protocol, int length)
    {
        Span<byte> a = stackalloc byte[16];
        uint sum = 0;
        switch (ip)
        {
            case Ipv4Header v4:
                sum = AddAddress(sum, v4.Source, a);
                sum = AddAddress(sum, v4.Destination, a);
                return sum + protocol + (uint)(ushort)length;
            case Ipv6Header v6:
                sum = AddAddress(sum, v6.Source, a);
                sum = AddAddress(sum, v6.Destination, a);
                return sum + (uint)(length >> 16) + (uint)(ushort)length + protocol;
            default:
                return 0;
        }
    }

    private static uint AddAddress(uint sum, IPAddress address, Span<byte> scratch)
    {
        int want = address.AddressFamily == AddressFamily.InterNetworkV6 ? 16 : 4;
        scratch[..want].Clear();
        address.TryWriteBytes(scratch, out _);
        return Add(sum, scratch[..want]);
    }
}
