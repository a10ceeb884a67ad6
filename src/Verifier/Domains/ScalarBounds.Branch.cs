using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Domains;

/// <summary>What the verifier can say about a conditional jump before taking it (the kernel's
/// <c>is_branch_taken</c> result: 1, 0 or -1).</summary>
public enum BranchOutcome
{
    /// <summary>-1: either way is possible; both paths are explored.</summary>
    Unknown = -1,

    /// <summary>0: the condition is never true; only the fall-through is explored.</summary>
    Never = 0,

    /// <summary>1: the condition is always true; only the jump target is explored.</summary>
    Always = 1,
}

// Conditional jumps over two scalars (kernel/bpf/verifier.c: is_scalar_branch_taken, regs_refine_cond_op,
// reg_set_min_max). The caller turns a BPF_K operand into ImmOperand(insn) (the imm sign-extended to 64 bits, as
// check_cond_jmp_op's __mark_reg_known does), for JMP32 too.
public partial struct ScalarBounds
{
    // The internal-only "BPF_JSET | BPF_X" opcode the kernel uses for the negation of JSET (see RevOpcode).
    private const int JsetNot = (int)JmpOp.Jset | 0x08;

    /// <summary>Decides <c>if (reg1 op reg2)</c> when the bounds allow it (<c>is_scalar_branch_taken</c>).
    /// <paramref name="sameReg"/> says both operands are the same register (<c>if r1 &gt; r1</c>), which the kernel
    /// detects by pointer equality.</summary>
    /// <param name="reg1">The destination operand.</param>
    /// <param name="reg2">The source operand (register or immediate).</param>
    /// <param name="op">The comparison (not JA, CALL or EXIT).</param>
    /// <param name="is32">True for JMP32: compare the low 32 bits.</param>
    /// <param name="sameReg">True when both operands are the same register.</param>
    public static BranchOutcome IsBranchTaken(in ScalarBounds reg1, in ScalarBounds reg2, JmpOp op, bool is32,
        bool sameReg = false)
    {
        var t1 = is32 ? Tnum.Subreg(reg1.VarOff) : reg1.VarOff;
        var t2 = is32 ? Tnum.Subreg(reg2.VarOff) : reg2.VarOff;
        ulong umin1 = is32 ? reg1.U32Min : reg1.UMin;
        ulong umax1 = is32 ? reg1.U32Max : reg1.UMax;
        long smin1 = is32 ? reg1.S32Min : reg1.SMin;
        long smax1 = is32 ? reg1.S32Max : reg1.SMax;
        ulong umin2 = is32 ? reg2.U32Min : reg2.UMin;
        ulong umax2 = is32 ? reg2.U32Max : reg2.UMax;
        long smin2 = is32 ? reg2.S32Min : reg2.SMin;
        long smax2 = is32 ? reg2.S32Max : reg2.SMax;

        if (sameReg)
        {
            switch (op)
            {
                case JmpOp.Jge:
                case JmpOp.Jle:
                case JmpOp.Jsge:
                case JmpOp.Jsle:
                case JmpOp.Jeq:
                    return BranchOutcome.Always;
                case JmpOp.Jgt:
                case JmpOp.Jlt:
                case JmpOp.Jsgt:
                case JmpOp.Jslt:
                case JmpOp.Jne:
                    return BranchOutcome.Never;
                case JmpOp.Jset:
                    if (t1.IsConst)
                    {
                        return t1.Value != 0 ? BranchOutcome.Always : BranchOutcome.Never;
                    }

                    return smin1 <= 0 && smax1 >= 0 ? BranchOutcome.Unknown : BranchOutcome.Always;
                default:
                    return BranchOutcome.Unknown;
            }
        }

        switch (op)
        {
            case JmpOp.Jeq:
            case JmpOp.Jne:
            {
                // JEQ and JNE are each other's negation: compute "can they be different / equal".
                var eq = op == JmpOp.Jeq ? BranchOutcome.Always : BranchOutcome.Never;
                var ne = op == JmpOp.Jeq ? BranchOutcome.Never : BranchOutcome.Always;
                // constants: the ranges would all agree
                if (t1.IsConst && t2.IsConst)
                {
                    return t1.Value == t2.Value ? eq : ne;
                }

                if (!Tnum.Overlap(t1, t2))
                {
                    return ne;
                }

                // non-overlapping ranges
                if (umin1 > umax2 || umax1 < umin2)
                {
                    return ne;
                }

                if (smin1 > smax2 || smax1 < smin2)
                {
                    return ne;
                }

                if (!is32)
                {
                    // the 32-bit subranges may exclude equality when the 64-bit ranges cannot
                    if (reg1.U32Min > reg2.U32Max || reg1.U32Max < reg2.U32Min)
                    {
                        return ne;
                    }

                    if (reg1.S32Min > reg2.S32Max || reg1.S32Max < reg2.S32Min)
                    {
                        return ne;
                    }
                }

                break;
            }

            case JmpOp.Jset:
            {
                bool c2 = reg2.IsRegConst(is32);
                if (!c2)
                {
                    if (!reg1.IsRegConst(is32))
                    {
                        return BranchOutcome.Unknown;
                    }

                    (t1, t2) = (t2, t1);
                }

                if ((~t1.Mask & t1.Value & t2.Value) != 0)
                {
                    return BranchOutcome.Always;
                }

                if (((t1.Mask | t1.Value) & t2.Value) == 0)
                {
                    return BranchOutcome.Never;
                }

                break;
            }

            case JmpOp.Jgt:
                if (umin1 > umax2)
                {
                    return BranchOutcome.Always;
                }
                else if (umax1 <= umin2)
                {
                    return BranchOutcome.Never;
                }

                break;
            case JmpOp.Jsgt:
                if (smin1 > smax2)
                {
                    return BranchOutcome.Always;
                }
                else if (smax1 <= smin2)
                {
                    return BranchOutcome.Never;
                }

                break;
            case JmpOp.Jlt:
                if (umax1 < umin2)
                {
                    return BranchOutcome.Always;
                }
                else if (umin1 >= umax2)
                {
                    return BranchOutcome.Never;
                }

                break;
            case JmpOp.Jslt:
                if (smax1 < smin2)
                {
                    return BranchOutcome.Always;
                }
                else if (smin1 >= smax2)
                {
                    return BranchOutcome.Never;
                }

                break;
            case JmpOp.Jge:
                if (umin1 >= umax2)
                {
                    return BranchOutcome.Always;
                }
                else if (umax1 < umin2)
                {
                    return BranchOutcome.Never;
                }

                break;
            case JmpOp.Jsge:
                if (smin1 >= smax2)
                {
                    return BranchOutcome.Always;
                }
                else if (smax1 < smin2)
                {
                    return BranchOutcome.Never;
                }

                break;
            case JmpOp.Jle:
                if (umax1 <= umin2)
                {
                    return BranchOutcome.Always;
                }
                else if (umin1 > umax2)
                {
                    return BranchOutcome.Never;
                }

                break;
            case JmpOp.Jsle:
                if (smax1 <= smin2)
                {
                    return BranchOutcome.Always;
                }
                else if (smin1 > smax2)
                {
                    return BranchOutcome.Never;
                }

                break;
            default:
                break;
        }

        return BranchOutcome.Unknown;
    }

