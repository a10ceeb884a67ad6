using System.Buffers.Binary;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.NetHelpers;

/// <summary>Frames for the socket and syncookie tests: Ethernet, IPv4 or IPv6, a TCP header with an MSS option
/// (doff 6), zero padding.</summary>
internal static class Pkt
{
    public const byte Syn = 0x02, Ack = 0x10;

    public static byte[] Tcp(ushort sport, ushort dport, uint seq, uint ack, byte flags, ushort mss)
    {
        var t = new byte[24];
        BinaryPrimitives.WriteUInt16BigEndian(t, sport);
        BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(t.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(t.AsSpan(8), ack);
        t[12] = 6 << 4;
        t[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(14), 65535);
        if (mss != 0)
        {
            t[20] = 2;
            t[21] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(22), mss);
        }
        else
        {
            t[20] = t[21] = t[22] = t[23] = 1; // NOPs
        }

        return t;
    }

    /// <summary>Ethernet + IPv4 (src, dst, TCP) + <paramref name="tcp"/>, padded to <paramref name="length"/>.</summary>
    public static byte[] V4(string src, string dst, byte[] tcp, int length = 200)
    {
        var f = new byte[length];
        f[12] = 0x08;
        var ip = f.AsSpan(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + tcp.Length));
        ip[6] = 0x40;
        ip[8] = 64;
        ip[9] = 6;
        NetAddress.Parse(src).WriteTo(ip[12..]);
        NetAddress.Parse(dst).WriteTo(ip[16..]);
        tcp.CopyTo(f, 34);
        return f;
    }

    /// <summary>Ethernet + IPv6 (src, dst, TCP) + <paramref name="tcp"/>, padded to <paramref name="length"/>.</summary>
    public static byte[] V6(string src, string dst, byte[] tcp, int length = 200)
    {
        var f = new byte[length];
        f[12] = 0x86;
        f[13] = 0xdd;
        var ip = f.AsSpan(14, 40);
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)tcp.Length);
        ip[6] = 6;
        ip[7] = 64;
        NetAddress.Parse(src).WriteTo(ip[8..]);
        NetAddress.Parse(dst).WriteTo(ip[24..]);
        tcp.CopyTo(f, 54);
        return f;
    }

    public static long I64(byte[] data, int offset) => BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(offset));

    public static uint U32(byte[] data, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset));
}
