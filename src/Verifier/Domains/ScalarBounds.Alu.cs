using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Domains;

// The ALU transfer functions of kernel/bpf/verifier.c (adjust_scalar_min_max_vals and the scalar*_min_max_*
// helpers), as Linux 6.18 has them. Each helper mirrors its kernel namesake; the dispatcher Alu() mirrors
// adjust_scalar_min_max_vals: it computes the 32-bit and the 64-bit views of the result separately, zero-extends
// the 32-bit result of an ALU32 op into 64 bits, and finishes with reg_bounds_sync.
public partial struct ScalarBounds
{
    /// <summary>The scalar operand of an instruction with an immediate source (BPF_K): the kernel's fake register
    /// <c>__mark_reg_known(&amp;off_reg, insn->imm)</c>, the s32 immediate sign-extended to 64 bits.</summary>
    /// <param name="insn">The instruction.</param>
    public static ScalarBounds ImmOperand(in Instruction insn) => Const((ulong)(long)insn.Imm);

    /// <summary>True when the result range of <paramref name="op"/> can be computed from the operands
    /// (<c>is_safe_to_compute_dst_reg_range</c>); otherwise the result is an unknown scalar. Shifts need a constant
    /// count below the width; division and modulo are never tracked in 6.18 (their result is unknown).</summary>
    /// <param name="op">The operation.</param>
    /// <param name="alu64">True for ALU64, false for ALU (32-bit).</param>
    /// <param name="src">The source operand.</param>
    public static bool IsSafeToComputeDstRange(AluOp op, bool alu64, in ScalarBounds src)
    {
        bool srcIsConst;
        int bitness = alu64 ? 64 : 32;
        if (!alu64)
        {
            srcIsConst = src.VarOff.SubregIsConst && src.S32Min == src.S32Max && src.U32Min == src.U32Max;
        }
        else
        {
            srcIsConst = src.VarOff.IsConst && src.SMin == src.SMax && src.UMin == src.UMax;
        }

        switch (op)
        {
            case AluOp.Add:
            case AluOp.Sub:
            case AluOp.Neg:
            case AluOp.And:
            case AluOp.Xor:
            case AluOp.Or:
            case AluOp.Mul:
            case AluOp.End:
                return true;

            // Shifts are computable only for a constant count; counts of the width or more (and negative ones)
            // are undefined.
            case AluOp.Lsh:
            case AluOp.Rsh:
            case AluOp.Arsh:
                return srcIsConst && src.UMax < (ulong)bitness;

            // BPF_DIV and BPF_MOD: not in 6.18's list (later kernels track a constant divisor).
            default:
                return false;
        }
    }

