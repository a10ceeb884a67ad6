using System.Reflection.Emit;
using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Emitters;

/// <summary>BPF_JMP and BPF_JMP32 jumps, and exit: each conditional jump is one IL compare-and-branch to the
/// target slot's label (JMP compares 64 bits with imm sign-extended; JMP32 compares the low 32 bits).</summary>
internal static class JmpEmitter
{
    public static void Emit(EmitContext cx, in Instruction insn, int pc)
    {
        var il = cx.Il;
        if (insn.Opcode == Op.Exit)
        {
            cx.EmitExit();
            return;
        }

        if (insn.Opcode == Op.Ja)
        {
            il.Emit(OpCodes.Br, cx.Labels[pc + 1 + insn.Offset]);
            return;
        }

        if (insn.Opcode == Op.Ja32)
        {
            // gotol: the 32-bit offset is in imm.
            il.Emit(OpCodes.Br, cx.Labels[pc + 1 + insn.Imm]);
            return;
        }

        bool wide = insn.Class == OpClass.Jmp;
        var target = cx.BranchTarget(pc, pc + 1 + insn.Offset);
        cx.LdReg(insn.DstReg);
        if (!wide)
        {
            il.Emit(OpCodes.Conv_U4);
        }

        if (insn.SrcIsReg)
        {
            cx.LdReg(insn.SrcReg);
            if (!wide)
            {
                il.Emit(OpCodes.Conv_U4);
            }
        }
        else if (wide)
        {
            cx.LdI8(insn.Imm);
        }
        else
        {
            cx.LdI4(insn.Imm);
        }

        switch (insn.JmpOp)
        {
            case JmpOp.Jeq: il.Emit(OpCodes.Beq, target); break;
            case JmpOp.Jne: il.Emit(OpCodes.Bne_Un, target); break;
            case JmpOp.Jgt: il.Emit(OpCodes.Bgt_Un, target); break;
            case JmpOp.Jge: il.Emit(OpCodes.Bge_Un, target); break;
            case JmpOp.Jlt: il.Emit(OpCodes.Blt_Un, target); break;
            case JmpOp.Jle: il.Emit(OpCodes.Ble_Un, target); break;
            case JmpOp.Jsgt: il.Emit(OpCodes.Bgt, target); break;
            case JmpOp.Jsge: il.Emit(OpCodes.Bge, target); break;
            case JmpOp.Jslt: il.Emit(OpCodes.Blt, target); break;
            case JmpOp.Jsle: il.Emit(OpCodes.Ble, target); break;
            case JmpOp.Jset:
                il.Emit(OpCodes.And);
                if (wide)
                {
                    cx.LdI8(0);
                    il.Emit(OpCodes.Bne_Un, target);
                }
                else
                {
                    il.Emit(OpCodes.Brtrue, target);
                }

                break;
            default:
                throw new InvalidOperationException($"jump operation 0x{(byte)insn.JmpOp:x2} passed validation");
        }
    }
}
