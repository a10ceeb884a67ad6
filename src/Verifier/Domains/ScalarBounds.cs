using System.Diagnostics;
using System.Runtime.InteropServices;

namespace VethXdp.Verifier.Domains;

/// <summary>What the verifier knows about a scalar: the numeric part of the kernel's <c>struct bpf_reg_state</c>
/// (include/linux/bpf_verifier.h) — a <see cref="Tnum"/> and signed and unsigned ranges in 64 and 32 bits.</summary>
/// <remarks>
/// <para>The five views describe one set of values: a concrete value x is possible only if it is in
/// <see cref="VarOff"/>, <c>SMin &lt;= (long)x &lt;= SMax</c>, <c>UMin &lt;= x &lt;= UMax</c>, and its low 32 bits
/// satisfy the 32-bit ranges. <see cref="Sync"/> (<c>reg_bounds_sync</c>) lets each view tighten the others.</para>
/// <para>A value type with public fields, as the kernel's struct: copies are explicit and cheap (72 bytes), and the
/// transfer functions mutate in place like the kernel's (<c>ref</c>). The file layout follows verifier.c:
/// this file holds the refinement; <c>ScalarBounds.Alu.cs</c> the ALU transfer functions
/// (<c>adjust_scalar_min_max_vals</c>); <c>ScalarBounds.Branch.cs</c> the conditional jumps
/// (<c>is_branch_taken</c>, <c>reg_set_min_max</c>); <c>ScalarBounds.Format.cs</c> the log text.</para>
/// </remarks>
[StructLayout(LayoutKind.Auto)]
public partial struct ScalarBounds : IEquatable<ScalarBounds>
{
    /// <summary>The known bits (<c>var_off</c>).</summary>
    public Tnum VarOff;

    /// <summary>Minimum as a signed 64-bit value (<c>smin_value</c>).</summary>
    public long SMin;

    /// <summary>Maximum as a signed 64-bit value (<c>smax_value</c>).</summary>
    public long SMax;

    /// <summary>Minimum as an unsigned 64-bit value (<c>umin_value</c>).</summary>
    public ulong UMin;

    /// <summary>Maximum as an unsigned 64-bit value (<c>umax_value</c>).</summary>
    public ulong UMax;

    /// <summary>Minimum of the low 32 bits as signed (<c>s32_min_value</c>).</summary>
    public int S32Min;

    /// <summary>Maximum of the low 32 bits as signed (<c>s32_max_value</c>).</summary>
    public int S32Max;

    /// <summary>Minimum of the low 32 bits as unsigned (<c>u32_min_value</c>).</summary>
    public uint U32Min;

    /// <summary>Maximum of the low 32 bits as unsigned (<c>u32_max_value</c>).</summary>
    public uint U32Max;

    /// <summary>A completely unknown scalar (<c>__mark_reg_unknown</c>'s numeric part).</summary>
    public static ScalarBounds Unknown
    {
        get
        {
            var b = default(ScalarBounds);
            b.VarOff = Tnum.Unknown;
            b.MarkUnbounded();
            return b;
        }
    }

    /// <summary>A known constant (<c>___mark_reg_known</c>).</summary>
    /// <param name="value">The value.</param>
    public static ScalarBounds Const(ulong value)
    {
        var b = default(ScalarBounds);
        b.MarkKnown(value);
        return b;
    }

    /// <summary>A constant given as signed.</summary>
    /// <param name="value">The value.</param>
    public static ScalarBounds Const(long value) => Const((ulong)value);

    /// <summary>The scalar whose values are exactly the unsigned range [min, max], synced (the kernel builds such
    /// states by narrowing an unknown scalar with jumps).</summary>
    /// <param name="min">Unsigned minimum.</param>
    /// <param name="max">Unsigned maximum, at least <paramref name="min"/>.</param>
    public static ScalarBounds FromURange(ulong min, ulong max)
    {
        var b = Unknown;
        b.UMin = min;
        b.UMax = max;
        b.Sync();
        return b;
    }