    /// <summary>Applies an ALU instruction to the scalar <paramref name="dst"/> (<c>adjust_scalar_min_max_vals</c>).
    /// <paramref name="src"/> is the source register's state, or <see cref="ImmOperand"/> for BPF_K; for BPF_NEG and
    /// BPF_END pass the destination itself, as the kernel does. MOV is <see cref="Mov"/>.</summary>
    /// <param name="dst">The destination scalar, updated in place.</param>
    /// <param name="src">The source operand (a copy, as the kernel passes it by value).</param>
    /// <param name="insn">The instruction (class, operation, offset and immediate are read).</param>
    public static void Alu(ref ScalarBounds dst, ScalarBounds src, in Instruction insn)
    {
        var op = insn.AluOp;
        bool alu32 = insn.Class != OpClass.Alu64;

        if (!IsSafeToComputeDstRange(op, !alu32, in src))
        {
            dst = Unknown;
            return;
        }

        switch (op)
        {
            case AluOp.Add:
                Scalar32Add(ref dst, in src);
                Scalar64Add(ref dst, in src);
                dst.VarOff = Tnum.Add(dst.VarOff, src.VarOff);
                break;
            case AluOp.Sub:
                Scalar32Sub(ref dst, in src);
                Scalar64Sub(ref dst, in src);
                dst.VarOff = Tnum.Sub(dst.VarOff, src.VarOff);
                break;
            case AluOp.Neg:
            {
                // 0 - dst, computed with the SUB helpers from a known zero (kernel: env->fake_reg[0] = *dst_reg).
                var old = dst;
                dst.MarkKnown(0);
                Scalar32Sub(ref dst, in old);
                Scalar64Sub(ref dst, in old);
                dst.VarOff = Tnum.Neg(old.VarOff);
                break;
            }

            case AluOp.Mul:
                dst.VarOff = Tnum.Mul(dst.VarOff, src.VarOff);
                Scalar32Mul(ref dst, in src);
                Scalar64Mul(ref dst, in src);
                break;
            case AluOp.And:
                // the bitwise helpers read the already-combined var_off
                dst.VarOff = Tnum.And(dst.VarOff, src.VarOff);
                Scalar32And(ref dst, in src);
                Scalar64And(ref dst, in src);
                break;
            case AluOp.Or:
                dst.VarOff = Tnum.Or(dst.VarOff, src.VarOff);
                Scalar32Or(ref dst, in src);
                Scalar64Or(ref dst, in src);
                break;
            case AluOp.Xor:
                dst.VarOff = Tnum.Xor(dst.VarOff, src.VarOff);
                Scalar32Xor(ref dst, in src);
                Scalar64Xor(ref dst, in src);
                break;
            case AluOp.Lsh:
                if (alu32)
                {
                    Scalar32Lsh(ref dst, in src);
                }
                else
                {
                    Scalar64Lsh(ref dst, in src);
                }

                break;
            case AluOp.Rsh:
                if (alu32)
                {
                    Scalar32Rsh(ref dst, in src);
                }
                else
                {
                    Scalar64Rsh(ref dst, in src);
                }

                break;
            case AluOp.Arsh:
                if (alu32)
                {
                    Scalar32Arsh(ref dst, in src);
                }
                else
                {
                    Scalar64Arsh(ref dst, in src);
                }

                break;
            case AluOp.End:
                ByteSwap(ref dst, in insn);
                break;
            default:
                break;
        }

        // ALU32 results are zero-extended into the 64-bit register; BPF_END already truncated (le64 is ALU class but
        // a 64-bit operation, so it must not be zero-extended).
        if (alu32 && op != AluOp.End)
        {
            dst.ZeroExtend32To64();
        }

        dst.Sync();
    }

    /// <summary>Applies a MOV of a scalar (check_alu_op's BPF_MOV case for a scalar source): a plain 64-bit copy,
    /// a 32-bit copy zero-extended, or a sign-extending move (<c>movsx</c>, offset 8/16/32).</summary>
    /// <param name="dst">The destination, overwritten.</param>
    /// <param name="src">The source operand (register state or <see cref="ImmOperand"/> semantics for BPF_K).</param>
    /// <param name="insn">The MOV instruction.</param>
    public static void Mov(ref ScalarBounds dst, in ScalarBounds src, in Instruction insn)
    {
        bool alu64 = insn.Class == OpClass.Alu64;
        if (!insn.SrcIsReg)
        {
            // R = imm: sign-extended in 64 bits, zero-extended from 32 in ALU32
            dst = Const(alu64 ? (ulong)(long)insn.Imm : (uint)insn.Imm);
            return;
        }

        dst = src;
        if (alu64)
        {
            if (insn.Offset != 0)
            {
                // R1 = (s8, s16, s32)R2
                dst.CoerceToSizeSx(insn.Offset >> 3);
            }

            return;
        }

        if (insn.Offset != 0)
        {
            // W1 = (s8, s16)W2
            dst.CoerceSubregToSizeSx(insn.Offset >> 3);
        }

        dst.ZeroExtend32To64();
        dst.Sync();
    }

    /// <summary>Zero-extends the low 32 bits into the register (<c>zext_32_to_64</c>).</summary>
    public void ZeroExtend32To64()
    {
        VarOff = Tnum.Subreg(VarOff);
        AssignLow32Into64();
    }