    /// <summary>The condition of a jump with swapped operands: <c>a op b</c> == <c>b flip(op) a</c> (<c>flip_opcode</c>).</summary>
    /// <param name="op">The comparison.</param>
    public static JmpOp FlipOpcode(JmpOp op) => op switch
    {
        JmpOp.Jge => JmpOp.Jle,
        JmpOp.Jgt => JmpOp.Jlt,
        JmpOp.Jle => JmpOp.Jge,
        JmpOp.Jlt => JmpOp.Jgt,
        JmpOp.Jsge => JmpOp.Jsle,
        JmpOp.Jsgt => JmpOp.Jslt,
        JmpOp.Jsle => JmpOp.Jsge,
        JmpOp.Jslt => JmpOp.Jsgt,
        _ => op, // JEQ, JNE, JSET stay the same
    };

    /// <summary>Refines both operands on both edges of <c>if (reg1 op reg2) goto</c> (<c>reg_set_min_max</c>):
    /// the jump edge gets the condition, the fall-through its negation, and every state is synced and checked.
    /// Returns the first invariant violation (<c>REG INVARIANTS VIOLATION</c>, which the kernel reports as a
    /// verifier bug and survives by forgetting the violating register's ranges, as done here), or null.</summary>
    /// <param name="trueReg1">reg1 on the jump edge.</param>
    /// <param name="trueReg2">reg2 on the jump edge.</param>
    /// <param name="falseReg1">reg1 on the fall-through edge.</param>
    /// <param name="falseReg2">reg2 on the fall-through edge.</param>
    /// <param name="op">The comparison.</param>
    /// <param name="is32">True for JMP32.</param>
    /// <param name="sameReg">True when both operands are the same register (nothing is learned).</param>
    public static string? RefineBranch(ref ScalarBounds trueReg1, ref ScalarBounds trueReg2,
        ref ScalarBounds falseReg1, ref ScalarBounds falseReg2, JmpOp op, bool is32, bool sameReg = false)
    {
        // Same register: the direction was computed by IsBranchTaken; JSET on itself teaches nothing.
        if (sameReg)
        {
            return null;
        }

        // fallthrough (FALSE) branch
        RefineCondOp(ref falseReg1, ref falseReg2, RevOpcode((int)op), is32);
        falseReg1.Sync();
        falseReg2.Sync();

        // jump (TRUE) branch
        RefineCondOp(ref trueReg1, ref trueReg2, (int)op, is32);
        trueReg1.Sync();
        trueReg2.Sync();

        return Checked(ref trueReg1, "true_reg1") ?? Checked(ref trueReg2, "true_reg2") ??
               Checked(ref falseReg1, "false_reg1") ?? Checked(ref falseReg2, "false_reg2");
    }

