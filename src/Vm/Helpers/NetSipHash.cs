using System.Buffers.Binary;
using System.Numerics;

namespace VethXdp.Vm.Helpers;

/// <summary>SipHash-2-4 with a 128-bit key, as lib/siphash.c computes <c>siphash()</c> and <c>siphash_4u32()</c>.</summary>
public static class NetSipHash
{
    /// <summary>SipHash-2-4 of <paramref name="data"/> under the key (<paramref name="k0"/>, <paramref name="k1"/>):
    /// the key's first and second little-endian 64-bit halves.</summary>
    public static ulong Hash(ReadOnlySpan<byte> data, ulong k0, ulong k1)
    {
        ulong v0 = 0x736f6d6570736575UL ^ k0;
        ulong v1 = 0x646f72616e646f6dUL ^ k1;
        ulong v2 = 0x6c7967656e657261UL ^ k0;
        ulong v3 = 0x7465646279746573UL ^ k1;
        int end = data.Length & ~7;
        for (int i = 0; i < end; i += 8)
        {
            ulong m = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }

        ulong b = (ulong)data.Length << 56;
        for (int k = 0; end + k < data.Length; k++)
        {
            b |= (ulong)data[end + k] << (8 * k);
        }

        v3 ^= b;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= b;
        v2 ^= 0xff;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        return v0 ^ v1 ^ v2 ^ v3;
    }

    /// <summary>siphash_4u32(a, b, c, d, key): the hash of the four words laid out little-endian in that order.</summary>
    public static ulong Hash4U32(uint a, uint b, uint c, uint d, ulong k0, ulong k1)
    {
        Span<byte> buf = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(buf, a);
        BinaryPrimitives.WriteUInt32LittleEndian(buf[4..], b);
        BinaryPrimitives.WriteUInt32LittleEndian(buf[8..], c);
        BinaryPrimitives.WriteUInt32LittleEndian(buf[12..], d);
        return Hash(buf, k0, k1);
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1;
        v1 = BitOperations.RotateLeft(v1, 13);
        v1 ^= v0;
        v0 = BitOperations.RotateLeft(v0, 32);
        v2 += v3;
        v3 = BitOperations.RotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = BitOperations.RotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = BitOperations.RotateLeft(v1, 17);
        v1 ^= v2;
        v2 = BitOperations.RotateLeft(v2, 32);
    }
}