    /// <summary>Truncates to the low <paramref name="size"/> bytes (<c>coerce_reg_to_size</c>), e.g. after a
    /// narrow load or a byte swap.</summary>
    /// <param name="size">1, 2 or 4.</param>
    public void CoerceToSize(int size)
    {
        // clear high bits in bit representation
        VarOff = Tnum.Cast(VarOff, size);

        // fix arithmetic bounds
        ulong mask = (1UL << (size * 8)) - 1;
        if ((UMin & ~mask) == (UMax & ~mask))
        {
            UMin &= mask;
            UMax &= mask;
        }
        else
        {
            UMin = 0;
            UMax = mask;
        }

        SMin = (long)UMin;
        SMax = (long)UMax;

        // Below 32 bits the 32-bit ranges are truncated too; the 64-bit ones (already truncated) refill them.
        if (size < 4)
        {
            MarkUnbounded32();
        }

        Sync();
    }

    /// <summary>Sign-extends the low <paramref name="size"/> bytes into 64 bits (<c>coerce_reg_to_size_sx</c>),
    /// for <c>movsx</c> and sign-extending loads.</summary>
    /// <param name="size">1, 2 or 4.</param>
    public void CoerceToSizeSx(int size)
    {
        if (VarOff.IsConst)
        {
            ulong c = VarOff.Value;
            c = size == 1 ? (ulong)(long)(sbyte)c : size == 2 ? (ulong)(long)(short)c : (ulong)(long)(int)c;
            VarOff = Tnum.Const(c);
            SMin = SMax = (long)c;
            UMin = UMax = c;
            S32Min = S32Max = (int)c;
            U32Min = U32Max = (uint)c;
            return;
        }

        int numBits = size * 8;
        ulong topSmax = ((ulong)SMax >> numBits) << numBits;
        ulong topSmin = ((ulong)SMin >> numBits) << numBits;
        if (topSmax == topSmin)
        {
            // find the s64 min and max after sign extension
            long initMax, initMin;
            if (size == 1)
            {
                initMax = (sbyte)SMax;
                initMin = (sbyte)SMin;
            }
            else if (size == 2)
            {
                initMax = (short)SMax;
                initMin = (short)SMin;
            }
            else
            {
                initMax = (int)SMax;
                initMin = (int)SMin;
            }

            long s64Max = Math.Max(initMax, initMin);
            long s64Min = Math.Min(initMax, initMin);

            // both non-negative or both negative: the extension keeps the order
            if ((s64Max >= 0) == (s64Min >= 0))
            {
                SMin = s64Min;
                SMax = s64Max;
                S32Min = (int)s64Min;
                S32Max = (int)s64Max;
                UMin = (ulong)s64Min;
                UMax = (ulong)s64Max;
                U32Min = (uint)s64Min;
                U32Max = (uint)s64Max;
                VarOff = Tnum.Range((ulong)s64Min, (ulong)s64Max);
                return;
            }
        }

        // set_sext64_default_val
        long lo = size == 1 ? sbyte.MinValue : size == 2 ? short.MinValue : int.MinValue;
        long hi = size == 1 ? sbyte.MaxValue : size == 2 ? short.MaxValue : int.MaxValue;
        SMin = lo;
        S32Min = (int)lo;
        SMax = hi;
        S32Max = (int)hi;
        UMin = 0;
        U32Min = 0;
        UMax = ulong.MaxValue;
        U32Max = uint.MaxValue;
        VarOff = Tnum.Unknown;
    }

    /// <summary>Sign-extends the low <paramref name="size"/> bytes into the 32-bit subregister
    /// (<c>coerce_subreg_to_size_sx</c>), for the 32-bit <c>movsx</c>.</summary>
    /// <param name="size">1 or 2.</param>
    public void CoerceSubregToSizeSx(int size)
    {
        if (VarOff.IsConst)
        {
            uint c = (uint)VarOff.Value;
            // kernel: var_off = tnum_const((s8)u32_val), a 64-bit sign extension
            VarOff = size == 1 ? Tnum.Const((ulong)(long)(sbyte)c) : Tnum.Const((ulong)(long)(short)c);
            uint v = (uint)VarOff.Value;
            S32Min = S32Max = (int)v;
            U32Min = U32Max = v;
            return;
        }

        int numBits = size * 8;
        uint topSmax = ((uint)S32Max >> numBits) << numBits;
        uint topSmin = ((uint)S32Min >> numBits) << numBits;
        if (topSmax == topSmin)
        {
            int initMax, initMin;
            if (size == 1)
            {
                initMax = (sbyte)S32Max;
                initMin = (sbyte)S32Min;
            }
            else
            {
                initMax = (short)S32Max;
                initMin = (short)S32Min;
            }

            int s32Max = Math.Max(initMax, initMin);
            int s32Min = Math.Min(initMax, initMin);
            if ((s32Min >= 0) == (s32Max >= 0))
            {
                S32Min = s32Min;
                S32Max = s32Max;
                U32Min = (uint)s32Min;
                U32Max = (uint)s32Max;
                VarOff = Tnum.Subreg(Tnum.Range((ulong)(long)s32Min, (ulong)(long)s32Max));
                return;
            }
        }

        // set_sext32_default_val
        S32Min = size == 1 ? sbyte.MinValue : short.MinValue;
        S32Max = size == 1 ? sbyte.MaxValue : short.MaxValue;
        U32Min = 0;
        U32Max = uint.MaxValue;
        VarOff = Tnum.Subreg(Tnum.Unknown);
    }