    /// <summary>The scalar whose values are exactly the signed range [min, max], synced.</summary>
    /// <param name="min">Signed minimum.</param>
    /// <param name="max">Signed maximum, at least <paramref name="min"/>.</param>
    public static ScalarBounds FromSRange(long min, long max)
    {
        var b = Unknown;
        b.SMin = min;
        b.SMax = max;
        b.Sync();
        return b;
    }

    /// <summary>The scalar described by a tnum alone, synced.</summary>
    /// <param name="t">The known bits.</param>
    public static ScalarBounds FromTnum(Tnum t)
    {
        var b = Unknown;
        b.VarOff = t;
        b.Sync();
        return b;
    }

    /// <summary>True when the 64-bit value is known (<c>tnum_is_const(var_off)</c>).</summary>
    public readonly bool IsConst => VarOff.IsConst;

    /// <summary>True when the low 32 bits are known.</summary>
    public readonly bool IsConst32 => VarOff.SubregIsConst;

    /// <summary>True when this is a constant in the given width (<c>is_reg_const</c>).</summary>
    /// <param name="subreg32">Ask about the low 32 bits only.</param>
    public readonly bool IsRegConst(bool subreg32) => subreg32 ? VarOff.SubregIsConst : VarOff.IsConst;

    /// <summary>The constant in the given width (<c>reg_const_value</c>); meaningful when <see cref="IsRegConst"/>.</summary>
    /// <param name="subreg32">The low 32 bits only.</param>
    public readonly ulong RegConstValue(bool subreg32) => subreg32 ? Tnum.Subreg(VarOff).Value : VarOff.Value;

    /// <summary>True when no bound and no bit is known.</summary>
    public readonly bool IsUnknown =>
        VarOff.IsUnknown && SMin == long.MinValue && SMax == long.MaxValue && UMin == 0 && UMax == ulong.MaxValue &&
        S32Min == int.MinValue && S32Max == int.MaxValue && U32Min == 0 && U32Max == uint.MaxValue;

    /// <summary>True when <paramref name="x"/> lies within every view (tnum and the four ranges).</summary>
    /// <param name="x">A concrete 64-bit value.</param>
    public readonly bool Contains(ulong x) =>
        VarOff.Contains(x) && (long)x >= SMin && (long)x <= SMax && x >= UMin && x <= UMax &&
        (int)(uint)x >= S32Min && (int)(uint)x <= S32Max && (uint)x >= U32Min && (uint)x <= U32Max;

    /// <summary>True when the low 32 bits <paramref name="x"/> lie within the 32-bit views and the low half of the tnum.</summary>
    /// <param name="x">A concrete 32-bit value.</param>
    public readonly bool Contains32(uint x) =>
        Tnum.Subreg(VarOff).Contains(x) && (int)x >= S32Min && (int)x <= S32Max && x >= U32Min && x <= U32Max;

    /// <summary>Makes this the constant <paramref name="imm"/> in all views (<c>___mark_reg_known</c>).</summary>
    /// <param name="imm">The value.</param>
    public void MarkKnown(ulong imm)
    {
        VarOff = Tnum.Const(imm);
        SMin = (long)imm;
        SMax = (long)imm;
        UMin = imm;
        UMax = imm;
        S32Min = (int)(uint)imm;
        S32Max = (int)(uint)imm;
        U32Min = (uint)imm;
        U32Max = (uint)imm;
    }

    /// <summary>Makes the low 32 bits the constant <paramref name="imm"/>, keeping the high tnum bits
    /// (<c>__mark_reg32_known</c>).</summary>
    /// <param name="imm">The value (its low 32 bits are used).</param>
    public void MarkKnown32(ulong imm)
    {
        VarOff = Tnum.ConstSubreg(VarOff, (uint)imm);
        S32Min = (int)(uint)imm;
        S32Max = (int)(uint)imm;
        U32Min = (uint)imm;
        U32Max = (uint)imm;
    }

