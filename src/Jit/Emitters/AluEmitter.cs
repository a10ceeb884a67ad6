using System.Reflection.Emit;
using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Emitters;

/// <summary>BPF_ALU and BPF_ALU64: each operation maps onto one IL opcode where IL has the ISA's semantics, and onto
/// a short sequence (or a <see cref="Vm.Interpreter.BpfMath"/> call) where it does not.</summary>
/// <remarks>
/// RFC 9669 4.1, and what IL does not give for free:
/// <list type="bullet">
/// <item>ALU64 sign-extends imm to 64 bits (<c>ldc.i8</c> of the s32); ALU uses its 32 bits.</item>
/// <item>ALU truncates its operands to 32 bits (<c>conv.u4</c>) and zero-extends the result (<c>conv.u8</c>).</item>
/// <item>Shift counts are masked to the operand width (<c>&amp; 63</c> / <c>&amp; 31</c>): IL leaves larger counts unspecified.</item>
/// <item>x / 0 = 0 and x % 0 = x, and INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0: IL's div and rem trap, so register
/// divisors go through BpfMath (the interpreter's own methods) and constant divisors are folded here.</item>
/// <item>mov with offset 8/16/32 is movsx (cpu v4); bswap and be swap bytes, le only truncates (little-endian host).</item>
/// </list>
/// </remarks>
internal static class AluEmitter
{
    public static void Emit(EmitContext cx, in Instruction insn, int pc)
    {
        _ = pc;
        if (insn.Class == OpClass.Alu64)
        {
            Emit64(cx, insn);
        }
        else
        {
            Emit32(cx, insn);
        }
    }

    private static void Emit64(EmitContext cx, Instruction insn)
    {
        var il = cx.Il;
        int d = insn.DstReg;
        switch (insn.AluOp)
        {
            case AluOp.Add: Binary64(cx, insn, OpCodes.Add); break;
            case AluOp.Sub: Binary64(cx, insn, OpCodes.Sub); break;
            case AluOp.Mul: Binary64(cx, insn, OpCodes.Mul); break;
            case AluOp.Or: Binary64(cx, insn, OpCodes.Or); break;
            case AluOp.And: Binary64(cx, insn, OpCodes.And); break;
            case AluOp.Xor: Binary64(cx, insn, OpCodes.Xor); break;
            case AluOp.Lsh: Shift64(cx, insn, OpCodes.Shl); break;
            case AluOp.Rsh: Shift64(cx, insn, OpCodes.Shr_Un); break;
            case AluOp.Arsh: Shift64(cx, insn, OpCodes.Shr); break;
            case AluOp.Neg:
                cx.LdReg(d);
                il.Emit(OpCodes.Neg);
                cx.StReg(d);
                break;
            case AluOp.Mov:
                if (!insn.SrcIsReg)
                {
                    cx.LdI8(insn.Imm);
                }
                else
                {
                    cx.LdReg(insn.SrcReg);
                    switch (insn.Offset)
                    {
                        // movsx: sign-extend the low 8/16/32 bits of src.
                        case 8: il.Emit(OpCodes.Conv_I1); il.Emit(OpCodes.Conv_I8); break;
                        case 16: il.Emit(OpCodes.Conv_I2); il.Emit(OpCodes.Conv_I8); break;
                        case 32: il.Emit(OpCodes.Conv_I4); il.Emit(OpCodes.Conv_I8); break;
                    }
                }

                cx.StReg(d);
                break;
            case AluOp.Div:
            case AluOp.Mod:
                DivMod64(cx, insn);
                break;
            case AluOp.End:
                // bswap16/32/64 (cpu v4): unconditional swap of the low imm bits, the rest zeroed.
                cx.LdReg(d);
                Swap(cx, insn.Imm);
                cx.StReg(d);
                break;
            default:
                throw new InvalidOperationException($"ALU64 operation 0x{(byte)insn.AluOp:x2} passed validation");
        }
    }