    /// <summary>True when an AND/OR whose source is a 64-bit constant makes the 6.18 verifier fork the state
    /// (<c>maybe_fork_scalars</c>): the destination is [-1, 0] in 64 bits (or in 32 bits), the pattern LLVM emits for
    /// <c>(x s&gt;&gt; 63) &amp; K</c>. See <see cref="SplitSignMask"/>.</summary>
    /// <param name="dst">The destination before the operation.</param>
    /// <param name="alu32">Set to true when only the 32-bit bounds matched.</param>
    public static bool IsSignMaskFork(in ScalarBounds dst, out bool alu32)
    {
        if (dst.SMin == -1 && dst.SMax == 0)
        {
            alu32 = false;
            return true;
        }

        alu32 = dst.S32Min == -1 && dst.S32Max == 0;
        return alu32;
    }

    /// <summary>Splits a [-1, 0] destination as <c>maybe_fork_scalars</c> does (Linux 6.18.44): this state becomes -1
    /// (all ones, in the low half only when <paramref name="alu32"/>) and the returned state 0. The exploration pushes
    /// the returned state to re-run the same instruction (the kernel logs it as "from N to N") and continues with
    /// this one.</summary>
    /// <param name="dst">The destination, set to all ones.</param>
    /// <param name="alu32">From <see cref="IsSignMaskFork"/>.</param>
    public static ScalarBounds SplitSignMask(ref ScalarBounds dst, bool alu32)
    {
        var zero = dst;
        if (alu32)
        {
            zero.MarkKnown32(0);
            dst.MarkKnown32(ulong.MaxValue);
        }
        else
        {
            zero.MarkKnown(0);
            dst.MarkKnown(ulong.MaxValue);
        }

        return zero;
    }

    // __reg_assign_32_into_64: the 64-bit bounds of a zero-extended 32-bit value.
    private void AssignLow32Into64()
    {
        UMin = U32Min;
        UMax = U32Max;

        // Pull the 32-bit signed bounds into 64 bits only when they are non-negative; otherwise [0, U32_MAX],
        // refined later from the tnum.
        if (S32Min >= 0 && S32Max >= 0)
        {
            SMin = S32Min;
            SMax = S32Max;
        }
        else
        {
            SMin = 0;
            SMax = uint.MaxValue;
        }
    }

    private static bool AddOverflows(long a, long b, out long r)
    {
        r = unchecked(a + b);
        return ((a ^ r) & (b ^ r)) < 0;
    }

    private static bool SubOverflows(long a, long b, out long r)
    {
        r = unchecked(a - b);
        return ((a ^ b) & (a ^ r)) < 0;
    }

    private static bool MulOverflows(long a, long b, out long r)
    {
        long hi = Math.BigMul(a, b, out r);
        return hi != (r >> 63);
    }

    private static bool MulOverflows(ulong a, ulong b, out ulong r)
    {
        ulong hi = Math.BigMul(a, b, out r);
        return hi != 0;
    }

    private static bool AddOverflows32(int a, int b, out int r)
    {
        long w = (long)a + b;
        r = (int)w;
        return w != r;
    }

    private static bool SubOverflows32(int a, int b, out int r)
    {
        long w = (long)a - b;
        r = (int)w;
        return w != r;
    }

