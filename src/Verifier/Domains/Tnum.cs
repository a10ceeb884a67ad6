using System.Numerics;

namespace VethXdp.Verifier.Domains;

/// <summary>A tracked number (the kernel's <c>struct tnum</c>, kernel/bpf/tnum.c): what is known about the bits of a
/// 64-bit value. A bit whose <see cref="Mask"/> bit is 1 is unknown; otherwise it equals the <see cref="Value"/> bit.</summary>
/// <remarks>
/// <code>
///   Value: 0 1 0 0 ...     Mask: 0 0 1 1 ...     bits:  0 1 x x ...
///   the set of values is { v : (v &amp; ~Mask) == Value }, 2^popcount(Mask) of them
/// </code>
/// Invariant: <c>(Value &amp; Mask) == 0</c> for every tnum the operations produce from valid inputs.
/// Every operation is sound: if <c>x ∈ a</c> and <c>y ∈ b</c> then <c>x op y ∈ op(a, b)</c> (checked by the FsCheck
/// properties in the verifier tests). Shift counts are taken modulo 64 as C's u8 shifts on x86 would; callers pass
/// counts below the width, as the kernel does.
/// </remarks>
/// <param name="Value">The known bits (0 where unknown).</param>
/// <param name="Mask">1 for each unknown bit.</param>
public readonly record struct Tnum(ulong Value, ulong Mask)
{
    /// <summary>A completely unknown value (<c>tnum_unknown</c>).</summary>
    public static readonly Tnum Unknown = new(0, ulong.MaxValue);

    /// <summary>True when every bit is known (<c>tnum_is_const</c>).</summary>
    public bool IsConst => Mask == 0;

    /// <summary>True when no bit is known (<c>tnum_is_unknown</c>).</summary>
    public bool IsUnknown => Mask == ulong.MaxValue;

    /// <summary>The largest member (<c>Value | Mask</c>).</summary>
    public ulong Max => Value | Mask;

    /// <summary>A known constant (<c>tnum_const</c>).</summary>
    /// <param name="value">The value.</param>
    public static Tnum Const(ulong value) => new(value, 0);

    /// <summary>A tnum holding every value in [min, max], and possibly more (<c>tnum_range</c>): the bits above the
    /// highest bit where min and max differ are known, the rest unknown.</summary>
    /// <param name="min">Lower bound.</param>
    /// <param name="max">Upper bound.</param>
    public static Tnum Range(ulong min, ulong max)
    {
        ulong chi = min ^ max;
        int bits = 64 - BitOperations.LeadingZeroCount(chi); // fls64
        // kernel: special case, 1ULL << 64 is undefined
        if (bits > 63)
        {
            return Unknown;
        }

        ulong delta = (1UL << bits) - 1;
        return new Tnum(min & ~delta, delta);
    }

    /// <summary>Shifts left by a known count (<c>tnum_lshift</c>).</summary>
    /// <param name="a">The tnum.</param>
    /// <param name="shift">The count, below 64.</param>
    public static Tnum Lshift(Tnum a, int shift) => new(a.Value << shift, a.Mask << shift);

    /// <summary>Logical right shift by a known count (<c>tnum_rshift</c>).</summary>
    /// <param name="a">The tnum.</param>
    /// <param name="shift">The count, below 64.</param>
    public static Tnum Rshift(Tnum a, int shift) => new(a.Value >> shift, a.Mask >> shift);

    /// <summary>Arithmetic right shift (<c>tnum_arshift</c>): in 32-bit mode the low half is shifted as an s32 and the
    /// result zero-extended; an unknown sign bit smears into every vacated position.</summary>
    /// <param name="a">The tnum.</param>
    /// <param name="minShift">The (known) count, below the width.</param>
    /// <param name="insnBitness">32 or 64.</param>
    public static Tnum Arshift(Tnum a, int minShift, int insnBitness)
    {
        if (insnBitness == 32)
        {
            return new Tnum((uint)((int)(uint)a.Value >> minShift), (uint)((int)(uint)a.Mask >> minShift));
        }

        return new Tnum((ulong)((long)a.Value >> minShift), (ulong)((long)a.Mask >> minShift));
    }

    /// <summary>Sum (<c>tnum_add</c>): adding the masks as values marks every bit a carry may reach.</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    public static Tnum Add(Tnum a, Tnum b)
    {
        ulong sm = a.Mask + b.Mask;
        ulong sv = a.Value + b.Value;
        ulong sigma = sm + sv;
        ulong chi = sigma ^ sv;
        ulong mu = chi | a.Mask | b.Mask;
        return new Tnum(sv & ~mu, mu);
    }

    /// <summary>Difference <c>a - b</c> (<c>tnum_sub</c>): the extremes of the borrow chain bound the unknown bits.</summary>
    /// <param name="a">Minuend.</param>
    /// <param name="b">Subtrahend.</param>
    public static Tnum Sub(Tnum a, Tnum b)
    {
        ulong dv = a.Value - b.Value;
        ulong alpha = dv + a.Mask;
        ulong beta = dv - b.Mask;
        ulong chi = alpha ^ beta;
        ulong mu = chi | a.Mask | b.Mask;
        return new Tnum(dv & ~mu, mu);
    }

    /// <summary>Negation <c>0 - a</c> (<c>tnum_neg</c>).</summary>
    /// <param name="a">The tnum.</param>
    public static Tnum Neg(Tnum a) => Sub(Const(0), a);

    /// <summary>Bitwise and (<c>tnum_and</c>).</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    public static Tnum And(Tnum a, Tnum b)
    {
        ulong alpha = a.Value | a.Mask;
        ulong beta = b.Value | b.Mask;
        ulong v = a.Value & b.Value;
        return new Tnum(v, alpha & beta & ~v);
    }

    /// <summary>Bitwise or (<c>tnum_or</c>).</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    public static Tnum Or(Tnum a, Tnum b)
    {
        ulong v = a.Value | b.Value;
        ulong mu = a.Mask | b.Mask;
        return new Tnum(v, mu & ~v);
    }

    /// <summary>Bitwise exclusive or (<c>tnum_xor</c>).</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    public static Tnum Xor(Tnum a, Tnum b)
    {
        ulong v = a.Value ^ b.Value;
        ulong mu = a.Mask | b.Mask;
        return new Tnum(v & ~mu, mu);
    }

    /// <summary>Product (<c>tnum_mul</c>, 6.17+): long multiplication over the trits of <paramref name="a"/>; a certain
    /// 1 adds <paramref name="b"/>, an unknown trit joins the two candidate partial sums (<c>acc</c> and
    /// <c>acc + b</c>) with <see cref="Union"/>, a certain 0 adds nothing.</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    public static Tnum Mul(Tnum a, Tnum b)
    {
        var acc = Const(0);
        while (a.Value != 0 || a.Mask != 0)
        {
            if ((a.Value & 1) != 0)
            {
                // LSB of a is a certain 1
                acc = Add(acc, b);
            }
            else if ((a.Mask & 1) != 0)
            {
                // LSB of a is unknown: acc_0 = acc + 0 * b = acc, acc_1 = acc + 1 * b; the result is either.
                acc = Union(acc, Add(acc, b));
            }

            a = Rshift(a, 1);
            b = Lshift(b, 1);
        }

        return acc;
    }

    /// <summary>The values in both (<c>tnum_intersect</c>). Where the two disagree on a known bit the result has a
    /// known 1 there (the intersection is empty; the kernel relies on bounds to notice).</summary>
    /// <param name="a">First tnum.</param>
    /// <param name="b">Second tnum.</param>
    public static Tnum Intersect(Tnum a, Tnum b)
    {
        ulong v = a.Value | b.Value;
        ulong mu = a.Mask & b.Mask;
        return new Tnum(v & ~mu, mu);
    }

    /// <summary>A tnum holding every value of both (<c>tnum_union</c>).</summary>
    /// <param name="a">First tnum.</param>
    /// <param name="b">Second tnum.</param>
    public static Tnum Union(Tnum a, Tnum b)
    {
        ulong v = a.Value & b.Value;
        ulong mu = (a.Value ^ b.Value) | a.Mask | b.Mask;
        return new Tnum(v & ~mu, mu);
    }

    /// <summary>Keeps the low <paramref name="size"/> bytes (<c>tnum_cast</c>).</summary>
    /// <param name="a">The tnum.</param>
    /// <param name="size">1, 2, 4 or 8.</param>
    public static Tnum Cast(Tnum a, int size)
    {
        ulong keep = size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
        return new Tnum(a.Value & keep, a.Mask & keep);
    }

    /// <summary>True when every member is a multiple of <paramref name="size"/>, a power of two (<c>tnum_is_aligned</c>).</summary>
    /// <param name="a">The tnum.</param>
    /// <param name="size">The alignment; 0 is always aligned.</param>
    public static bool IsAligned(Tnum a, ulong size) => size == 0 || ((a.Value | a.Mask) & (size - 1)) == 0;

    /// <summary>True when <paramref name="b"/> is a subset of <paramref name="a"/> (<c>tnum_in(a, b)</c>).</summary>
    /// <param name="a">The container.</param>
    /// <param name="b">The candidate subset.</param>
    public static bool In(Tnum a, Tnum b)
    {
        if ((b.Mask & ~a.Mask) != 0)
        {
            return false;
        }

        return a.Value == (b.Value & ~a.Mask);
    }

    /// <summary>True when the two tnums share at least one member (<c>tnum_overlap</c>): they agree on every bit
    /// known in both.</summary>
    /// <param name="a">First tnum.</param>
    /// <param name="b">Second tnum.</param>
    public static bool Overlap(Tnum a, Tnum b)
    {
        ulong mu = ~a.Mask & ~b.Mask;
        return (a.Value & mu) == (b.Value & mu);
    }

    /// <summary>True when <paramref name="x"/> is a member of this tnum.</summary>
    /// <param name="x">A concrete value.</param>
    public bool Contains(ulong x) => (x & ~Mask) == Value;

    /// <summary>True when the tnum is the constant <paramref name="b"/> (<c>tnum_equals_const</c>).</summary>
    /// <param name="b">The constant.</param>
    public bool EqualsConst(ulong b) => Mask == 0 && Value == b;

    /// <summary>The low 32 bits, zero-extended (<c>tnum_subreg</c>).</summary>
    /// <param name="a">The tnum.</param>
    public static Tnum Subreg(Tnum a) => Cast(a, 4);

    /// <summary>The tnum with its low 32 bits known to be 0 (<c>tnum_clear_subreg</c>).</summary>
    /// <param name="a">The tnum.</param>
    public static Tnum ClearSubreg(Tnum a) => Lshift(Rshift(a, 32), 32);

    /// <summary>The high 32 bits of <paramref name="reg"/> with the low 32 bits of <paramref name="subreg"/>
    /// (<c>tnum_with_subreg</c>).</summary>
    /// <param name="reg">Supplies the high half.</param>
    /// <param name="subreg">Supplies the low half.</param>
    public static Tnum WithSubreg(Tnum reg, Tnum subreg) => Or(ClearSubreg(reg), Subreg(subreg));

    /// <summary>The tnum with its low 32 bits set to the constant <paramref name="value"/> (<c>tnum_const_subreg</c>).</summary>
    /// <param name="a">Supplies the high half.</param>
    /// <param name="value">The low half.</param>
    public static Tnum ConstSubreg(Tnum a, uint value) => WithSubreg(a, Const(value));

    /// <summary>True when the low 32 bits are known (<c>tnum_subreg_is_const</c>).</summary>
    public bool SubregIsConst => (uint)Mask == 0;

    /// <summary>Swaps the two low bytes and clears the rest (<c>tnum_bswap16</c>).</summary>
    /// <param name="a">The tnum.</param>
    public static Tnum Bswap16(Tnum a) =>
        new(BinaryPrimitivesSwap16(a.Value), BinaryPrimitivesSwap16(a.Mask));

    /// <summary>Reverses the four low bytes and clears the rest (<c>tnum_bswap32</c>).</summary>
    /// <param name="a">The tnum.</param>
    public static Tnum Bswap32(Tnum a) =>
        new(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)a.Value),
            System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)a.Mask));

    /// <summary>Reverses the eight bytes (<c>tnum_bswap64</c>).</summary>
    /// <param name="a">The tnum.</param>
    public static Tnum Bswap64(Tnum a) =>
        new(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(a.Value),
            System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(a.Mask));

    /// <summary>The smallest member of <paramref name="t"/> greater than <paramref name="z"/> (<c>tnum_step</c>), for
    /// <c>t.Value &lt;= z &lt; t.Max</c>; returns <see cref="Max"/> when <paramref name="z"/> is at or above it and
    /// <see cref="Value"/> when below it.</summary>
    /// <param name="t">The tnum.</param>
    /// <param name="z">The value to step over.</param>
    public static ulong Step(Tnum t, ulong z)
    {
        ulong tmax = t.Value | t.Mask;
        if (z >= tmax)
        {
            return tmax;
        }

        if (z < t.Value)
        {
            return t.Value;
        }

        // Every member is t.Value + s for a submask s of t.Mask (t.Value & t.Mask == 0), so r > z becomes s > d with
        // d = z - t.Value: increment d "within the mask" by filling every non-mask position with 1 so the +1 carries
        // through the gaps; carryMask also fills below the highest non-mask 1 of d, which would trap the carry.
        ulong d = z - t.Value;
        int k = 64 - BitOperations.LeadingZeroCount(d & ~t.Mask); // fls64
        ulong carryMask = k >= 64 ? ulong.MaxValue : (1UL << k) - 1;
        ulong filled = d | carryMask | ~t.Mask;
        ulong inc = (filled + 1) & t.Mask;
        return t.Value | inc;
    }

    /// <summary>The kernel's <c>tnum_strn</c> text: <c>(0x0; 0xff)</c> (the kernel's %#llx prints 0 as 0x0).</summary>
    public override string ToString() => $"(0x{Value:x}; 0x{Mask:x})";

    /// <summary>The kernel's <c>tnum_sbin</c> text: 64 characters, most significant first, each 0, 1 or x.</summary>
    public string ToBinaryString()
    {
        Span<char> s = stackalloc char[64];
        for (int i = 0; i < 64; i++)
        {
            ulong bit = 1UL << (63 - i);
            s[i] = (Mask & bit) != 0 ? 'x' : (Value & bit) != 0 ? '1' : '0';
        }

        return new string(s);
    }

    private static ulong BinaryPrimitivesSwap16(ulong v) =>
        System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)v);
}