    /// <summary>The four states after a conditional jump, computed from copies of the operands.</summary>
    /// <param name="reg1">The destination operand.</param>
    /// <param name="reg2">The source operand.</param>
    /// <param name="op">The comparison.</param>
    /// <param name="is32">True for JMP32.</param>
    public static BranchStates Branch(in ScalarBounds reg1, in ScalarBounds reg2, JmpOp op, bool is32)
    {
        var t1 = reg1;
        var t2 = reg2;
        var f1 = reg1;
        var f2 = reg2;
        string? bug = RefineBranch(ref t1, ref t2, ref f1, ref f2, op, is32);
        return new BranchStates(t1, t2, f1, f2, bug);
    }

    // reg_bounds_sanity_check with the kernel's default recovery (no test_reg_invariants): report, forget the ranges.
    private static string? Checked(ref ScalarBounds reg, string ctx)
    {
        string? msg = reg.CheckSanity(ctx);
        if (msg is not null)
        {
            reg.MarkUnbounded();
        }

        return msg;
    }

    // rev_opcode: the condition of the FALSE edge.
    private static int RevOpcode(int op) => op switch
    {
        (int)JmpOp.Jeq => (int)JmpOp.Jne,
        (int)JmpOp.Jne => (int)JmpOp.Jeq,
        // JSET has no negation in BPF; the kernel marks it with the BPF_X bit
        (int)JmpOp.Jset => JsetNot,
        JsetNot => (int)JmpOp.Jset,
        (int)JmpOp.Jge => (int)JmpOp.Jlt,
        (int)JmpOp.Jgt => (int)JmpOp.Jle,
        (int)JmpOp.Jle => (int)JmpOp.Jgt,
        (int)JmpOp.Jlt => (int)JmpOp.Jge,
        (int)JmpOp.Jsge => (int)JmpOp.Jslt,
        (int)JmpOp.Jsgt => (int)JmpOp.Jsle,
        (int)JmpOp.Jsle => (int)JmpOp.Jsgt,
        (int)JmpOp.Jslt => (int)JmpOp.Jsge,
        _ => 0,
    };