    private static bool MulOverflows32(int a, int b, out int r)
    {
        long w = (long)a * b;
        r = (int)w;
        return w != r;
    }

    // scalar32_min_max_add
    private static void Scalar32Add(ref ScalarBounds dst, in ScalarBounds src)
    {
        if (AddOverflows32(dst.S32Min, src.S32Min, out int smin) | AddOverflows32(dst.S32Max, src.S32Max, out int smax))
        {
            dst.S32Min = int.MinValue;
            dst.S32Max = int.MaxValue;
        }
        else
        {
            dst.S32Min = smin;
            dst.S32Max = smax;
        }

        // If all additions overflow or none does, [umin + umin', umax + umax'] (wrapped) is exact; if only some do,
        // the result wraps around the domain and nothing is known.
        uint umin = unchecked(dst.U32Min + src.U32Min);
        uint umax = unchecked(dst.U32Max + src.U32Max);
        bool minOverflow = umin < dst.U32Min;
        bool maxOverflow = umax < dst.U32Max;
        dst.U32Min = umin;
        dst.U32Max = umax;
        if (!minOverflow && maxOverflow)
        {
            dst.U32Min = 0;
            dst.U32Max = uint.MaxValue;
        }
    }

    // scalar_min_max_add
    private static void Scalar64Add(ref ScalarBounds dst, in ScalarBounds src)
    {
        if (AddOverflows(dst.SMin, src.SMin, out long smin) | AddOverflows(dst.SMax, src.SMax, out long smax))
        {
            dst.SMin = long.MinValue;
            dst.SMax = long.MaxValue;
        }
        else
        {
            dst.SMin = smin;
            dst.SMax = smax;
        }

        ulong umin = unchecked(dst.UMin + src.UMin);
        ulong umax = unchecked(dst.UMax + src.UMax);
        bool minOverflow = umin < dst.UMin;
        bool maxOverflow = umax < dst.UMax;
        dst.UMin = umin;
        dst.UMax = umax;
        if (!minOverflow && maxOverflow)
        {
            dst.UMin = 0;
            dst.UMax = ulong.MaxValue;
        }
    }

    // scalar32_min_max_sub
    private static void Scalar32Sub(ref ScalarBounds dst, in ScalarBounds src)
    {
        if (SubOverflows32(dst.S32Min, src.S32Max, out int smin) | SubOverflows32(dst.S32Max, src.S32Min, out int smax))
        {
            // overflow possible, we know nothing
            dst.S32Min = int.MinValue;
            dst.S32Max = int.MaxValue;
        }
        else
        {
            dst.S32Min = smin;
            dst.S32Max = smax;
        }

        // If all subtractions underflow or none does, [umin - umax', umax - umin'] (wrapped) is exact.
        bool minUnderflow = dst.U32Min < src.U32Max;
        bool maxUnderflow = dst.U32Max < src.U32Min;
        dst.U32Min = unchecked(dst.U32Min - src.U32Max);
        dst.U32Max = unchecked(dst.U32Max - src.U32Min);
        if (minUnderflow && !maxUnderflow)
        {
            dst.U32Min = 0;
            dst.U32Max = uint.MaxValue;
        }
    }

    // scalar_min_max_sub
    private static void Scalar64Sub(ref ScalarBounds dst, in ScalarBounds src)
    {
        if (SubOverflows(dst.SMin, src.SMax, out long smin) | SubOverflows(dst.SMax, src.SMin, out long smax))
        {
            dst.SMin = long.MinValue;
            dst.SMax = long.MaxValue;
        }
        else
        {
            dst.SMin = smin;
            dst.SMax = smax;
        }

        bool minUnderflow = dst.UMin < src.UMax;
        bool maxUnderflow = dst.UMax < src.UMin;
        dst.UMin = unchecked(dst.UMin - src.UMax);
        dst.UMax = unchecked(dst.UMax - src.UMin);
        if (minUnderflow && !maxUnderflow)
        {
            dst.UMin = 0;
            dst.UMax = ulong.MaxValue;
        }
    }

