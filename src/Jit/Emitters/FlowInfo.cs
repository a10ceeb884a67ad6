using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Emitters;

/// <summary>The pre-pass (ubpf's pc_locs, the kernel JIT's addrs[]): which slots need a label, where execution can
/// enter the method, and how the instructions group into budget segments.</summary>
/// <remarks>
/// <para>Labels: jump targets, BPF-to-BPF call targets and their return sites, BPF_PSEUDO_FUNC targets, and the
/// entries. Slot <c>Length</c> has a label too: falling (or returning) past the last slot faults there.</para>
/// <para>Entries: slot 0 and every function start a call or a function address names (where callbacks enter), plus
/// any extra slot a callback asked for (a variant compiled on demand, see <see cref="JitProgram"/>).</para>
/// <para>Budget segments: the instruction budget is counted once per segment, at its start, for all its
/// instructions. A segment is a straight run of instructions in which only the last may have an observable effect
/// or fault (a checked load or store outside the current stack frame, a store in unchecked mode, a call, an exit, a
/// jump, a legacy packet load, an unsupported 64-bit load); it ends there or before a label. When the budget runs out
/// inside a segment, none of its instructions before the one over the budget could fault or be observed after the
/// fault, so stopping at the segment start with the exact instruction index is the interpreter's behaviour.</para>
/// </remarks>
internal sealed class FlowInfo
{
    private FlowInfo(int length)
    {
        IsLabel = new bool[length + 1];
        SegmentCount = new int[length];
        BlockCount = new int[length];
        BlockEnd = new int[length];
        ExitRemaining = new int[length];
        IsSecondSlot = new bool[length];
    }

    /// <summary>Slots (and slot <c>Length</c>) that need a label.</summary>
    public bool[] IsLabel { get; }

    /// <summary>At a segment's first slot, the number of instructions in the segment (an lddw counts once); 0 elsewhere.</summary>
    public int[] SegmentCount { get; }

    /// <summary>At the first slot of a straight run of two or more segments that may share one
    /// budget check (see <see cref="MergeBlocks"/>), the run's instruction count; 0 elsewhere.</summary>
    public int[] BlockCount { get; }

    /// <summary>At a block's first slot, the slot after its last instruction.</summary>
    public int[] BlockEnd { get; }

    /// <summary>At a conditional jump inside a block (not its last instruction), the block's instructions after it:
    /// the count the block's check took in advance that a taken jump does not execute, given back on that edge.</summary>
    public int[] ExitRemaining { get; }

    /// <summary>The second slots of 64-bit loads (never executed as instructions, except when a callback enters there).</summary>
    public bool[] IsSecondSlot { get; }

    /// <summary>The entry slots; entry <c>i</c> of the compiled method starts at <c>Entries[i]</c>; slot 0 is entry 0.</summary>
    public List<int> Entries { get; } = [0];

    /// <summary>Computes the flow of <paramref name="slots"/> (a validated program).</summary>
    /// <param name="slots">The program.</param>
    /// <param name="checkedMode">Whether loads can fault (checked mode) and so end segments.</param>
    /// <param name="extraEntry">A further entry slot, or -1.</param>
    public static FlowInfo Analyze(ReadOnlySpan<Instruction> slots, bool checkedMode, int extraEntry)
    {
        var f = new FlowInfo(slots.Length);
        f.IsLabel[0] = true;
        f.IsLabel[slots.Length] = true;
        for (int pc = 0; pc < slots.Length; pc++)
        {
            var insn = slots[pc];
            switch (insn.Class)
            {
                case OpClass.Jmp:
                case OpClass.Jmp32:
                    if (insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Local)
                    {
                        f.AddEntry(pc + 1 + insn.Imm);
                        f.IsLabel[pc + 1] = true;   // the return site
                    }
                    else if (insn.Opcode == Op.Ja32)
                    {
                        f.IsLabel[pc + 1 + insn.Imm] = true;
                    }
                    else if (insn.JmpOp is not (JmpOp.Call or JmpOp.Exit))
                    {
                        f.IsLabel[pc + 1 + insn.Offset] = true;
                    }

                    break;
                case OpClass.Ld when insn.Opcode == Op.LdDw:
                    if (insn.SrcReg == (int)PseudoSrc.Func)
                    {
                        f.AddEntry(pc + 1 + insn.Imm);
                    }

                    f.IsSecondSlot[pc + 1] = true;
                    pc++;
                    break;
            }
        }

        if (extraEntry >= 0)
        {
            f.AddEntry(extraEntry);
        }

        // Segments, in slot order.
        int start = -1;
        for (int pc = 0; pc < slots.Length; pc++)
        {
            if (f.IsSecondSlot[pc])
            {
                continue;
            }

            if (start < 0 || f.IsLabel[pc])
            {
                start = pc;
            }

            f.SegmentCount[start]++;
            if (EndsSegment(slots, pc, checkedMode))
            {
                start = -1;
            }

            if (slots[pc].IsLdImm64)
            {
                pc++;
            }
        }

        f.MergeBlocks(slots, checkedMode);

        return f;
    }

