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

        /// <summary>The frame backtracking runs in (<c>bt->frame</c>).</summary>
        public int Frame { get; set; }

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

        var bt = new Backtrack { Frame = _cur.CurFrame };
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

        var bt = new Backtrack { Frame = _cur.CurFrame };
        bt.Stack[frame] = 1UL << spi;
        RunBacktrack(bt);
    }

    // kernel: __mark_chain_precision(). The current state itself is not marked (its copies made from here on are
    // descendants of the use, which their own later uses will backtrack through); only the checkpoints the value came
    // through are. The walk starts at the current instruction (skipped: it is the use) and goes back through this
    // path's history, then through each checkpoint's own history, printing what the kernel prints at log level 2.
    private void RunBacktrack(Backtrack bt)
    {
        if (bt.Empty)
        {
            return;
        }

        var st = _cur;
        int firstIdx = st.FirstInsnIdx;
        int lastIdx = _cur.InsnIdx;
        int subseqIdx = -1;
        bool skipFirst = true;
        while (true)
        {
            if (_log.IsLevel2)
            {
                _log.Write($"mark_precise: frame{bt.Frame}: last_idx {lastIdx} first_idx {firstIdx} subseq_idx {subseqIdx} \n");
            }

            for (int i = st.History.Count - 1; i >= 0; i--)
            {
                var e = st.History[i];
                if (skipFirst)
                {
                    skipFirst = false;
                    if (e.Insn == lastIdx)
                    {
                        subseqIdx = e.Insn;
                        continue;
                    }
                }

                if (_log.IsLevel2)
                {
                    _log.Write($"mark_precise: frame{bt.Frame}: regs={RegMaskText(bt.Regs[bt.Frame])} stack={StackMaskText(bt.Stack[bt.Frame])} before {e.Insn}: {FormatInsn(e.Insn)}\n");
                }

                if (!BacktrackInsn(e, bt, subseqIdx))
                {
                    MarkAllScalarsPrecise();
                    return;
                }

                if (bt.Empty)
                {
                    return;
                }

                subseqIdx = e.Insn;
            }

            st = st.Parent;
            if (st is null)
            {
                break;
            }

            MarkInState(st, bt);
            if (bt.Empty)
            {
                return;
            }

            subseqIdx = firstIdx;
            lastIdx = st.LastInsnIdx;
            firstIdx = st.FirstInsnIdx;
        }

        // registers or slots left over: something was missed (a stack access through another register); be safe
        MarkAllScalarsPrecise();
    }

    // fmt_reg_mask()
    private static string RegMaskText(ushort mask)
    {
        var sb = new System.Text.StringBuilder();
        for (int r = 0; r < 16; r++)
        {
            if ((mask & (1 << r)) != 0)
            {
                sb.Append(sb.Length == 0 ? "r" : ",r").Append(r.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    // bpf_fmt_stack_mask()
    private static string StackMaskText(ulong mask)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < 64; i++)
        {
            if ((mask & (1UL << i)) != 0)
            {
                if (sb.Length != 0)
                {
                    sb.Append(',');
                }

                sb.Append(((-i - 1) * 8).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    // Marks the backtracked registers and slots precise in a checkpoint; drops those that are not scalars or are
    // already precise (their history was walked when they became precise). Prints each frame as the kernel does.
    private void MarkInState(VerifierState st, Backtrack bt)
    {
        for (int f = VerifierState.MaxCallFrames - 1; f > st.CurFrame; f--)
        {
            bt.Regs[f] = 0;
            bt.Stack[f] = 0;
        }

        for (int f = Math.Min(bt.Frame, st.CurFrame); f >= 0; f--)
        {
            var frame = st.Frames[f]!;
            for (int r = 0; r < 11; r++)
            {
                if ((bt.Regs[f] & (1 << r)) == 0)
                {
                    continue;
                }

                ref var reg = ref frame.Regs[r];
                if (reg.Type != RegType.Scalar || reg.Precise)
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
                if (!slot.IsSpill || slot.Spilled.Type != RegType.Scalar || slot.Spilled.Precise)
                {
                    bt.Stack[f] &= ~(1UL << spi);
                    continue;
                }

                slot.Spilled.Precise = true;
            }

            if (_log.IsLevel2)
            {
                _log.Write($"mark_precise: frame{f}: parent state regs={RegMaskText(bt.Regs[f])} stack={StackMaskText(bt.Stack[f])}: ");
                PrintVerifierState(st, f, printAll: true);
            }
        }
    }

    // kernel: backtrack_insn(): what the needed registers and slots were before the instruction. False: give up
    // (-ENOTSUPP), and everything becomes precise.
    private bool BacktrackInsn(HistoryEntry e, Backtrack bt, int subseqIdx)
    {
        var insn = _insns[e.Insn];
        int f = bt.Frame;
        ref ushort regs = ref bt.Regs[f];
        int d = insn.DstReg, s = insn.SrcReg;
        ushort dBit = d < 16 ? (ushort)(1 << d) : (ushort)0;
        ushort sBit = s < 16 && s != 10 ? (ushort)(1 << s) : (ushort)0;

        // bt_sync_linked_regs(): scalars linked at a jump share the need
        SyncLinked(e, bt);

        bool dIn = (regs & dBit) != 0;
        switch (insn.Class)
        {
            case OpClass.Alu:
            case OpClass.Alu64:
                if (!dIn || insn.AluOp is AluOp.Neg or AluOp.End)
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
                if (dIn)
                {
                    return false; // a store does not write its base register
                }

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
                if (!dIn)
                {
                    return true;
                }

                regs &= (ushort)~dBit;
                return insn.IsLdImm64; // LD_ABS/IND: not followed
            default:
                switch (insn.JmpOp)
                {
                    case JmpOp.Ja:
                        return true;
                    case JmpOp.Call:
                        return BacktrackCall(e, insn, bt, subseqIdx);
                    case JmpOp.Exit:
                        return BacktrackExit(bt, subseqIdx);
                    default:
                    {
                        if (insn.SrcIsReg && (regs & (dBit | sBit)) != 0)
                        {
                            regs |= (ushort)(dBit | sBit); // both operands decided the branch
                        }

                        SyncLinked(e, bt);
                        return true;
                    }
                }
        }
    }

    private const ushort RegMaskArgs = 0x3e; // BPF_REGMASK_ARGS: r1-r5

    // per bpf_loop call instruction: (fit_for_inline, callback_subprogno) once initialised (loop_inline_state)
    private Dictionary<int, (bool Fit, int Subprog)>? _loopInline;

    // kernel: update_loop_inline_state(): whether a bpf_loop call can be inlined; deciding that its flags are zero
    // makes R4 precise (loop_flag_is_zero()), which is why it is here: it prints mark_precise lines at level 2.
    private void UpdateLoopInlineState(int subprog)
    {
        _loopInline ??= [];
        if (!_loopInline.TryGetValue(_insnIdx, out var st))
        {
            _loopInline[_insnIdx] = (LoopFlagIsZero(), subprog);
            return;
        }

        if (st.Fit)
        {
            _loopInline[_insnIdx] = (LoopFlagIsZero() && st.Subprog == subprog, st.Subprog);
        }
    }

    private bool LoopFlagIsZero()
    {
        var r4 = Reg(4);
        bool isNull = r4.Type == RegType.Scalar && r4.Bounds.VarOff.IsConst && r4.Bounds.VarOff.Value == 0;
        if (isNull)
        {
            MarkChainPrecision(4);
        }

        return isNull;
    }

    // The call part of backtrack_insn(): walking back over a call instruction.
    private bool BacktrackCall(HistoryEntry e, Instruction insn, Backtrack bt, int subseqIdx)
    {
        ref ushort regs = ref bt.Regs[bt.Frame];
        if (insn.SrcReg == 1)
        {
            int subprog = FindSubprog(e.Insn + insn.Imm + 1);
            if (subprog < 0)
            {
                return false;
            }

            if (SubprogIsGlobal(subprog))
            {
                // a global function is not entered: it sets R0 and clobbers R1-R5
                regs &= unchecked((ushort)~1);
                return (regs & RegMaskArgs) == 0;
            }

            // a static function's first instruction came after its call: leaving the callee for the caller, where
            // only its arguments R1-R5 can still be needed
            if ((regs & ~RegMaskArgs) != 0 || bt.Stack[bt.Frame] != 0 || bt.Frame == 0)
            {
                return false;
            }

            bt.Regs[bt.Frame - 1] |= (ushort)(regs & RegMaskArgs);
            regs = 0;
            bt.Frame--;
            return true;
        }

        if (Cfg.CallsCallback[e.Insn] && subseqIdx != e.Insn + 1)
        {
            // back from a callback to the helper that called it: its R1-R5 were set by the helper
            if ((regs & ~RegMaskArgs) != 0 || bt.Stack[bt.Frame] != 0 || bt.Frame == 0)
            {
                return false;
            }

            regs = 0;
            bt.Frame--;
            return true;
        }

        if (insn.SrcReg == 2 && insn.Imm == 0)
        {
            return false;
        }

        regs &= unchecked((ushort)~1); // R0 comes from the helper
        return (regs & RegMaskArgs) == 0;
    }

    // The exit part of backtrack_insn(): walking back from a function's caller into its exit.
    private bool BacktrackExit(Backtrack bt, int subseqIdx)
    {
        ref ushort regs = ref bt.Regs[bt.Frame];
        if (subseqIdx >= 0 && Cfg.CallsCallback[subseqIdx])
        {
            regs &= unchecked((ushort)~RegMaskArgs); // a callback's R1-R5 are set by the helper calling it
        }

        if ((regs & RegMaskArgs) != 0 || bt.Frame + 1 >= VerifierState.MaxCallFrames)
        {
            return false;
        }

        // a subprogram's R0 is the caller's R0 after the call; a callback's return value is not passed on
        bool r0Precise = subseqIdx >= 1 && _insns[subseqIdx - 1].Class == OpClass.Jmp && _insns[subseqIdx - 1].JmpOp == JmpOp.Call &&
                         _insns[subseqIdx - 1].SrcReg == 1 && (regs & 1) != 0;
        regs &= unchecked((ushort)~1);
        bt.Frame++;
        if (r0Precise)
        {
            bt.Regs[bt.Frame] |= 1;
        }

        return true;
    }

    // kernel: bt_sync_linked_regs(): when one of the scalars linked at a jump is needed, all of them are
    private static void SyncLinked(HistoryEntry e, Backtrack bt)
    {
        if ((e.LinkedRegs == 0 && e.LinkedStack == 0) ||
            ((bt.Regs[e.Frame] & e.LinkedRegs) == 0 && (bt.Stack[e.Frame] & e.LinkedStack) == 0))
        {
            return;
        }

        bt.Regs[e.Frame] |= e.LinkedRegs;
        bt.Stack[e.Frame] |= e.LinkedStack;
    }

    // kernel: mark_all_scalars_precise(): the fallback when backtracking cannot follow the history. The current
    // state is skipped (its marks do not matter: checkpoints start imprecise); every checkpoint above it is marked.
    private void MarkAllScalarsPrecise()
    {
        if (_log.IsLevel2)
        {
            _log.Write($"mark_precise: frame{_cur.CurFrame}: falling back to forcing all scalars precise\n");
        }

        for (var st = _cur.Parent; st is not null; st = st.Parent)
        {
            for (int f = 0; f <= st.CurFrame; f++)
            {
                var frame = st.Frames[f]!;
                for (int r = 0; r < 10; r++)
                {
                    if (frame.Regs[r].Type == RegType.Scalar && !frame.Regs[r].Precise)
                    {
                        frame.Regs[r].Precise = true;
                        if (_log.IsLevel2)
                        {
                            _log.Write($"force_precise: frame{f}: forcing r{r} to be precise\n");
                        }
                    }
                }

                for (int spi = 0; spi < frame.AllocatedStack / 8; spi++)
                {
                    if (frame.Stack[spi].IsSpill && frame.Stack[spi].Spilled.Type == RegType.Scalar && !frame.Stack[spi].Spilled.Precise)
                    {
                        frame.Stack[spi].Spilled.Precise = true;
                        if (_log.IsLevel2)
                        {
                            _log.Write($"force_precise: frame{f}: forcing fp{(-spi - 1) * 8} to be precise\n");
                        }
                    }
                }
            }
        }
    }

    // kernel: propagate_precision(): the pruned path depends on what the explored state found precise. The explored
    // state's dead registers do not count (the kernel has cleaned them to NOT_INIT by now).
    private void PropagatePrecision(VerifierState old)
    {
        var bt = new Backtrack { Frame = _cur.CurFrame };
        for (int f = old.CurFrame; f >= 0; f--)
        {
            var frame = old.Frames[f]!;
            int at = f == old.CurFrame ? old.InsnIdx : old.Frames[f + 1]!.CallSite;
            ushort live = (uint)at < (uint)_liveRegs.Length ? _liveRegs[at] : (ushort)0xffff;
            bool first = true;
            for (int r = 0; r < 10; r++)
            {
                if ((live & (1 << r)) == 0 || frame.Regs[r].Type != RegType.Scalar || !frame.Regs[r].Precise)
                {
                    continue;
                }

                if (_log.IsLevel2)
                {
                    _log.Write(first ? $"frame {f}: propagating r{r}" : $",r{r}");
                }

                bt.Regs[f] |= (ushort)(1 << r);
                first = false;
            }

            for (int spi = 0; spi < frame.AllocatedStack / 8; spi++)
            {
                if (!frame.Stack[spi].IsSpill || frame.Stack[spi].Spilled.Type != RegType.Scalar || !frame.Stack[spi].Spilled.Precise ||
                    spi >= _cur.Frames[f]!.AllocatedStack / 8)
                {
                    continue;
                }

                if (_log.IsLevel2)
                {
                    _log.Write(first ? $"frame {f}: propagating fp{(-spi - 1) * 8}" : $",fp{(-spi - 1) * 8}");
                }

                bt.Stack[f] |= 1UL << spi;
                first = false;
            }

            if (!first && _log.IsLevel2)
            {
                _log.Write("\n");
            }
        }

        RunBacktrack(bt);
    }
}