    // scalar32_min_max_mul: unsigned from the products of the extremes, signed from the four corner products.
    private static void Scalar32Mul(ref ScalarBounds dst, in ScalarBounds src)
    {
        ulong umax = (ulong)dst.U32Max * src.U32Max;
        ulong umin = (ulong)dst.U32Min * src.U32Min;
        if (umax > uint.MaxValue || umin > uint.MaxValue)
        {
            dst.U32Min = 0;
            dst.U32Max = uint.MaxValue;
        }
        else
        {
            dst.U32Min = (uint)umin;
            dst.U32Max = (uint)umax;
        }

        if (MulOverflows32(dst.S32Min, src.S32Min, out int p0) || MulOverflows32(dst.S32Min, src.S32Max, out int p1) ||
            MulOverflows32(dst.S32Max, src.S32Min, out int p2) || MulOverflows32(dst.S32Max, src.S32Max, out int p3))
        {
            dst.S32Min = int.MinValue;
            dst.S32Max = int.MaxValue;
        }
        else
        {
            dst.S32Min = Math.Min(Math.Min(p0, p1), Math.Min(p2, p3));
            dst.S32Max = Math.Max(Math.Max(p0, p1), Math.Max(p2, p3));
        }
    }

    // scalar_min_max_mul
    private static void Scalar64Mul(ref ScalarBounds dst, in ScalarBounds src)
    {
        if (MulOverflows(dst.UMax, src.UMax, out ulong umax) || MulOverflows(dst.UMin, src.UMin, out ulong umin))
        {
            dst.UMin = 0;
            dst.UMax = ulong.MaxValue;
        }
        else
        {
            dst.UMin = umin;
            dst.UMax = umax;
        }

        if (MulOverflows(dst.SMin, src.SMin, out long p0) || MulOverflows(dst.SMin, src.SMax, out long p1) ||
            MulOverflows(dst.SMax, src.SMin, out long p2) || MulOverflows(dst.SMax, src.SMax, out long p3))
        {
            dst.SMin = long.MinValue;
            dst.SMax = long.MaxValue;
        }
        else
        {
            dst.SMin = Math.Min(Math.Min(p0, p1), Math.Min(p2, p3));
            dst.SMax = Math.Max(Math.Max(p0, p1), Math.Max(p2, p3));
        }
    }

    // The bitwise helpers run after var_off holds the combined tnum. A u32 (u64) range that does not cross the
    // sign boundary is also the s32 (s64) range; otherwise the signed range is unknown.
    private void SignedFromUnsigned32()
    {
        if ((int)U32Min <= (int)U32Max)
        {
            S32Min = (int)U32Min;
            S32Max = (int)U32Max;
        }
        else
        {
            S32Min = int.MinValue;
            S32Max = int.MaxValue;
        }
    }

    private void SignedFromUnsigned64()
    {
        if ((long)UMin <= (long)UMax)
        {
            SMin = (long)UMin;
            SMax = (long)UMax;
        }
        else
        {
            SMin = long.MinValue;
            SMax = long.MaxValue;
        }
    }

    // scalar32_min_max_and: the minimum comes from the tnum (bitwise), the maximum is the smaller of the maxima.
    private static void Scalar32And(ref ScalarBounds dst, in ScalarBounds src)
    {
        var var32 = Tnum.Subreg(dst.VarOff);
        if (src.VarOff.SubregIsConst && dst.VarOff.SubregIsConst)
        {
            dst.MarkKnown32(var32.Value);
            return;
        }

        dst.U32Min = (uint)var32.Value;
        dst.U32Max = Math.Min(dst.U32Max, src.U32Max);
        dst.SignedFromUnsigned32();
    }

    // scalar_min_max_and
    private static void Scalar64And(ref ScalarBounds dst, in ScalarBounds src)
    {
        if (src.VarOff.IsConst && dst.VarOff.IsConst)
        {
            dst.MarkKnown(dst.VarOff.Value);
            return;
        }

        dst.UMin = dst.VarOff.Value;
        dst.UMax = Math.Min(dst.UMax, src.UMax);
        dst.SignedFromUnsigned64();
        // we may learn something more from the var_off
        dst.UpdateBounds();
    }