    // Consecutive segments that only a store (or atomic) or a conditional jump separates, with no label between them,
    // form a block that is counted with one check at its start when the whole block fits in the budget. A conditional
    // jump taken out of the block gives back the count of the instructions it skips (ExitRemaining), so the count
    // stays exact on every path; when the whole block does not fit, the per-segment copy runs, exact as before: a verified program's loads, stores
    // and ALU cannot fault, so nothing inside the block is observed before its end unless the budget runs out inside
    // it. Checked mode merges segments that end with a checked load too: such an access may fault inside the block,
    // but only when the whole block fits in the budget (the check passed), so the interpreter, which counts one by
    // one, would not have run out of budget before it either and faults at the same instruction with the same
    // message; the count a fault leaves is not observed (a fault ends the run and carries only its index). When it would, the compiled code runs a copy of the block with the per-segment checks
    // instead (JitCompiler.EmitBlock), which stops at the exact instruction as before. A block ends before a label,
    // and its last segment does not end with a call, an exit or an LD-class instruction (those stay on their own:
    // a call syncs the count for its callbacks, and the others may leave the method); jumps may end it.
    private void MergeBlocks(ReadOnlySpan<Instruction> slots, bool checkedMode)
    {
        var starts = new List<int>();
        for (int pc = 0; pc < slots.Length; pc++)
        {
            if (SegmentCount[pc] > 0)
            {
                starts.Add(pc);
            }
        }

        for (int i = 0; i < starts.Count;)
        {
            int j = i;
            int count = SegmentCount[starts[i]];
            while (j + 1 < starts.Count && !IsLabel[starts[j + 1]]
                && (EndsWithAccess(slots, LastOf(starts[j], starts[j + 1]), checkedMode)
                    || (IsConditionalJump(slots[LastOf(starts[j], starts[j + 1])])
                        && !(checkedMode && NeedsFreshBase(slots, starts[i], starts[j + 1]))))
                && Mergeable(slots, starts[j + 1], j + 2 < starts.Count ? starts[j + 2] : slots.Length))
            {
                j++;
                count += SegmentCount[starts[j]];
            }

            if (j > i && Mergeable(slots, starts[i], starts[i + 1]))
            {
                BlockCount[starts[i]] = count;
                BlockEnd[starts[i]] = j + 1 < starts.Count ? starts[j + 1] : slots.Length;
                MarkExits(slots, starts[i], BlockEnd[starts[i]], count);
            }

            i = j + 1;
        }
    }

    // The block [start, end) counts `count` instructions at its start; a conditional jump inside it that is taken
    // leaves the rest unexecuted, so its edge gives them back (ExitRemaining).
    private void MarkExits(ReadOnlySpan<Instruction> slots, int start, int end, int count)
    {
        int done = 0;
        for (int pc = start; pc < end; pc++)
        {
            if (IsSecondSlot[pc])
            {
                continue;
            }

            done++;
            if (IsConditionalJump(slots[pc]) && count - done > 0)
            {
                ExitRemaining[pc] = count - done;
            }
        }
    }

    // Checked mode: should the block that starts at `start` stop before `next` (after a conditional jump)? Yes when
    // the straight code from `next` has two or more checked accesses through a register the block writes before
    // `next` (and that code does not write again first): a block starting at `next` checks them as one group
    // (AccessGroups), while in the longer block each would be checked on its own. Typical: the accesses after a
    // bounds-check jump (`if data + 14 > data_end goto drop`) through a pointer loaded above it.
    private bool NeedsFreshBase(ReadOnlySpan<Instruction> slots, int start, int next)
    {
        uint written = 0;
        for (int pc = start; pc < next; pc++)
        {
            if (!IsSecondSlot[pc])
            {
                written |= Writes(slots[pc]);
            }
        }

        Span<int> accesses = stackalloc int[16];
        uint rewritten = 0;
        for (int pc = next; pc < slots.Length; pc++)
        {
            if ((pc > next && IsLabel[pc]) || IsSecondSlot[pc])
            {
                if (IsSecondSlot[pc])
                {
                    continue;
                }

                break;
            }

            var insn = slots[pc];
            int reg = insn.Class switch
            {
                OpClass.Ldx when insn.Mode is MemMode.Mem or MemMode.MemSx => insn.SrcReg,
                OpClass.St or OpClass.Stx when insn.Mode == MemMode.Mem => insn.DstReg,
                _ => -1,
            };
            if (reg >= 0 && ((written & ~rewritten) & (1u << reg)) != 0 && !InCurrentFrame(reg, insn.Offset, insn.AccessBytes)
                && ++accesses[reg] >= 2)
            {
                return true;
            }

            if (insn.Class == OpClass.Ld && !insn.IsLdImm64)
            {
                break;
            }

            if (insn.Class is OpClass.Jmp or OpClass.Jmp32 && insn.JmpOp is JmpOp.Call or JmpOp.Exit or JmpOp.Ja)
            {
                break;
            }

            rewritten |= Writes(insn);
        }

        return false;
    }

