using VethXdp.Verifier.Domains;
using VethXdp.Verifier.Log;
using VethXdp.Verifier.State;
using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Checks;

// kernel: check_alu_op(), adjust_reg_min_max_vals(), adjust_ptr_min_max_vals(), check_reg_sane_offset().
internal sealed partial class VerifierEnv
{
    // bpf_alu_string[op >> 4]
    private static readonly string[] s_aluString =
        ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian"];

    private static string AluString(AluOp op) => s_aluString[(int)op >> 4];

    // kernel: check_alu_op()
    private void CheckAluOp(Instruction insn)
    {
        var op = insn.AluOp;
        bool alu64 = insn.Class == OpClass.Alu64;
        int dst = insn.DstReg, src = insn.SrcReg;

        if (op is AluOp.End or AluOp.Neg)
        {
            // require: the reserved fields are zero, dst is readable and not a pointer
            if (op == AluOp.Neg)
            {
                if (insn.SrcIsReg || src != 0 || insn.Offset != 0 || insn.Imm != 0)
                {
                    Fail(RejectKind.Invalid, Msg.NegReservedFields);
                }
            }
            else if (src != 0 || insn.Offset != 0 || (insn.Imm != 16 && insn.Imm != 32 && insn.Imm != 64) ||
                     (alu64 && insn.SrcIsReg))
            {
                Fail(RejectKind.Invalid, Msg.EndReservedFields);
            }

            CheckRegRead(dst);
            // (a pointer here is refused only for unprivileged loaders: is_pointer_value() is false for root)

            // apply: the result is a scalar computed from dst's bounds
            CheckRegWrite(dst, mark: false);
            ref var d = ref Reg(dst);
            if (d.Type != RegType.Scalar)
            {
                MarkRegUnknown(ref d);
                return;
            }

            var self = d.Bounds;
            ScalarBounds.Alu(ref d.Bounds, self, insn);
            d.Id = 0;
            return;
        }

        if (op == AluOp.Mov)
        {
            CheckMov(insn, alu64, dst, src);
            return;
        }

        if ((int)op > (int)AluOp.End)
        {
            Fail(RejectKind.Invalid, Msg.InvalidAluOpcode, (int)op);
        }

        // require: operands readable, reserved fields zero
        if (insn.SrcIsReg)
        {
            if (insn.Imm != 0 || (insn.Offset != 0 && (op is not (AluOp.Div or AluOp.Mod) || insn.Offset != 1)))
            {
                Fail(RejectKind.Invalid, Msg.AluReservedFields);
            }

            CheckRegRead(src);
        }
        else if (src != 0 || (insn.Offset != 0 && (op is not (AluOp.Div or AluOp.Mod) || insn.Offset != 1)))
        {
            Fail(RejectKind.Invalid, Msg.AluReservedFields);
        }

        CheckRegRead(dst);
        if (op is AluOp.Div or AluOp.Mod && !insn.SrcIsReg && insn.Imm == 0)
        {
            Fail(RejectKind.Invalid, Msg.DivByZero);
        }

        if (op is AluOp.Lsh or AluOp.Rsh or AluOp.Arsh && !insn.SrcIsReg)
        {
            int size = alu64 ? 64 : 32;
            if (insn.Imm < 0 || insn.Imm >= size)
            {
                Fail(RejectKind.Invalid, Msg.InvalidShift, insn.Imm);
            }
        }

        // apply
        CheckRegWrite(dst, mark: false);
        AdjustRegMinMaxVals(insn, dst, src);
    }