    // scalar32_min_max_or: the maximum comes from the tnum, the minimum is the larger of the minima.
    private static void Scalar32Or(ref ScalarBounds dst, in ScalarBounds src)
    {
        var var32 = Tnum.Subreg(dst.VarOff);
        if (src.VarOff.SubregIsConst && dst.VarOff.SubregIsConst)
        {
            dst.MarkKnown32(var32.Value);
            return;
        }

        dst.U32Min = Math.Max(dst.U32Min, src.U32Min);
        dst.U32Max = (uint)(var32.Value | var32.Mask);
        dst.SignedFromUnsigned32();
    }

    // scalar_min_max_or
    private static void Scalar64Or(ref ScalarBounds dst, in ScalarBounds src)
    {
        if (src.VarOff.IsConst && dst.VarOff.IsConst)
        {
            dst.MarkKnown(dst.VarOff.Value);
            return;
        }

        dst.UMin = Math.Max(dst.UMin, src.UMin);
        dst.UMax = dst.VarOff.Value | dst.VarOff.Mask;
        dst.SignedFromUnsigned64();
        dst.UpdateBounds();
    }

    // scalar32_min_max_xor: both bounds from the tnum.
    private static void Scalar32Xor(ref ScalarBounds dst, in ScalarBounds src)
    {
        var var32 = Tnum.Subreg(dst.VarOff);
        if (src.VarOff.SubregIsConst && dst.VarOff.SubregIsConst)
        {
            dst.MarkKnown32(var32.Value);
            return;
        }

        dst.U32Min = (uint)var32.Value;
        dst.U32Max = (uint)(var32.Value | var32.Mask);
        dst.SignedFromUnsigned32();
    }

    // scalar_min_max_xor
    private static void Scalar64Xor(ref ScalarBounds dst, in ScalarBounds src)
    {
        if (src.VarOff.IsConst && dst.VarOff.IsConst)
        {
            // dst.VarOff.Value already holds the result
            dst.MarkKnown(dst.VarOff.Value);
            return;
        }

        dst.UMin = dst.VarOff.Value;
        dst.UMax = dst.VarOff.Value | dst.VarOff.Mask;
        dst.SignedFromUnsigned64();
        dst.UpdateBounds();
    }

    // __scalar32_min_max_lsh: all sign information is lost (except what the tnum keeps); if the top bit may be
    // shifted out, nothing is known.
    private void Lsh32Bounds(ulong uminVal, ulong umaxVal)
    {
        S32Min = int.MinValue;
        S32Max = int.MaxValue;
        if (umaxVal > 31 || U32Max > 1UL << (int)(31 - umaxVal))
        {
            U32Min = 0;
            U32Max = uint.MaxValue;
        }
        else
        {
            U32Min <<= (int)uminVal;
            U32Max <<= (int)umaxVal;
        }
    }

    // scalar32_min_max_lsh
    private static void Scalar32Lsh(ref ScalarBounds dst, in ScalarBounds src)
    {
        uint umaxVal = src.U32Max;
        uint uminVal = src.U32Min;
        // the u32 operation zero-extends the upper bits
        var subreg = Tnum.Subreg(dst.VarOff);
        dst.Lsh32Bounds(uminVal, umaxVal);
        dst.VarOff = Tnum.Subreg(Tnum.Lshift(subreg, (int)uminVal));
        // not required, but forces the 64-bit bounds to be rebuilt from the tnum and the zero extension
        dst.MarkUnbounded64();
        dst.UpdateBounds32();
    }

    // __scalar64_min_max_lsh: <<32 keeps the s32 bounds as the high half (the "<<32 s>>32" sign-extension idiom).
    private void Lsh64Bounds(ulong uminVal, ulong umaxVal)
    {
        if (uminVal == 32 && umaxVal == 32)
        {
            SMax = (long)S32Max << 32;
            SMin = (long)S32Min << 32;
        }
        else
        {
            SMax = long.MaxValue;
            SMin = long.MinValue;
        }

        // if we might shift our top bit out, we know nothing
        if (UMax > 1UL << (int)(63 - umaxVal))
        {
            UMin = 0;
            UMax = ulong.MaxValue;
        }
        else
        {
            UMin <<= (int)uminVal;
            UMax <<= (int)umaxVal;
        }
    }