    // regs_refine_cond_op: refine reg1 and reg2 assuming "reg1 op reg2" holds.
    private static void RefineCondOp(ref ScalarBounds reg1, ref ScalarBounds reg2, int op, bool is32)
    {
        // GE/GT/SGE/SGT reuse the LE/LT/SLE/SLT logic with the operands swapped.
        switch (op)
        {
            case (int)JmpOp.Jge:
            case (int)JmpOp.Jgt:
            case (int)JmpOp.Jsge:
            case (int)JmpOp.Jsgt:
                RefineCondOp(ref reg2, ref reg1, (int)FlipOpcode((JmpOp)op), is32);
                return;
            default:
                break;
        }

        switch (op)
        {
            case (int)JmpOp.Jeq:
                if (is32)
                {
                    reg1.U32Min = Math.Max(reg1.U32Min, reg2.U32Min);
                    reg1.U32Max = Math.Min(reg1.U32Max, reg2.U32Max);
                    reg1.S32Min = Math.Max(reg1.S32Min, reg2.S32Min);
                    reg1.S32Max = Math.Min(reg1.S32Max, reg2.S32Max);
                    reg2.U32Min = reg1.U32Min;
                    reg2.U32Max = reg1.U32Max;
                    reg2.S32Min = reg1.S32Min;
                    reg2.S32Max = reg1.S32Max;

                    var t = Tnum.Intersect(Tnum.Subreg(reg1.VarOff), Tnum.Subreg(reg2.VarOff));
                    reg1.VarOff = Tnum.WithSubreg(reg1.VarOff, t);
                    reg2.VarOff = Tnum.WithSubreg(reg2.VarOff, t);
                }
                else
                {
                    reg1.UMin = Math.Max(reg1.UMin, reg2.UMin);
                    reg1.UMax = Math.Min(reg1.UMax, reg2.UMax);
                    reg1.SMin = Math.Max(reg1.SMin, reg2.SMin);
                    reg1.SMax = Math.Min(reg1.SMax, reg2.SMax);
                    reg2.UMin = reg1.UMin;
                    reg2.UMax = reg1.UMax;
                    reg2.SMin = reg1.SMin;
                    reg2.SMax = reg1.SMax;

                    reg1.VarOff = Tnum.Intersect(reg1.VarOff, reg2.VarOff);
                    reg2.VarOff = reg1.VarOff;
                }

                break;

            case (int)JmpOp.Jne:
                if (!reg2.IsRegConst(is32))
                {
                    if (!reg1.IsRegConst(is32))
                    {
                        break;
                    }

                    RefineNotEqual(ref reg2, in reg1, is32);
                }
                else
                {
                    RefineNotEqual(ref reg1, in reg2, is32);
                }

                break;

            case (int)JmpOp.Jset:
                if (!reg2.IsRegConst(is32))
                {
                    if (!reg1.IsRegConst(is32))
                    {
                        break;
                    }

                    RefineBitSet(ref reg2, in reg1, is32);
                }
                else
                {
                    RefineBitSet(ref reg1, in reg2, is32);
                }

                break;

            case JsetNot:
                if (!reg2.IsRegConst(is32))
                {
                    if (!reg1.IsRegConst(is32))
                    {
                        break;
                    }

                    RefineBitsClear(ref reg2, in reg1, is32);
                }
                else
                {
                    RefineBitsClear(ref reg1, in reg2, is32);
                }

                break;

            case (int)JmpOp.Jle:
                if (is32)
                {
                    reg1.U32Max = Math.Min(reg1.U32Max, reg2.U32Max);
                    reg2.U32Min = Math.Max(reg1.U32Min, reg2.U32Min);
                }
                else
                {
                    reg1.UMax = Math.Min(reg1.UMax, reg2.UMax);
                    reg2.UMin = Math.Max(reg1.UMin, reg2.UMin);
                }

                break;

            case (int)JmpOp.Jlt:
                // The kernel's "umax - 1" and "umin + 1" wrap when the edge is infeasible (umax2 == 0); the sanity
                // check then sees min > max on that dead edge.
                if (is32)
                {
                    reg1.U32Max = Math.Min(reg1.U32Max, unchecked(reg2.U32Max - 1));
                    reg2.U32Min = Math.Max(unchecked(reg1.U32Min + 1), reg2.U32Min);
                }
                else
                {
                    reg1.UMax = Math.Min(reg1.UMax, unchecked(reg2.UMax - 1));
                    reg2.UMin = Math.Max(unchecked(reg1.UMin + 1), reg2.UMin);
                }

                break;

            case (int)JmpOp.Jsle:
                if (is32)
                {
                    reg1.S32Max = Math.Min(reg1.S32Max, reg2.S32Max);
                    reg2.S32Min = Math.Max(reg1.S32Min, reg2.S32Min);
                }
                else
                {
                    reg1.SMax = Math.Min(reg1.SMax, reg2.SMax);
                    reg2.SMin = Math.Max(reg1.SMin, reg2.SMin);
                }

                break;

            case (int)JmpOp.Jslt:
                if (is32)
                {
                    reg1.S32Max = Math.Min(reg1.S32Max, unchecked(reg2.S32Max - 1));
                    reg2.S32Min = Math.Max(unchecked(reg1.S32Min + 1), reg2.S32Min);
                }
                else
                {
                    reg1.SMax = Math.Min(reg1.SMax, unchecked(reg2.SMax - 1));
                    reg2.SMin = Math.Max(unchecked(reg1.SMin + 1), reg2.SMin);
                }

                break;

            default:
                return;
        }
    }