    /// <summary>Forgets every range, keeping the tnum (<c>__mark_reg_unbounded</c>).</summary>
    public void MarkUnbounded()
    {
        MarkUnbounded64();
        MarkUnbounded32();
    }

    /// <summary>Forgets the 64-bit ranges (<c>__mark_reg64_unbounded</c>).</summary>
    public void MarkUnbounded64()
    {
        SMin = long.MinValue;
        SMax = long.MaxValue;
        UMin = 0;
        UMax = ulong.MaxValue;
    }

    /// <summary>Forgets the 32-bit ranges (<c>__mark_reg32_unbounded</c>).</summary>
    public void MarkUnbounded32()
    {
        S32Min = int.MinValue;
        S32Max = int.MaxValue;
        U32Min = 0;
        U32Max = uint.MaxValue;
    }

    /// <summary>Tightens the 32-bit ranges from the low half of the tnum (<c>__update_reg32_bounds</c>).</summary>
    public void UpdateBounds32()
    {
        var var32 = Tnum.Subreg(VarOff);
        // min signed is max(sign bit) | min(other bits)
        S32Min = Math.Max(S32Min, (int)(uint)(var32.Value | (var32.Mask & 0x8000_0000UL)));
        // max signed is min(sign bit) | max(other bits)
        S32Max = Math.Min(S32Max, (int)(uint)(var32.Value | (var32.Mask & 0x7fff_ffffUL)));
        U32Min = Math.Max(U32Min, (uint)var32.Value);
        U32Max = Math.Min(U32Max, (uint)(var32.Value | var32.Mask));
    }

    /// <summary>Tightens the 64-bit ranges from the tnum, and makes the scalar a constant when the unsigned range and
    /// the tnum share a single value (<c>__update_reg64_bounds</c>, with the <c>tnum_step</c> refinement).</summary>
    public void UpdateBounds64()
    {
        SMin = Math.Max(SMin, (long)(VarOff.Value | (VarOff.Mask & 0x8000_0000_0000_0000UL)));
        SMax = Math.Min(SMax, (long)(VarOff.Value | (VarOff.Mask & 0x7fff_ffff_ffff_ffffUL)));
        UMin = Math.Max(UMin, VarOff.Value);
        UMax = Math.Min(UMax, VarOff.Value | VarOff.Mask);

        // Check whether the u64 range and the tnum overlap in a single value; if they do, every view collapses to it.
        ulong tnumNext = Tnum.Step(VarOff, UMin);
        bool uminInTnum = (UMin & ~VarOff.Mask) == VarOff.Value;
        ulong tmax = VarOff.Value | VarOff.Mask;
        if (uminInTnum && tnumNext > UMax)
        {
            // u64:  ---[xxxxxx]-----   tnum: --xx----------x-   (only umin)
            MarkKnown(UMin);
        }
        else if (!uminInTnum && tnumNext == tmax)
        {
            // u64:  ---[xxxxxx]-----   tnum: xx-----x--------   (only the tnum's maximum)
            MarkKnown(tmax);
        }
        else if (!uminInTnum && tnumNext <= UMax && Tnum.Step(VarOff, tnumNext) > UMax)
        {
            // u64:  ---[xxxxxx]-----   tnum: xx----x-------x-   (one member strictly inside)
            MarkKnown(tnumNext);
        }
    }

    /// <summary>Tightens all ranges from the tnum (<c>__update_reg_bounds</c>).</summary>
    public void UpdateBounds()
    {
        UpdateBounds32();
        UpdateBounds64();
    }

    /// <summary>Lets the 64-bit ranges and the 32-bit ranges tighten each other (<c>__reg_deduce_bounds</c>).</summary>
    public void DeduceBounds()
    {
        Deduce32();
        Deduce64();
        DeduceMixed();
    }