    // The registers an instruction writes (an atomic: r0 and its source, conservatively).
    private static uint Writes(Instruction insn)
    {
        if (insn.Class is OpClass.Alu or OpClass.Alu64 or OpClass.Ldx || insn.IsLdImm64)
        {
            return 1u << (insn.DstReg & 15);
        }

        return insn.Class == OpClass.Stx && insn.Mode == MemMode.Atomic ? 1u | (1u << (insn.SrcReg & 15)) : 0;
    }

    private static bool IsConditionalJump(Instruction insn) =>
        insn.Class is OpClass.Jmp or OpClass.Jmp32 && insn.JmpOp is not (JmpOp.Call or JmpOp.Exit or JmpOp.Ja);

    // The last instruction of the segment [start, next): next - 1, or next - 2 when that is an lddw's second slot.
    private int LastOf(int start, int next)
    {
        int last = next - 1;
        return last > start && IsSecondSlot[last] ? last - 1 : last;
    }

    private static bool EndsWithAccess(ReadOnlySpan<Instruction> slots, int pc, bool checkedMode) =>
        slots[pc].Class is OpClass.St or OpClass.Stx || (checkedMode && slots[pc].Class == OpClass.Ldx);

    // A segment [start, next) that may be part of a block (and so be emitted twice): it does not end with a call, an
    // exit or an LD-class instruction, and it has no lddw whose second slot is an entry (that slot's label is marked
    // once, in a stub of its own).
    private bool Mergeable(ReadOnlySpan<Instruction> slots, int start, int next)
    {
        for (int pc = start; pc < next; pc++)
        {
            if (IsSecondSlot[pc] && IsLabel[pc])
            {
                return false;
            }
        }

        var insn = slots[LastOf(start, next)];
        if (insn.Class == OpClass.Ld)
        {
            return false;
        }

        return insn.Class is not (OpClass.Jmp or OpClass.Jmp32) || insn.JmpOp is not (JmpOp.Call or JmpOp.Exit);
    }

    /// <summary>True when a load or store at <paramref name="offset"/> from r10 of <paramref name="size"/> bytes lies
    /// inside the current stack frame, which is always registered and writable: it cannot fault.</summary>
    public static bool InCurrentFrame(int baseReg, short offset, int size) =>
        baseReg == 10 && offset >= -Vm.Interpreter.BpfInterpreter.StackSize && offset + size <= 0;

    private static bool EndsSegment(ReadOnlySpan<Instruction> slots, int pc, bool checkedMode)
    {
        var insn = slots[pc];
        switch (insn.Class)
        {
            case OpClass.Alu:
            case OpClass.Alu64:
                return false;
            case OpClass.Ld:
                // A 64-bit constant or function address is pure; a map or kernel-variable load faults; LD_ABS/LD_IND
                // may end the program.
                return !(insn.Opcode == Op.LdDw && insn.SrcReg is (int)PseudoSrc.Imm64 or (int)PseudoSrc.Func);
            case OpClass.Ldx:
                return checkedMode && !InCurrentFrame(insn.SrcReg, insn.Offset, insn.AccessBytes);
            case OpClass.St:
            case OpClass.Stx:
                // Atomics always end one (an atomic fetch into r10 faults even on the stack).
                return insn.Mode == MemMode.Atomic || !InCurrentFrame(insn.DstReg, insn.Offset, insn.AccessBytes);
            default:
                return true;
        }
    }

    private void AddEntry(int pc)
    {
        IsLabel[pc] = true;
        if (!Entries.Contains(pc))
        {
            Entries.Add(pc);
        }
    }
}