    private void CheckMov(Instruction insn, bool alu64, int dst, int src)
    {
        // require: reserved fields (off is 0, or 8/16/32 for movsx)
        if (insn.SrcIsReg)
        {
            bool offOk = insn.Offset == 0 || insn.Offset == 8 || insn.Offset == 16 || (alu64 && insn.Offset == 32);
            if (insn.Imm != 0 || !offOk)
            {
                Fail(RejectKind.Invalid, Msg.MovReservedFields);
            }

            CheckRegRead(src);
        }
        else if (src != 0 || insn.Offset != 0)
        {
            Fail(RejectKind.Invalid, Msg.MovReservedFields);
        }

        CheckRegWrite(dst, mark: false);
        ref var d = ref Reg(dst);
        if (insn.SrcIsReg)
        {
            var s = Reg(src);
            if (alu64)
            {
                if (insn.Offset == 0)
                {
                    // case: R1 = R2; copy the register state to dest reg. A scalar copy shares an id so a later
                    // comparison of either refines both (assign_scalar_id_before_mov).
                    AssignScalarIdBeforeMov(ref Reg(src));
                    d = Reg(src);
                }
                else
                {
                    if (s.IsPointer)
                    {
                        // root (allow_ptr_leaks): a sign-extended part of a pointer is just a number
                        d = RegState.UnknownScalar;
                        return;
                    }

                    // R1 = (s8, s16, s32) R2: a value the extension leaves unchanged stays linked to its source
                    bool noSext = s.Bounds.UMax < (1UL << (insn.Offset - 1));
                    if (noSext)
                    {
                        AssignScalarIdBeforeMov(ref Reg(src));
                        s = Reg(src);
                    }

                    d = s;
                    if (!noSext)
                    {
                        d.Id = 0;
                    }

                    ScalarBounds.Mov(ref d.Bounds, s.Bounds, insn);
                }
            }
            else
            {
                // R1 = (u32) R2
                if (s.IsPointer)
                {
                    // root (allow_ptr_leaks): the low half of a pointer is an unknown 32-bit number
                    d = RegState.UnknownScalar;
                    d.Bounds.ZeroExtend32To64();
                    d.Bounds.Sync();
                    return;
                }

                // w1 = w2 of a value that fits in 32 bits links the two (a later comparison of either refines
                // both); a wider source must not be linked, or the 64-bit bounds would leak into the 32-bit copy.
                // (w1 = (s8, s16) w2 likewise when the extension leaves the value unchanged)
                bool fits32 = insn.Offset == 0 ? RegWidth(s) <= 32 : s.Bounds.UMax < (1UL << (insn.Offset - 1));
                if (fits32)
                {
                    AssignScalarIdBeforeMov(ref Reg(src));
                    s = Reg(src);
                }

                d = s;
                if (!fits32)
                {
                    d.Id = 0;
                }

                d.Precise = s.Precise;
                ScalarBounds.Mov(ref d.Bounds, s.Bounds, insn);
            }
        }
        else
        {
            // case: R = imm; remember the value we stored into this reg
            d = RegState.UnknownScalar;
            ScalarBounds.Mov(ref d.Bounds, ScalarBounds.ImmOperand(insn), insn);
        }
    }

    // kernel: assign_scalar_id_before_mov(): before a scalar is copied (mov, spill, fill) it gets an id that the copy
    // shares; a scalar that is itself "another + K" (BPF_ADD_CONST) starts a new link, since a copy can't remember
    // two constants.
    private void AssignScalarIdBeforeMov(ref RegState src)
    {
        if (src.Type != RegType.Scalar)
        {
            return;
        }

        if ((src.Id & RegState.AddConst) != 0)
        {
            src.Id = 0;
            src.Off = 0;
        }

        if (src.Id == 0 && !src.IsConst)
        {
            src.Id = NewId();
        }
    }

    // kernel: adjust_reg_min_max_vals()
    private void AdjustRegMinMaxVals(Instruction insn, int dst, int src)
    {
        ref var d = ref Reg(dst);
        RegState offReg;
        if (insn.SrcIsReg)
        {
            var s = Reg(src);
            if (s.Type != RegType.Scalar)
            {
                if (d.Type != RegType.Scalar)
                {
                    // Combining two pointers by any ALU op yields an arbitrary scalar; root may subtract them.
                    if (insn.AluOp == AluOp.Sub)
                    {
                        MarkRegUnknown(ref d);
                        return;
                    }

                    Fail(RejectKind.Access, Msg.PointerOpPointer, dst, AluString(insn.AluOp));
                }

                // scalar += pointer: the pointer is the base, the destination's old value the offset
                MarkChainPrecision(dst);
                var scalar = d;
                AdjustPtrMinMaxVals(insn, dst, s, scalar, offIsDst: true);
                return;
            }

            if (d.Type != RegType.Scalar)
            {
                // pointer += scalar: the offset decides where the pointer points
                MarkChainPrecision(src);
            }
            else if (d.Precise)
            {
                // a precise result needs a precise operand
                MarkChainPrecision(src);
            }

            offReg = Reg(src);
        }
        else
        {
            offReg = RegState.KnownScalar((ulong)(long)insn.Imm);
        }

        if (d.Type != RegType.Scalar)
        {
            AdjustPtrMinMaxVals(insn, dst, d, offReg, offIsDst: false);
            return;
        }

        // two scalars
        ScalarBounds.Alu(ref d.Bounds, offReg.Bounds, insn);
        d.Precise = false;
        if (insn.AluOp == AluOp.Add && insn.Class == OpClass.Alu64 && d.Id != 0 && offReg.Bounds.VarOff.IsConst)
        {
            // r1 = r2; r1 += K: r1 stays linked to r2 as "r2 + K" (BPF_ADD_CONST), so that a comparison of either
            // later refines both, shifted by K (sync_linked_regs). Only one constant can be remembered, and K must
            // fit in s32 so that the shift can't overflow there.
            ulong val = offReg.Bounds.VarOff.Value;
            if ((d.Id & RegState.AddConst) != 0 || val > int.MaxValue)
            {
                d.Off = 0;
                d.Id = 0;
            }
            else
            {
                d.Id |= RegState.AddConst;
                d.Off = (int)val;
            }
        }
        else
        {
            // any other operation breaks the link, or sync_linked_regs() would copy wrong bounds into the copies
            d.Id = 0;
        }

        if (d.Bounds.CheckSanity("alu") is { } bug)
        {
            Fail(RejectKind.Invalid, Msg.VerifierBug, bug);
        }
    }

