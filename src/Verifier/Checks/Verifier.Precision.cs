using VethXdp.Verifier.State;
using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Checks;

// kernel: mark_chain_precision(), __mark_chain_precision(), backtrack_insn(), propagate_precision(),
// mark_all_scalars_precise().
//
// A scalar whose exact value decided something must be precise in every explored state it came from, or pruning
// could skip a path where the value differs (see Verifier.Prune.cs). Backtracking walks the path's history from the
// current instruction back through each checkpoint's history, turning "register r is needed" into "the registers and
// stack slots r was computed from are needed", and marks them precise in each checkpoint. Whatever it cannot follow
// (a call into a subprogram, a helper's arguments, an atomic on the stack) makes everything precise instead, which
// only costs pruning, never soundness.
internal sealed partial class VerifierEnv
{
    private sealed class Backtrack
    {
        public ushort[] Regs { get; } = new ushort[VerifierState.MaxCallFrames];

        public ulong[] Stack { get; } = new ulong[VerifierState.MaxCallFrames];

        public bool Empty
        {
            get
            {
                for (int f = 0; f < VerifierState.MaxCallFrames; f++)
                {
                    if (Regs[f] != 0 || Stack[f] != 0)
                    {
                        return false;
                    }
                }

                return true;
            }
        }
    }

    /// <summary>Marks register <paramref name="regno"/> of the current frame precise, with everything it came from.</summary>
    private void MarkChainPrecision(int regno) => MarkChainPrecision(_cur.CurFrame, regno);

    private void MarkChainPrecision(int frame, int regno)
    {
        ref var reg = ref _cur.Frames[frame]!.Regs[regno];
        if (reg.Type != RegType.Scalar)
        {
            return;
        }

        var bt = new Backtrack();
        bt.Regs[frame] = (ushort)(1 << regno);
        RunBacktrack(bt);
    }

    private void MarkChainPrecisionStack(int frame, int spi)
    {
        var st = _cur.Frames[frame]!.Stack[spi];
        if (!st.IsSpill || st.Spilled.Type != RegType.Scalar)
        {
            return;
        }

        var bt = new Backtrack();
        bt.Stack[frame] = 1UL << spi;
        RunBacktrack(bt);
    }

    private void RunBacktrack(Backtrack bt)
    {
        // As Linux 6.x: the current state itself is not marked (its copies made from here on are descendants of the
        // use, which their own later uses will backtrack through); only the checkpoints the value came through are.
        var st = _cur;
        while (true)
        {
            for (int i = st.History.Count - 1; i >= 0; i--)
            {
                if (!BacktrackInsn(st.History[i], bt))
                {
                    MarkAllScalarsPrecise();
                    return;
                }

                if (bt.Empty)
                {
                    return;
                }
            }

            st = st.Parent;
            if (st is null || !MarkInState(st, bt, start: false))
            {
                return;
            }
        }
    }

    // Marks the backtracked registers and slots precise in a state; drops those that are not scalars or (in a
    // checkpoint) already precise, whose history was walked when they became precise. False when nothing is left.
    private static bool MarkInState(VerifierState st, Backtrack bt, bool start)
    {
        for (int f = 0; f < VerifierState.MaxCallFrames; f++)
        {
            if (bt.Regs[f] == 0 && bt.Stack[f] == 0)
            {
                continue;
            }

            if (f > st.CurFrame)
            {
                bt.Regs[f] = 0;
                bt.Stack[f] = 0;
                continue;
            }

            var frame = st.Frames[f]!;
            for (int r = 0; r < 11; r++)
            {
                if ((bt.Regs[f] & (1 << r)) == 0)
                {
                    continue;
                }

                ref var reg = ref frame.Regs[r];
                if (reg.Type != RegType.Scalar || (reg.Precise && !start))
                {
                    bt.Regs[f] &= (ushort)~(1 << r);
                    continue;
                }

                reg.Precise = true;
            }

            for (int spi = 0; spi < 64; spi++)
            {
                if ((bt.Stack[f] & (1UL << spi)) == 0)
                {
                    continue;
                }

                if (spi >= frame.AllocatedStack / 8)
                {
                    bt.Stack[f] &= ~(1UL << spi);
                    continue;
                }

                ref var slot = ref frame.Stack[spi];
                if (!slot.IsSpill || slot.Spilled.Type != RegType.Scalar || (slot.Spilled.Precise && !start))
                {
                    bt.Stack[f] &= ~(1UL << spi);
                    continue;
                }

                slot.Spilled.Precise = true;
            }
        }

        return !bt.Empty;
    }