    /// <summary>Derives 32-bit ranges from the 64-bit ones and signed from unsigned in 32 bits
    /// (<c>__reg32_deduce_bounds</c>).</summary>
    public void Deduce32()
    {
        // If the upper 32 bits of the u64/s64 range do not change, the lower 32 bits form a valid range:
        // u64 [0x1_0000000A, 0x1_0000000F] gives [0xA, 0xF] in u32 (and in s32 when the sign agrees).
        if ((UMin >> 32) == (UMax >> 32))
        {
            U32Min = Math.Max(U32Min, (uint)UMin);
            U32Max = Math.Min(U32Max, (uint)UMax);
            if ((int)(uint)UMin <= (int)(uint)UMax)
            {
                S32Min = Math.Max(S32Min, (int)(uint)UMin);
                S32Max = Math.Min(S32Max, (int)(uint)UMax);
            }
        }

        if ((SMin >> 32) == (SMax >> 32))
        {
            // low 32 bits should form a proper u32 range
            if ((uint)SMin <= (uint)SMax)
            {
                U32Min = Math.Max(U32Min, (uint)SMin);
                U32Max = Math.Min(U32Max, (uint)SMax);
            }

            // low 32 bits should form a proper s32 range
            if ((int)SMin <= (int)SMax)
            {
                S32Min = Math.Max(S32Min, (int)SMin);
                S32Max = Math.Min(S32Max, (int)SMax);
            }
        }

        // The upper halves are two consecutive numbers (0xffffffff then 0 included) while the lower halves go from
        // negative to non-negative: s64 [-1, 1] still gives s32 [-1, 1]; [0xfffffff0fffffff0, 0xfffffff100000010]
        // gives s32 [-16, 16].
        if ((uint)(UMin >> 32) + 1 == (uint)(UMax >> 32) && (int)(uint)UMin < 0 && (int)(uint)UMax >= 0)
        {
            S32Min = Math.Max(S32Min, (int)(uint)UMin);
            S32Max = Math.Min(S32Max, (int)(uint)UMax);
        }

        if ((uint)((ulong)SMin >> 32) + 1 == (uint)((ulong)SMax >> 32) && (int)SMin < 0 && (int)SMax >= 0)
        {
            S32Min = Math.Max(S32Min, (int)SMin);
            S32Max = Math.Min(S32Max, (int)SMax);
        }

        // if the u32 range forms a valid s32 range (same sign bit), learn from it
        if ((int)U32Min <= (int)U32Max)
        {
            S32Min = Math.Max(S32Min, (int)U32Min);
            S32Max = Math.Min(S32Max, (int)U32Max);
        }

        // If the s32 range cannot cross the sign boundary, signed and unsigned bounds are the same: combine.
        if ((uint)S32Min <= (uint)S32Max)
        {
            U32Min = Math.Max((uint)S32Min, U32Min);
            U32Max = Math.Min((uint)S32Max, U32Max);
        }
        else
        {
            if (U32Max < (uint)S32Min)
            {
                // The u32 range overlaps only the non-negative part of the s32 range:
                // 0 |  [xxxx u32 xxxx]         |              U32_MAX
                //   |xxx s32 xxx]          [xxxx|
                S32Min = (int)U32Min;
                U32Max = Math.Min(U32Max, (uint)S32Max);
            }
            else if ((uint)S32Max < U32Min)
            {
                // The u32 range overlaps only the negative part of the s32 range.
                S32Max = (int)U32Max;
                U32Min = Math.Max(U32Min, (uint)S32Min);
            }
        }
    }

