using System.Reflection.Emit;
using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Emitters;

/// <summary>Checked mode: one check for several accesses of a block through the same base register.</summary>
/// <remarks>
/// <para>A block (<see cref="FlowInfo.BlockCount"/>) is straight code with no label inside and no call. Its checked
/// loads and stores (outside the current frame, not atomics, not the direct context loads) whose base register no
/// instruction of the block writes before them use the register's value at the block's start. Two or more of them on
/// one register form a group: their bytes lie in <c>[reg + min offset, reg + max end)</c>. At the block's start, after
/// its budget check, each group's span is checked once: inside the packet bounds the code keeps (three compares), or
/// else wholly inside one region of the table that allows the group's accesses and is not the context (a call into
/// <see cref="JitRuntime.InOneRegion"/>: a map value, another frame). Regions never overlap, so then every access of
/// the group lies in that region and its own check would have passed: the block's hot copy does them as plain loads
/// and stores. When a group's check fails, the block's per-segment copy runs instead (the copy a block runs when the
/// budget would run out inside it), in which every access is checked on its own and faults at its own instruction
/// with the interpreter's message; nothing of the block has run yet at that point.</para>
/// <para>The packet bounds do not move inside a block (only helpers move them, and a block has no call).</para>
/// </remarks>
internal static class AccessGroups
{
    public static void Emit(EmitContext cx, int start, int end, Label slow)
    {
        var slots = cx.Slots;
        var flow = cx.Flow;
        Span<bool> written = stackalloc bool[11];
        var groups = new List<(int Reg, long Min, long End, bool Write, List<int> Pcs)>();
        for (int pc = start; pc < end; pc++)
        {
            if (flow.IsSecondSlot[pc])
            {
                continue;
            }

            var insn = slots[pc];
            if (IsGroupable(cx, insn, pc, out int reg, out bool write) && !written[reg])
            {
                int i = groups.FindIndex(g => g.Reg == reg);
                long lo = insn.Offset;
                long hi = insn.Offset + insn.AccessBytes;
                if (i < 0)
                {
                    groups.Add((reg, lo, hi, write, [pc]));
                }
                else
                {
                    var g = groups[i];
                    g.Pcs.Add(pc);
                    groups[i] = (reg, Math.Min(g.Min, lo), Math.Max(g.End, hi), g.Write || write, g.Pcs);
                }
            }

            if (!MarkWrites(insn, written))
            {
                break;
            }
        }

        foreach (var g in groups)
        {
            if (g.Pcs.Count < 2)
            {
                continue;
            }

            EmitGroupCheck(cx, g.Reg, g.Min, g.End - g.Min, g.Write, slow, g.Pcs[0]);
            foreach (int pc in g.Pcs)
            {
                cx.Grouped[pc] = true;
            }
        }
    }

    // A checked load or store that the block's hot copy may do plainly once its group's check passed.
    private static bool IsGroupable(EmitContext cx, Instruction insn, int pc, out int reg, out bool write)
    {
        reg = -1;
        write = false;
        switch (insn.Class)
        {
            case OpClass.Ldx when insn.Mode is MemMode.Mem or MemMode.MemSx:
                reg = insn.SrcReg;
                if (insn.AccessBytes == 4 && cx.CtxState?[pc] == CtxPointers.Ctx)
                {
                    return false;
                }

                break;
            case OpClass.St or OpClass.Stx when insn.Mode == MemMode.Mem:
                reg = insn.DstReg;
                write = true;
                break;
            default:
                return false;
        }

        return (uint)reg <= 10 && !FlowInfo.InCurrentFrame(reg, insn.Offset, insn.AccessBytes);
    }

    // Marks the registers the instruction writes; false for one whose writes are not modelled (the scan stops there).
    private static bool MarkWrites(Instruction insn, Span<bool> written)
    {
        switch (insn.Class)
        {
            case OpClass.Alu:
            case OpClass.Alu64:
            case OpClass.Ldx:
            case OpClass.Ld when insn.IsLdImm64:
                if ((uint)insn.DstReg > 10)
                {
                    return false;
                }

                written[insn.DstReg] = true;
                return true;
            case OpClass.St:
                return true;
            case OpClass.Stx:
                if (insn.Mode == MemMode.Atomic)
                {
                    if ((uint)insn.SrcReg > 10)
                    {
                        return false;
                    }

                    written[0] = true;
                    written[insn.SrcReg] = true;
                }

                return true;
            case OpClass.Jmp:
            case OpClass.Jmp32:
                return insn.JmpOp is not (JmpOp.Call or JmpOp.Exit);
            default:
                return false;
        }
    }

    // addr = reg + min; inside [pkt_lo, pkt_hi) with `span` bytes (pkt_lo <= addr <= pkt_hi, pkt_hi - addr >= span:
    // no packet gives pkt_lo > pkt_hi, which fails), or else in one region of the table (cold); else the slow copy.
    private static void EmitGroupCheck(EmitContext cx, int reg, long min, long span, bool write, Label slow, int firstPc)
    {
        var il = cx.Il;
        var addr = cx.Addr!;
        var ok = il.DefineLabel($"GROUP_{firstPc}_OK");
        var table = cx.Cold($"GROUP_{firstPc}_TABLE", () =>
        {
            cx.LdState();
            il.Emit(OpCodes.Ldloc, addr);
            cx.LdI4((int)span);
            cx.LdI4(write ? 1 : 0);
            cx.LdNewHint();
            cx.Call(JitMethods.InOneRegion);
            il.Emit(OpCodes.Brtrue, ok);
            il.Emit(OpCodes.Br, slow);
        });
        cx.LdAddress(reg, (short)min);
        il.Emit(OpCodes.Stloc, addr);
        il.Emit(OpCodes.Ldloc, addr);
        cx.LdPktLo();
        il.Emit(OpCodes.Blt_Un, table);
        il.Emit(OpCodes.Ldloc, addr);
        cx.LdPktHi();
        il.Emit(OpCodes.Bgt_Un, table);
        cx.LdPktHi();
        il.Emit(OpCodes.Ldloc, addr);
        il.Emit(OpCodes.Sub);
        cx.LdI8(span);
        il.Emit(OpCodes.Blt_Un, table);
        il.MarkLabel(ok);
    }
}