    private static void Emit32(EmitContext cx, Instruction insn)
    {
        var il = cx.Il;
        int d = insn.DstReg;
        switch (insn.AluOp)
        {
            case AluOp.Add: Binary32(cx, insn, OpCodes.Add); break;
            case AluOp.Sub: Binary32(cx, insn, OpCodes.Sub); break;
            case AluOp.Mul: Binary32(cx, insn, OpCodes.Mul); break;
            case AluOp.Or: Binary32(cx, insn, OpCodes.Or); break;
            case AluOp.And: Binary32(cx, insn, OpCodes.And); break;
            case AluOp.Xor: Binary32(cx, insn, OpCodes.Xor); break;
            case AluOp.Lsh: Shift32(cx, insn, OpCodes.Shl); break;
            case AluOp.Rsh: Shift32(cx, insn, OpCodes.Shr_Un); break;
            case AluOp.Arsh: Shift32(cx, insn, OpCodes.Shr); break;
            case AluOp.Neg:
                cx.LdReg(d);
                il.Emit(OpCodes.Conv_U4);
                il.Emit(OpCodes.Neg);
                il.Emit(OpCodes.Conv_U8);
                cx.StReg(d);
                break;
            case AluOp.Mov:
                if (!insn.SrcIsReg)
                {
                    cx.LdI8((uint)insn.Imm);
                }
                else
                {
                    cx.LdReg(insn.SrcReg);
                    switch (insn.Offset)
                    {
                        // movsx32: sign-extend the low 8/16 bits to 32, then zero-extend like any ALU result.
                        case 8: il.Emit(OpCodes.Conv_I1); break;
                        case 16: il.Emit(OpCodes.Conv_I2); break;
                        default: il.Emit(OpCodes.Conv_U4); break;
                    }

                    il.Emit(OpCodes.Conv_U8);
                }

                cx.StReg(d);
                break;
            case AluOp.Div:
            case AluOp.Mod:
                DivMod32(cx, insn);
                break;
            case AluOp.End:
                cx.LdReg(d);
                if (insn.SrcIsReg)
                {
                    // be16/32/64: to big-endian on a little-endian host, a swap.
                    Swap(cx, insn.Imm);
                }
                else if (insn.Imm == 16)
                {
                    // le16/32: no swap, only truncation (zero-extended); le64 leaves the register as it is.
                    il.Emit(OpCodes.Conv_U2);
                    il.Emit(OpCodes.Conv_U8);
                }
                else if (insn.Imm == 32)
                {
                    il.Emit(OpCodes.Conv_U4);
                    il.Emit(OpCodes.Conv_U8);
                }

                cx.StReg(d);
                break;
            default:
                throw new InvalidOperationException($"ALU operation 0x{(byte)insn.AluOp:x2} passed validation");
        }
    }

    private static void Binary64(EmitContext cx, Instruction insn, OpCode op)
    {
        cx.LdReg(insn.DstReg);
        Source64(cx, insn);
        cx.Il.Emit(op);
        cx.StReg(insn.DstReg);
    }

    private static void Binary32(EmitContext cx, Instruction insn, OpCode op)
    {
        cx.LdReg(insn.DstReg);
        cx.Il.Emit(OpCodes.Conv_U4);
        Source32(cx, insn);
        cx.Il.Emit(op);
        cx.Il.Emit(OpCodes.Conv_U8);
        cx.StReg(insn.DstReg);
    }

    private static void Shift64(EmitContext cx, Instruction insn, OpCode op)
    {
        cx.LdReg(insn.DstReg);
        ShiftCount(cx, insn, 63);
        cx.Il.Emit(op);
        cx.StReg(insn.DstReg);
    }

    private static void Shift32(EmitContext cx, Instruction insn, OpCode op)
    {
        cx.LdReg(insn.DstReg);
        cx.Il.Emit(OpCodes.Conv_U4);
        ShiftCount(cx, insn, 31);
        cx.Il.Emit(op);
        cx.Il.Emit(OpCodes.Conv_U8);
        cx.StReg(insn.DstReg);
    }

    // The count as int32, masked: BPF masks it to the operand width.
    private static void ShiftCount(EmitContext cx, Instruction insn, int mask)
    {
        if (!insn.SrcIsReg)
        {
            cx.LdI4(insn.Imm & mask);
            return;
        }

        cx.LdReg(insn.SrcReg);
        cx.Il.Emit(OpCodes.Conv_I4);
        cx.LdI4(mask);
        cx.Il.Emit(OpCodes.And);
    }

    // src as int64: the register, or imm sign-extended.
    private static void Source64(EmitContext cx, Instruction insn)
    {
        if (insn.SrcIsReg)
        {
            cx.LdReg(insn.SrcReg);
        }
        else
        {
            cx.LdI8(insn.Imm);
        }
    }