    /// <summary>Lets the signed and unsigned 64-bit ranges tighten each other (<c>__reg64_deduce_bounds</c>).</summary>
    public void Deduce64()
    {
        // A u64 range that stays in one half (sign bit constant) is also a valid s64 range, and vice versa:
        // 0 ......... 0x7fff..ff 0x8000..00 ......... U64_MAX
        // 0 ............ S64_MAX S64_MIN ............. -1
        if ((long)UMin <= (long)UMax)
        {
            SMin = Math.Max(SMin, (long)UMin);
            SMax = Math.Min(SMax, (long)UMax);
        }

        // If the s64 range cannot cross the sign boundary, signed and unsigned are the same, so combine;
        // -3 s<= x s<= -1 implies 0xf..fd u<= x u<= 0xf..ff.
        if ((ulong)SMin <= (ulong)SMax)
        {
            UMin = Math.Max((ulong)SMin, UMin);
            UMax = Math.Min((ulong)SMax, UMax);
        }
        else
        {
            // The s64 range crosses the sign boundary, so in u64 it is split between both ends of the domain; a u64
            // range that overlaps only one end lets both be tightened (6.17+).
            if (UMax < (ulong)SMin)
            {
                // u64 range meets only the non-negative part of the s64 range
                SMin = (long)UMin;
                UMax = Math.Min(UMax, (ulong)SMax);
            }
            else if ((ulong)SMax < UMin)
            {
                // u64 range meets only the negative part of the s64 range
                SMax = (long)UMax;
                UMin = Math.Max(UMin, (ulong)SMin);
            }
        }
    }

    /// <summary>Tightens the 64-bit ranges from the 32-bit ones (<c>__reg_deduce_mixed_bounds</c>).</summary>
    public void DeduceMixed()
    {
        // Substitute the 32-bit bounds as the low halves of the 64-bit bounds: r1 in [0x1_00000000, 0x3_80000000]
        // with s32 [1, 0x7fffffff] becomes [0x1_00000001, 0x3_7fffffff]. u32 -> u64 is always well formed.
        ulong newUMin = (UMin & ~0xffff_ffffUL) | U32Min;
        ulong newUMax = (UMax & ~0xffff_ffffUL) | U32Max;
        UMin = Math.Max(UMin, newUMin);
        UMax = Math.Min(UMax, newUMax);

        // u32 -> s64: a u32 range embedded into s64 keeps its validity
        long newSMin = (long)(((ulong)SMin & ~0xffff_ffffUL) | U32Min);
        long newSMax = (long)(((ulong)SMax & ~0xffff_ffffUL) | U32Max);
        SMin = Math.Max(SMin, newSMin);
        SMax = Math.Min(SMax, newSMax);

        // After a sign-extending load the range may be [0xffffffff_80000000, 0x00000000_ffffffff]: upper bits all 1s
        // or all 0s. If the low 32 bits are non-negative as s32, the all-1s half is impossible (its members with a
        // non-negative low half lie below (s64)S32_MIN), so the value is the s32 range itself.
        if (S32Min >= 0 && SMin >= int.MinValue && SMax <= int.MaxValue)
        {
            SMin = S32Min;
            SMax = S32Max;
            UMin = (ulong)S32Min;
            UMax = (ulong)S32Max;
            VarOff = Tnum.Intersect(VarOff, Tnum.Range((ulong)SMin, (ulong)SMax));
        }
    }

    /// <summary>Improves the tnum from the unsigned ranges (<c>__reg_bound_offset</c>).</summary>
    public void BoundOffset()
    {
        var var64 = Tnum.Intersect(VarOff, Tnum.Range(UMin, UMax));
        var var32 = Tnum.Intersect(Tnum.Subreg(var64), Tnum.Range(U32Min, U32Max));
        VarOff = Tnum.Or(Tnum.ClearSubreg(var64), var32);
    }

