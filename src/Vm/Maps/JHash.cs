using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace VethXdp.Vm.Maps;

/// <summary>Bob Jenkins' lookup3 hash as include/linux/jhash.h defines jhash() and jhash2().</summary>
/// <remarks>On a little-endian machine jhash2(k, n/4, seed) equals jhash(k, n, seed) for n a multiple of 4, so one
/// byte-wise implementation serves both (kernel: htab_map_hash picks jhash2 when key_len % 4 == 0).</remarks>
internal static class JHash
{
    /// <summary>JHASH_INITVAL.</summary>
    public const uint InitVal = 0xdeadbeef;

    /// <summary>jhash(key, key.Length, initval).</summary>
    public static uint Hash(ReadOnlySpan<byte> key, uint initval)
    {
        uint length = (uint)key.Length;
        uint a, b, c;
        a = b = c = InitVal + length + initval;
        int k = 0;
        while (length > 12)
        {
            a += BinaryPrimitives.ReadUInt32LittleEndian(key.Slice(k));
            b += BinaryPrimitives.ReadUInt32LittleEndian(key.Slice(k + 4));
            c += BinaryPrimitives.ReadUInt32LittleEndian(key.Slice(k + 8));
            Mix(ref a, ref b, ref c);
            length -= 12;
            k += 12;
        }

        if (length == 0)
        {
            return c;
        }

        // Last block: the switch's fall-through, byte by byte.
        var tail = key.Slice(k);
        if (length >= 12) { c += (uint)tail[11] << 24; }
        if (length >= 11) { c += (uint)tail[10] << 16; }
        if (length >= 10) { c += (uint)tail[9] << 8; }
        if (length >= 9) { c += tail[8]; }
        if (length >= 8) { b += (uint)tail[7] << 24; }
        if (length >= 7) { b += (uint)tail[6] << 16; }
        if (length >= 6) { b += (uint)tail[5] << 8; }
        if (length >= 5) { b += tail[4]; }
        if (length >= 4) { a += (uint)tail[3] << 24; }
        if (length >= 3) { a += (uint)tail[2] << 16; }
        if (length >= 2) { a += (uint)tail[1] << 8; }
        a += tail[0];
        Final(ref a, ref b, ref c);
        return c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mix(ref uint a, ref uint b, ref uint c)
    {
        a -= c; a ^= BitOperations.RotateLeft(c, 4); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 6); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 8); b += a;
        a -= c; a ^= BitOperations.RotateLeft(c, 16); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 19); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 4); b += a;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Final(ref uint a, ref uint b, ref uint c)
    {
        c ^= b; c -= BitOperations.RotateLeft(b, 14);
        a ^= c; a -= BitOperations.RotateLeft(c, 11);
        b ^= a; b -= BitOperations.RotateLeft(a, 25);
        c ^= b; c -= BitOperations.RotateLeft(b, 16);
        a ^= c; a -= BitOperations.RotateLeft(c, 4);
        b ^= a; b -= BitOperations.RotateLeft(a, 14);
        c ^= b; c -= BitOperations.RotateLeft(b, 24);
    }
}