    // scalar_min_max_lsh
    private static void Scalar64Lsh(ref ScalarBounds dst, in ScalarBounds src)
    {
        ulong umaxVal = src.UMax;
        ulong uminVal = src.UMin;
        // the 64-bit computation uses the unshifted 32-bit bounds, so it runs first
        dst.Lsh64Bounds(uminVal, umaxVal);
        dst.Lsh32Bounds(uminVal, umaxVal);
        dst.VarOff = Tnum.Lshift(dst.VarOff, (int)uminVal);
        dst.UpdateBounds();
    }

    // scalar32_min_max_rsh: an unsigned shift; the signed bounds are rebuilt from the unsigned ones and the tnum.
    private static void Scalar32Rsh(ref ScalarBounds dst, in ScalarBounds src)
    {
        var subreg = Tnum.Subreg(dst.VarOff);
        uint umaxVal = src.U32Max;
        uint uminVal = src.U32Min;
        dst.S32Min = int.MinValue;
        dst.S32Max = int.MaxValue;
        dst.VarOff = Tnum.Rshift(subreg, (int)uminVal);
        dst.U32Min >>= (int)umaxVal;
        dst.U32Max >>= (int)uminVal;
        dst.MarkUnbounded64();
        dst.UpdateBounds32();
    }

    // scalar_min_max_rsh
    private static void Scalar64Rsh(ref ScalarBounds dst, in ScalarBounds src)
    {
        ulong umaxVal = src.UMax;
        ulong uminVal = src.UMin;
        dst.SMin = long.MinValue;
        dst.SMax = long.MaxValue;
        dst.VarOff = Tnum.Rshift(dst.VarOff, (int)uminVal);
        dst.UMin >>= (int)umaxVal;
        dst.UMax >>= (int)uminVal;
        // the 32-bit bounds depend on bits shifted in from the upper half: rebuild them from the tnum
        dst.MarkUnbounded32();
        dst.UpdateBounds();
    }

    // scalar32_min_max_arsh: the count is a known constant here (umin == umax).
    private static void Scalar32Arsh(ref ScalarBounds dst, in ScalarBounds src)
    {
        int uminVal = (int)src.U32Min;
        dst.S32Min >>= uminVal;
        dst.S32Max >>= uminVal;
        dst.VarOff = Tnum.Arshift(Tnum.Subreg(dst.VarOff), uminVal, 32);
        // the unsigned bounds are rebuilt from the tnum
        dst.U32Min = 0;
        dst.U32Max = uint.MaxValue;
        dst.MarkUnbounded64();
        dst.UpdateBounds32();
    }

    // scalar_min_max_arsh
    private static void Scalar64Arsh(ref ScalarBounds dst, in ScalarBounds src)
    {
        int uminVal = (int)src.UMin;
        dst.SMin >>= uminVal;
        dst.SMax >>= uminVal;
        dst.VarOff = Tnum.Arshift(dst.VarOff, uminVal, 64);
        dst.UMin = 0;
        dst.UMax = ulong.MaxValue;
        dst.MarkUnbounded32();
        dst.UpdateBounds();
    }

    // scalar_byte_swap: bswap (ALU64 END), to_be on this little-endian host, swaps; to_le only truncates. The
    // swap scrambles the ranges, which are rebuilt from the swapped tnum.
    private static void ByteSwap(ref ScalarBounds dst, in Instruction insn)
    {
        bool alu64 = insn.Class == OpClass.Alu64;
        bool toLe = !insn.SrcIsReg;
        // Apply bswap for ALU64 or when converting to the other endianness than the host's (little-endian).
        bool needBswap = alu64 || !toLe;
        if (needBswap)
        {
            dst.VarOff = insn.Imm switch
            {
                16 => Tnum.Bswap16(dst.VarOff),
                32 => Tnum.Bswap32(dst.VarOff),
                64 => Tnum.Bswap64(dst.VarOff),
                _ => dst.VarOff,
            };
            dst.MarkUnbounded();
        }

        // For 16 and 32 bits the register is truncated to the swapped size.
        if (insn.Imm is 16 or 32)
        {
            dst.CoerceToSize(insn.Imm / 8);
        }
    }
}