    /// <summary>Lets every view tighten the others (<c>reg_bounds_sync</c>): bounds from the tnum, three rounds of
    /// deduction, bits from the bounds, and bounds from the improved tnum.</summary>
    public void Sync()
    {
        // We might have learned new bounds from the var_off.
        UpdateBounds();
        // We might have learned something about the sign bit.
        DeduceBounds();
        DeduceBounds();
        DeduceBounds();
        // We might have learned some bits from the bounds.
        BoundOffset();
        // Intersecting with the old var_off might have improved the bounds slightly, e.g. umax 0x7f..f with var_off
        // (0; 0xf..fc) gives (0; 0x7f..fc), which improves umax.
        UpdateBounds();
    }

    /// <summary>The kernel's <c>reg_bounds_sanity_check</c>: null when the state is consistent, else the text the
    /// kernel reports as a verifier bug (<c>REG INVARIANTS VIOLATION (ctx): ...</c>).</summary>
    /// <param name="ctx">Where the check runs (<c>alu</c>, <c>true_reg1</c>, ...).</param>
    public readonly string? CheckSanity(string ctx)
    {
        string? msg = null;
        if (UMin > UMax || SMin > SMax || U32Min > U32Max || S32Min > S32Max)
        {
            msg = "range bounds violation";
        }
        else if (VarOff.IsConst &&
                 (UMin != VarOff.Value || UMax != VarOff.Value || SMin != (long)VarOff.Value || SMax != (long)VarOff.Value))
        {
            msg = "const tnum out of sync with range bounds";
        }
        else if (VarOff.SubregIsConst)
        {
            uint uval32 = (uint)VarOff.Value;
            if (U32Min != uval32 || U32Max != uval32 || S32Min != (int)uval32 || S32Max != (int)uval32)
            {
                msg = "const subreg tnum out of sync with range bounds";
            }
        }

        if (msg is null)
        {
            return null;
        }

        return string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"REG INVARIANTS VIOLATION ({ctx}): {msg} u64=[0x{UMin:x}, 0x{UMax:x}] s64=[0x{(ulong)SMin:x}, 0x{(ulong)SMax:x}] " +
            $"u32=[0x{U32Min:x}, 0x{U32Max:x}] s32=[0x{(uint)S32Min:x}, 0x{(uint)S32Max:x}] var_off=(0x{VarOff.Value:x}, 0x{VarOff.Mask:x})");
    }

    /// <summary>Throws <see cref="VerifierBugException"/> when <see cref="CheckSanity"/> fails; compiled only with
    /// <c>VERIFIER_INVARIANTS</c> defined (tests call <see cref="CheckSanity"/> directly).</summary>
    /// <param name="ctx">Where the check runs.</param>
    [Conditional("VERIFIER_INVARIANTS")]
    public readonly void AssertInvariants(string ctx)
    {
        if (CheckSanity(ctx) is { } msg)
        {
            throw new VerifierBugException(msg);
        }
    }

    /// <inheritdoc/>
    public readonly bool Equals(ScalarBounds other) =>
        VarOff == other.VarOff && SMin == other.SMin && SMax == other.SMax && UMin == other.UMin && UMax == other.UMax &&
        S32Min == other.S32Min && S32Max == other.S32Max && U32Min == other.U32Min && U32Max == other.U32Max;

    /// <inheritdoc/>
    public override readonly bool Equals(object? obj) => obj is ScalarBounds b && Equals(b);

    /// <inheritdoc/>
    public override readonly int GetHashCode() =>
        HashCode.Combine(VarOff, SMin, SMax, UMin, UMax, HashCode.Combine(S32Min, S32Max, U32Min, U32Max));

    /// <summary>Field-wise equality.</summary>
    /// <param name="left">First state.</param>
    /// <param name="right">Second state.</param>
    public static bool operator ==(ScalarBounds left, ScalarBounds right) => left.Equals(right);

    /// <summary>Field-wise inequality.</summary>
    /// <param name="left">First state.</param>
    /// <param name="right">Second state.</param>
    public static bool operator !=(ScalarBounds left, ScalarBounds right) => !left.Equals(right);
}