    // kernel: adjust_ptr_min_max_vals(). ptr is the pointer operand, off the scalar; offIsDst for 'scalar += ptr'.
    private void AdjustPtrMinMaxVals(Instruction insn, int dst, RegState ptr, RegState off, bool offIsDst)
    {
        var op = insn.AluOp;
        ref var d = ref Reg(dst);
        bool known = off.Bounds.VarOff.IsConst;
        long sminVal = off.Bounds.SMin, smaxVal = off.Bounds.SMax;
        ulong uminVal = off.Bounds.UMin, umaxVal = off.Bounds.UMax;

        if (insn.Class != OpClass.Alu64)
        {
            // 32-bit ALU ops on pointers produce (meaningless) scalars; root may subtract
            if (op == AluOp.Sub)
            {
                MarkRegUnknown(ref d);
                return;
            }

            Fail(RejectKind.Access, Msg.Pointer32Arithmetic, dst);
        }

        if (ptr.MaybeNull)
        {
            Fail(RejectKind.Access, Msg.PointerArithmeticOnNull, dst, RegTypeText(ptr));
        }

        switch (ptr.Type)
        {
            case RegType.PtrToCtx:
            case RegType.PtrToMapValue:
            case RegType.PtrToMapKey:
            case RegType.PtrToStack:
            case RegType.PtrToPacketMeta:
            case RegType.PtrToPacket:
            case RegType.PtrToTpBuffer:
            case RegType.PtrToBtfId:
            case RegType.PtrToMem:
            case RegType.PtrToBuf:
            case RegType.PtrToFunc:
            case RegType.ConstPtrToDynptr:
                break;
            case RegType.PtrToFlowKeys when known:
                break;
            case RegType.ConstPtrToMap when known && sminVal == 0 && op == AluOp.Add:
                break;
            default:
                Fail(RejectKind.Access, Msg.PointerArithmeticOn, dst, RegTypeText(ptr));
                break;
        }

        // In case of 'scalar += pointer', dst inherits pointer type and id.
        var result = ptr;
        CheckRegSaneOffset(off, ptr);
        CheckRegSaneOffset(ptr, ptr);

        // Taint dst if the offset had invalid bounds derived from e.g. dead branches.
        if ((known && (sminVal != smaxVal || uminVal != umaxVal)) || sminVal > smaxVal || uminVal > umaxVal)
        {
            MarkRegUnknown(ref d);
            return;
        }

        var pb = ptr.Bounds;
        // pointer types do not carry 32-bit bounds at the moment
        result.Bounds.MarkUnbounded32();
        switch (op)
        {
            case AluOp.Add:
                if (known && (long)ptr.Off + sminVal == (int)(ptr.Off + sminVal))
                {
                    // pointer += K: accumulate it into the fixed offset
                    result.Bounds.SMin = pb.SMin;
                    result.Bounds.SMax = pb.SMax;
                    result.Bounds.UMin = pb.UMin;
                    result.Bounds.UMax = pb.UMax;
                    result.Bounds.VarOff = pb.VarOff;
                    result.Off = (int)(ptr.Off + sminVal);
                    ForgetPktEndMark(ref result);
                    break;
                }

                // A new variable offset is created. The fixed offset stays; the variable part adds.
                if (AddOverflows(pb.SMin, sminVal) || AddOverflows(pb.SMax, smaxVal))
                {
                    result.Bounds.SMin = long.MinValue;
                    result.Bounds.SMax = long.MaxValue;
                }
                else
                {
                    result.Bounds.SMin = pb.SMin + sminVal;
                    result.Bounds.SMax = pb.SMax + smaxVal;
                }

                if (pb.UMin + uminVal < pb.UMin || pb.UMax + umaxVal < pb.UMax)
                {
                    result.Bounds.UMin = 0;
                    result.Bounds.UMax = ulong.MaxValue;
                }
                else
                {
                    result.Bounds.UMin = pb.UMin + uminVal;
                    result.Bounds.UMax = pb.UMax + umaxVal;
                }

                result.Bounds.VarOff = Tnum.Add(pb.VarOff, off.Bounds.VarOff);
                if (ptr.IsPktPointer)
                {
                    // something was added to pkt_ptr, set range to zero
                    result.Id = NewId();
                    result.Range = 0;
                }

                break;
            case AluOp.Sub:
                if (offIsDst)
                {
                    Fail(RejectKind.Access, Msg.SubtractPointerFromScalar, dst);
                }

                // We don't allow subtraction from FP (JITs might not support it).
                if (ptr.Type == RegType.PtrToStack)
                {
                    Fail(RejectKind.Access, Msg.SubtractionFromStack, dst);
                }

                if (known && (long)ptr.Off - sminVal == (int)(ptr.Off - sminVal))
                {
                    // pointer -= K: subtract it from the fixed offset
                    result.Bounds.SMin = pb.SMin;
                    result.Bounds.SMax = pb.SMax;
                    result.Bounds.UMin = pb.UMin;
                    result.Bounds.UMax = pb.UMax;
                    result.Bounds.VarOff = pb.VarOff;
                    result.Off = (int)(ptr.Off - sminVal);
                    ForgetPktEndMark(ref result);
                    break;
                }

                if (SubOverflows(pb.SMin, smaxVal) || SubOverflows(pb.SMax, sminVal))
                {
                    result.Bounds.SMin = long.MinValue;
                    result.Bounds.SMax = long.MaxValue;
                }
                else
                {
                    result.Bounds.SMin = pb.SMin - smaxVal;
                    result.Bounds.SMax = pb.SMax - sminVal;
                }

                if (pb.UMin < umaxVal)
                {
                    result.Bounds.UMin = 0;
                    result.Bounds.UMax = ulong.MaxValue;
                }
                else
                {
                    result.Bounds.UMin = pb.UMin - umaxVal;
                    result.Bounds.UMax = pb.UMax - uminVal;
                }

                result.Bounds.VarOff = Tnum.Sub(pb.VarOff, off.Bounds.VarOff);
                if (ptr.IsPktPointer)
                {
                    result.Id = NewId();
                    // a known non-negative subtrahend keeps the range already proven (not a pkt_end mark: below)
                    if (sminVal < 0 || result.Range < 0)
                    {
                        result.Range = 0;
                    }
                }

                break;
            case AluOp.And:
            case AluOp.Or:
            case AluOp.Xor:
                // bitwise ops on pointers are troublesome, prohibit
                Fail(RejectKind.Access, Msg.BitwiseOnPointer, dst, AluString(op));
                break;
            default:
                // other operators (e.g. MUL, LSH) produce non-pointer results
                Fail(RejectKind.Access, Msg.PointerArithmeticWithOp, dst, AluString(op));
                break;
        }

        CheckRegSaneOffset(result, ptr);
        result.Bounds.Sync();
        d = result;
    }