    // kernel: backtrack_insn(): what the needed registers and slots were before the instruction. False: give up.
    private bool BacktrackInsn(HistoryEntry e, Backtrack bt)
    {
        var insn = _insns[e.Insn];
        int f = e.Frame;
        ref ushort regs = ref bt.Regs[f];
        int d = insn.DstReg, s = insn.SrcReg;
        ushort dBit = d < 16 ? (ushort)(1 << d) : (ushort)0;
        ushort sBit = s < 16 ? (ushort)(1 << s) : (ushort)0;
        bool dIn = (regs & dBit) != 0;
        switch (insn.Class)
        {
            case OpClass.Alu:
            case OpClass.Alu64:
                if (!dIn)
                {
                    return true;
                }

                if (insn.AluOp == AluOp.Mov)
                {
                    // dst = src (or an immediate): the need moves to the source
                    regs &= (ushort)~dBit;
                    if (insn.SrcIsReg)
                    {
                        regs |= sBit;
                    }

                    return true;
                }

                if (insn.AluOp is AluOp.Neg or AluOp.End)
                {
                    return true;
                }

                if (insn.SrcIsReg)
                {
                    regs |= sBit; // dst op= src: both are needed
                }

                return true;
            case OpClass.Ldx:
                if (!dIn)
                {
                    return true;
                }

                regs &= (ushort)~dBit;
                if (e.StackSpi >= 0)
                {
                    bt.Stack[e.StackFrame] |= 1UL << e.StackSpi; // a fill: the spilled value is needed
                }

                return true;
            case OpClass.Stx:
            case OpClass.St:
                if (insn.Mode == MemMode.Atomic)
                {
                    const int Fetch = 0x01, CmpXchg = 0xf1;
                    int load = insn.Imm == CmpXchg ? 0 : (insn.Imm & Fetch) != 0 ? s : -1;
                    if (load >= 0)
                    {
                        regs &= (ushort)~(1 << load); // loaded from memory
                    }

                    return e.StackSpi < 0 || (bt.Stack[e.StackFrame] & (1UL << e.StackSpi)) == 0;
                }

                if (e.StackSpi < 0 || (bt.Stack[e.StackFrame] & (1UL << e.StackSpi)) == 0)
                {
                    return true;
                }

                // a spill: the stored register is needed instead of the slot
                bt.Stack[e.StackFrame] &= ~(1UL << e.StackSpi);
                if (insn.Class == OpClass.Stx)
                {
                    regs |= sBit;
                }

                return true;
            case OpClass.Ld:
                if (insn.IsLdImm64)
                {
                    regs &= (ushort)~dBit;
                    return true;
                }

                // LD_ABS/IND: R0 comes from the packet; R1-R5 are clobbered
                regs &= unchecked((ushort)~1);
                return (regs & 0x3e) == 0;
            default:
                switch (insn.JmpOp)
                {
                    case JmpOp.Ja:
                        return true;
                    case JmpOp.Call:
                        if (insn.SrcReg == 1)
                        {
                            return false; // into a subprogram: not followed
                        }

                        regs &= unchecked((ushort)~1); // R0 comes from the helper
                        return (regs & 0x3e) == 0;
                    case JmpOp.Exit:
                        return false;
                    default:
                    {
                        if (insn.Opcode == 0xe5)
                        {
                            return true;
                        }

                        ushort group = (ushort)(dBit | e.LinkedRegs | (insn.SrcIsReg ? sBit : 0));
                        if ((regs & group) != 0)
                        {
                            regs |= group; // both operands (and scalars linked to them) decided the branch
                        }

                        return true;
                    }
                }
        }
    }

    // kernel: mark_all_scalars_precise(): the fallback when backtracking cannot follow the history
    private void MarkAllScalarsPrecise()
    {
        for (var st = _cur; st is not null; st = st.Parent)
        {
            for (int f = 0; f <= st.CurFrame; f++)
            {
                var frame = st.Frames[f]!;
                for (int r = 0; r < 11; r++)
                {
                    if (frame.Regs[r].Type == RegType.Scalar)
                    {
                        frame.Regs[r].Precise = true;
                    }
                }

                for (int spi = 0; spi < frame.AllocatedStack / 8; spi++)
                {
                    if (frame.Stack[spi].IsSpill && frame.Stack[spi].Spilled.Type == RegType.Scalar)
                    {
                        frame.Stack[spi].Spilled.Precise = true;
                    }
                }
            }
        }
    }

    // kernel: propagate_precision(): the pruned path depends on what the explored state found precise
    private void PropagatePrecision(VerifierState old, ushort liveInCurFrame)
    {
        for (int f = 0; f <= old.CurFrame; f++)
        {
            var frame = old.Frames[f]!;
            for (int r = 0; r < 11; r++)
            {
                if (f == old.CurFrame && r < 10 && (liveInCurFrame & (1 << r)) == 0)
                {
                    continue;
                }

                if (frame.Regs[r].Type == RegType.Scalar && frame.Regs[r].Precise)
                {
                    MarkChainPrecision(f, r);
                }
            }

            for (int spi = 0; spi < frame.AllocatedStack / 8; spi++)
            {
                if (frame.Stack[spi].IsSpill && frame.Stack[spi].Spilled.Type == RegType.Scalar && frame.Stack[spi].Spilled.Precise &&
                    spi < _cur.Frames[f]!.AllocatedStack / 8)
                {
                    MarkChainPrecisionStack(f, spi);
                }
            }
        }
    }
}
