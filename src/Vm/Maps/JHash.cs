using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VethXdp.Vm.Maps;

/// <summary>Bob Jenkins' lookup3 hash as include/linux/jhash.h defines jhash() and jhash2().</summary>
/// <remarks>On a little-endian machine jhash2(k, n/4, seed) equals jhash(k, n, seed) for n a multiple of 4, so one
/// byte-wise implementation serves both (kernel: htab_map_hash picks jhash2 when key_len % 4 == 0). The word reads are
/// unaligned little-endian loads; <c>Hash4</c>, <c>Hash8</c>
/// and <c>Hash16</c> are the same function unrolled for the common key sizes.</remarks>
internal static class JHash
{
    /// <summary>JHASH_INITVAL.</summary>
    public const uint InitVal = 0xdeadbeef;

    /// <summary>jhash(key, key.Length, initval).</summary>
    public static uint Hash(ReadOnlySpan<byte> key, uint initval) =>
        Hash(ref MemoryMarshal.GetReference(key), key.Length, initval);

    /// <summary>jhash(key, length, initval) over the <paramref name="length"/> bytes at <paramref name="key"/>.</summary>
    public static uint Hash(ref byte key, int length, uint initval)
    {
        // kernel: jhash()
        uint len = (uint)length;
        uint a, b, c;
        a = b = c = InitVal + len + initval;
        ref byte k = ref key;
        while (len > 12)
        {
            a += Word(ref k, 0);
            b += Word(ref k, 4);
            c += Word(ref k, 8);
            Mix(ref a, ref b, ref c);
            len -= 12;
            k = ref Unsafe.Add(ref k, 12);
        }

        if (len == 0)
        {
            return c;
        }

        return Tail(ref k, len, (uint)length, a, b, c);
    }

    // The last block: len (1..12) bytes at k of a key of length bytes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Tail(ref byte k, uint len, uint length, uint a, uint b, uint c)
    {
        // Last block (1..12 bytes): the switch's fall-through, as little-endian words of which the last may be partial.
        // A partial last word is read as the 4 bytes ending at the key's end, shifted down (keys of 4 bytes or more).
        if (length < 4)
        {
            a += Partial(ref k, len);
        }
        else if (len > 8)
        {
            a += Word(ref k, 0);
            b += Word(ref k, 4);
            c += Word(ref k, (int)len - 4) >> (int)(8 * (12 - len));
        }
        else if (len > 4)
        {
            a += Word(ref k, 0);
            b += Word(ref k, (int)len - 4) >> (int)(8 * (8 - len));
        }
        else
        {
            a += Word(ref k, (int)len - 4) >> (int)(8 * (4 - len));
        }

        Final(ref a, ref b, ref c);
        return c;
    }

    /// <summary>jhash of the 4 bytes at <paramref name="key"/> (jhash2 with one word).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash4(ref byte key, uint initval) => Hash4(Word(ref key, 0), initval);

    /// <summary>jhash of the 8 bytes at <paramref name="key"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash8(ref byte key, uint initval) => Hash8(Word(ref key, 0), Word(ref key, 4), initval);

    /// <summary>jhash of the 16 bytes at <paramref name="key"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash16(ref byte key, uint initval) =>
        Hash16(Word(ref key, 0), Word(ref key, 4), Word(ref key, 8), Word(ref key, 12), initval);

    /// <summary>jhash2 of one word (a 4-byte key read as a little-endian u32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash4(uint w0, uint initval)
    {
        uint a, b, c;
        a = b = c = InitVal + 4 + initval;
        a += w0;
        Final(ref a, ref b, ref c);
        return c;
    }

    /// <summary>jhash2 of two words (an 8-byte key read as little-endian u32s).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash8(uint w0, uint w1, uint initval)
    {
        uint a, b, c;
        a = b = c = InitVal + 8 + initval;
        a += w0;
        b += w1;
        Final(ref a, ref b, ref c);
        return c;
    }

    /// <summary>jhash2 of four words (a 16-byte key read as little-endian u32s).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash16(uint w0, uint w1, uint w2, uint w3, uint initval)
    {
        uint a, b, c;
        a = b = c = InitVal + 16 + initval;
        a += w0;
        b += w1;
        c += w2;
        Mix(ref a, ref b, ref c);
        a += w3;
        Final(ref a, ref b, ref c);
        return c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Word(ref byte k, int offset)
    {
        uint w = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref k, offset));
        return BitConverter.IsLittleEndian ? w : BinaryPrimitives.ReverseEndianness(w);
    }

    // The first n (1..3) bytes at k as a little-endian word (keys shorter than one word).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Partial(ref byte k, uint n) => n switch
    {
        3 => k | ((uint)Unsafe.Add(ref k, 1) << 8) | ((uint)Unsafe.Add(ref k, 2) << 16),
        2 => k | ((uint)Unsafe.Add(ref k, 1) << 8),
        _ => k,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mix(ref uint a, ref uint b, ref uint c)
    {
        // kernel: __jhash_mix
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
        // kernel: __jhash_final
        c ^= b; c -= BitOperations.RotateLeft(b, 14);
        a ^= c; a -= BitOperations.RotateLeft(c, 11);
        b ^= a; b -= BitOperations.RotateLeft(a, 25);
        c ^= b; c -= BitOperations.RotateLeft(b, 16);
        a ^= c; a -= BitOperations.RotateLeft(c, 4);
        b ^= a; b -= BitOperations.RotateLeft(a, 14);
        c ^= b; c -= BitOperations.RotateLeft(b, 24);
    }
}