    private static bool AddOverflows(long a, long b)
    {
        long r = unchecked(a + b);
        return b < 0 ? r > a : r < a;
    }

    private static bool SubOverflows(long a, long b)
    {
        long r = unchecked(a - b);
        return b < 0 ? r < a : r > a;
    }

    // kernel: check_reg_sane_offset()
    private void CheckRegSaneOffset(RegState reg, RegState ptrType)
    {
        bool known = reg.Bounds.VarOff.IsConst;
        long val = (long)reg.Bounds.VarOff.Value;
        long smin = reg.Bounds.SMin;
        if (known && (val >= MaxVarOff || val <= -MaxVarOff))
        {
            Fail(RejectKind.Invalid, Msg.MathWithConstNotAllowed, RegTypeText(ptrType), val);
        }

        if (reg.Off >= MaxVarOff || reg.Off <= -MaxVarOff)
        {
            Fail(RejectKind.Invalid, Msg.PointerOffsetNotAllowed, RegTypeText(ptrType), reg.Off);
        }

        if (smin == long.MinValue)
        {
            Fail(RejectKind.Invalid, Msg.MathUnboundedMin, RegTypeText(ptrType));
        }

        if (smin >= MaxVarOff || smin <= -MaxVarOff)
        {
            Fail(RejectKind.Invalid, Msg.ValueOutOfBounds, smin, RegTypeText(ptrType));
        }
    }

    // A deliberate difference from Linux 6.18 (docs/differences.md): there a packet pointer keeps the AT_PKT_END /
    // BEYOND_PKT_END mark (a negative range, set by a `pkt > pkt_end` branch) when a constant is added or subtracted,
    // so after `r4 += -34` a later `if r4 > pkt_end` is still taken as always true and the fall-through, which can run,
    // is never checked (a 20-byte packet reaches an unchecked read there). The mark describes the pointer it was set
    // on, not one moved from it: moving the pointer keeps what is proven about the packet (the range 0 = nothing) and
    // drops the mark. Later kernels drop it too.
    private static void ForgetPktEndMark(ref RegState reg)
    {
        if (reg.IsPktPointer && reg.Range < 0)
        {
            reg.Range = 0;
        }
    }
}