    // src as int32: the register's low half, or imm.
    private static void Source32(EmitContext cx, Instruction insn)
    {
        if (insn.SrcIsReg)
        {
            cx.LdReg(insn.SrcReg);
            cx.Il.Emit(OpCodes.Conv_U4);
        }
        else
        {
            cx.LdI4(insn.Imm);
        }
    }

    private static void DivMod64(EmitContext cx, Instruction insn)
    {
        var il = cx.Il;
        int d = insn.DstReg;
        bool div = insn.AluOp == AluOp.Div;
        bool signed = insn.Offset == 1;
        if (insn.SrcIsReg)
        {
            cx.LdReg(d);
            cx.LdReg(insn.SrcReg);
            cx.Call(div ? (signed ? JitMethods.SDiv64 : JitMethods.UDiv64) : (signed ? JitMethods.SMod64 : JitMethods.UMod64));
            cx.StReg(d);
            return;
        }

        long k = insn.Imm;   // sign-extended to 64 bits
        if (k == 0)
        {
            // x / 0 = 0; x % 0 = x (nothing to do).
            if (div)
            {
                cx.LdI8(0);
                cx.StReg(d);
            }

            return;
        }

        if (signed && k == -1)
        {
            // INT64_MIN / -1 wraps to INT64_MIN (neg does); x % -1 = 0.
            if (div)
            {
                cx.LdReg(d);
                il.Emit(OpCodes.Neg);
            }
            else
            {
                cx.LdI8(0);
            }

            cx.StReg(d);
            return;
        }

        cx.LdReg(d);
        cx.LdI8(k);
        il.Emit(div ? (signed ? OpCodes.Div : OpCodes.Div_Un) : (signed ? OpCodes.Rem : OpCodes.Rem_Un));
        cx.StReg(d);
    }

    private static void DivMod32(EmitContext cx, Instruction insn)
    {
        var il = cx.Il;
        int d = insn.DstReg;
        bool div = insn.AluOp == AluOp.Div;
        bool signed = insn.Offset == 1;
        if (insn.SrcIsReg)
        {
            cx.LdReg(d);
            il.Emit(OpCodes.Conv_U4);
            cx.LdReg(insn.SrcReg);
            il.Emit(OpCodes.Conv_U4);
            cx.Call(div ? (signed ? JitMethods.SDiv32 : JitMethods.UDiv32) : (signed ? JitMethods.SMod32 : JitMethods.UMod32));
            il.Emit(OpCodes.Conv_U8);
            cx.StReg(d);
            return;
        }

        int k = insn.Imm;
        if (k == 0)
        {
            // x / 0 = 0; x % 0 = x, zero-extended from 32 bits like any ALU result.
            if (div)
            {
                cx.LdI8(0);
            }
            else
            {
                cx.LdReg(d);
                il.Emit(OpCodes.Conv_U4);
                il.Emit(OpCodes.Conv_U8);
            }

            cx.StReg(d);
            return;
        }

        if (signed && k == -1)
        {
            // INT32_MIN / -1 wraps to INT32_MIN; x % -1 = 0.
            if (div)
            {
                cx.LdReg(d);
                il.Emit(OpCodes.Conv_U4);
                il.Emit(OpCodes.Neg);
                il.Emit(OpCodes.Conv_U8);
            }
            else
            {
                cx.LdI8(0);
            }

            cx.StReg(d);
            return;
        }

        cx.LdReg(d);
        il.Emit(OpCodes.Conv_U4);
        cx.LdI4(k);
        il.Emit(div ? (signed ? OpCodes.Div : OpCodes.Div_Un) : (signed ? OpCodes.Rem : OpCodes.Rem_Un));
        il.Emit(OpCodes.Conv_U8);
        cx.StReg(d);
    }

    // The value on the stack (int64) -> its low `width` bits byte-swapped, zero-extended.
    private static void Swap(EmitContext cx, int width)
    {
        var il = cx.Il;
        switch (width)
        {
            case 16:
                il.Emit(OpCodes.Conv_U2);
                cx.Call(JitMethods.Swap16);
                il.Emit(OpCodes.Conv_U8);
                break;
            case 32:
                il.Emit(OpCodes.Conv_U4);
                cx.Call(JitMethods.Swap32);
                il.Emit(OpCodes.Conv_U8);
                break;
            default:
                cx.Call(JitMethods.Swap64);
                break;
        }
    }
}