    // JNE against a constant: a bound equal to the constant moves inward by one. (A bound cannot equal the constant
    // at both ends, or both would be constants and the branch predicted.)
    private static void RefineNotEqual(ref ScalarBounds reg, in ScalarBounds konst, bool is32)
    {
        ulong val = konst.RegConstValue(is32);
        if (is32)
        {
            if (reg.U32Min == (uint)val)
            {
                reg.U32Min++;
            }

            if (reg.U32Max == (uint)val)
            {
                reg.U32Max--;
            }

            if (reg.S32Min == (int)(uint)val)
            {
                reg.S32Min++;
            }

            if (reg.S32Max == (int)(uint)val)
            {
                reg.S32Max--;
            }
        }
        else
        {
            if (reg.UMin == val)
            {
                reg.UMin++;
            }

            if (reg.UMax == val)
            {
                reg.UMax--;
            }

            if (reg.SMin == (long)val)
            {
                reg.SMin++;
            }

            if (reg.SMax == (long)val)
            {
                reg.SMax--;
            }
        }
    }

    // JSET true edge: only a single-bit mask tells which bit is set.
    private static void RefineBitSet(ref ScalarBounds reg, in ScalarBounds konst, bool is32)
    {
        ulong val = konst.RegConstValue(is32);
        if (val == 0 || (val & (val - 1)) != 0)
        {
            return; // !is_power_of_2(val)
        }

        if (is32)
        {
            var t = Tnum.Or(Tnum.Subreg(reg.VarOff), Tnum.Const(val));
            reg.VarOff = Tnum.WithSubreg(reg.VarOff, t);
        }
        else
        {
            reg.VarOff = Tnum.Or(reg.VarOff, Tnum.Const(val));
        }
    }

    // JSET false edge: every bit of the mask is clear. The ranges are forgotten first so that a dead edge cannot
    // produce an invariant violation; the sync rebuilds them from the tnum.
    private static void RefineBitsClear(ref ScalarBounds reg, in ScalarBounds konst, bool is32)
    {
        ulong val = konst.RegConstValue(is32);
        reg.MarkUnbounded();
        if (is32)
        {
            var t = Tnum.And(Tnum.Subreg(reg.VarOff), Tnum.Const(~val));
            reg.VarOff = Tnum.WithSubreg(reg.VarOff, t);
        }
        else
        {
            reg.VarOff = Tnum.And(reg.VarOff, Tnum.Const(~val));
        }
    }
}

/// <summary>The operand states on both edges of a conditional jump (see <see cref="ScalarBounds.Branch"/>).</summary>
/// <param name="TrueReg1">reg1 where the jump is taken.</param>
/// <param name="TrueReg2">reg2 where the jump is taken.</param>
/// <param name="FalseReg1">reg1 on the fall-through.</param>
/// <param name="FalseReg2">reg2 on the fall-through.</param>
/// <param name="InvariantViolation">The first <c>REG INVARIANTS VIOLATION</c> text, or null.</param>
public readonly record struct BranchStates(
    ScalarBounds TrueReg1, ScalarBounds TrueReg2, ScalarBounds FalseReg1, ScalarBounds FalseReg2, string? InvariantViolation);
