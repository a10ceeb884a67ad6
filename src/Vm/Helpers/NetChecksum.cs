using System.Buffers.Binary;

namespace VethXdp.Vm.Helpers;

/// <summary>The kernel's Internet checksum arithmetic (include/net/checksum.h, arch/x86/lib/csum-partial_64.c), to the
/// bit: 32-bit partial sums (<c>__wsum</c>) as x86-64 computes them, and the 16-bit fold bpf_csum_diff returns.</summary>
/// <remarks>
/// csum_partial() adds the buffer as little-endian 64-bit words (the tail zero-padded) with end-around carry, then
/// folds to 32 bits. End-around-carry addition of non-negative numbers gives 0 only when every addend is 0, and
/// otherwise the unique value in [1, 2^32 - 1] congruent to the plain sum modulo 2^32 - 1 (2^32 = 1 there, so summing
/// 32-bit words gives the same residue as summing 64-bit ones). That makes the result independent of the order and
/// width of the additions, and lets this code add 32-bit words.
/// </remarks>
public static class NetChecksum
{
    /// <summary>csum_partial(buf, len, sum): the 32-bit ones'-complement sum of <paramref name="data"/> (as little-endian
    /// words; a short tail is zero-padded) and <paramref name="seed"/>.</summary>
    public static uint Partial(ReadOnlySpan<byte> data, uint seed)
    {
        ulong sum = seed;
        int i = 0;
        for (; i + 4 <= data.Length; i += 4)
        {
            sum += BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
        }

        if (i < data.Length)
        {
            uint tail = 0;
            for (int k = 0; i + k < data.Length; k++)
            {
                tail |= (uint)data[i + k] << (8 * k);
            }

            sum += tail;
        }

        return Fold64(sum);
    }

    /// <summary>csum_add(a, b): 32-bit addition with end-around carry.</summary>
    public static uint Add(uint a, uint b)
    {
        uint r = a + b;
        return r + (r < a ? 1u : 0u);
    }

    /// <summary>csum_sub(a, b) = csum_add(a, ~b).</summary>
    public static uint Sub(uint a, uint b) => Add(a, ~b);

    /// <summary>csum_from32to16(): adds the two halves of <paramref name="sum"/> with end-around carry (not inverted).</summary>
    public static ushort From32To16(uint sum)
    {
        sum += (sum >> 16) | (sum << 16);
        return (ushort)(sum >> 16);
    }

    /// <summary>csum_fold(): the folded sum, inverted: the value a header's checksum field holds.</summary>
    public static ushort Fold(uint sum) => (ushort)~From32To16(sum);

    /// <summary>bpf_csum_diff's arithmetic (Linux 6.13 and later): csum_sub(csum_partial(to, seed),
    /// csum_partial(from, 0)) when both are given, csum_partial(to, seed) or ~csum_partial(from, ~seed) when one is, the
    /// seed when neither is; folded to 16 bits.</summary>
    public static ushort Diff(ReadOnlySpan<byte> from, ReadOnlySpan<byte> to, uint seed)
    {
        uint ret = seed;
        if (!from.IsEmpty && !to.IsEmpty)
        {
            ret = Sub(Partial(to, ret), Partial(from, 0));
        }
        else if (!to.IsEmpty)
        {
            ret = Partial(to, ret);
        }
        else if (!from.IsEmpty)
        {
            ret = ~Partial(from, ~ret);
        }

        return From32To16(ret);
    }

    // The 32-bit end-around-carry value of a 64-bit plain sum: 0 only for 0, else congruent modulo 2^32 - 1 in [1, 2^32 - 1].
    private static uint Fold64(ulong sum) => sum == 0 ? 0u : (uint)(((sum - 1) % 0xffffffffUL) + 1);
}
