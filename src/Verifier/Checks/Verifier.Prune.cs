using VethXdp.Verifier.Domains;
using VethXdp.Verifier.Log;
using VethXdp.Verifier.State;
using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Checks;

// kernel: is_state_visited(), states_equal(), func_states_equal(), regsafe(), stacksafe(), refsafe(), check_ids(),
// update_branch_counts().
//
// Soundness argument. A path reaching insn i in state C may stop ("prune") when an explored state O at i is
// *complete* (every path below it was explored and accepted: Pending == 0) and every behaviour C can show from here on
// is a behaviour O could show:
//  - a register dead at i (static liveness) cannot influence anything below i, so it is not compared;
//  - a NOT_INIT register of O was never read below O (it would have been rejected), so C may hold anything there;
//  - a scalar of O that is not precise never decided anything below O: every use whose outcome depends on the value
//    (a decided branch, pointer arithmetic, a size, a constant key, a callback's return) marks the scalar and,
//    by backtracking, every scalar it came from, precise in O before O completes. Imprecise scalars therefore match any
//    scalar; precise ones must satisfy range and tnum inclusion (C's values are a subset of O's);
//  - pointers must agree in everything but may have narrower variable parts; packet pointers may have a larger range;
//  - ids must correspond one to one (an id map), so that facts shared through ids (null checks, packet ranges, linked
//    scalars) hold in C as they did in O;
//  - stack slots: MISC in O covers anything; ZERO or spilled scalars compare as scalars; spilled pointers as registers.
// O's precision marks are final only once O is complete, which is why incomplete states never prune. When C is pruned,
// O's precise registers are backtracked in C's history (propagate_precision), because C's ancestors now depend on them.
internal sealed partial class VerifierEnv
{
    /// <summary>An explored state in the per-instruction list with its hit and miss counts.</summary>
    private sealed class ExploredState(VerifierState state)
    {
        public VerifierState State { get; } = state;

        public int Hit { get; set; }

        public int Miss { get; set; }
    }

    /// <summary>The longest history kept before a checkpoint is forced.</summary>
    private const int MaxHistory = 1024;

    private enum Exactness
    {
        NotExact,
        Exact,
    }

    // kernel: is_state_visited()
    private bool IsStateVisited(int insnIdx)
    {
        bool forceNewState = Cfg.ForceCheckpoints[insnIdx];
        bool addNewState = forceNewState;
        if (_jmpsProcessed - _prevJmpsProcessed >= 2 && Stats.InsnProcessed - _prevInsnProcessed >= 8)
        {
            addNewState = true;
        }

        ushort live = _liveRegs[insnIdx];
        int statesCnt = 0;
        if (_explored.TryGetValue(insnIdx, out var list))
        {
            for (int k = 0; k < list.Count; k++)
            {
                var e = list[k];
                statesCnt++;
                if (e.State.Pending > 0)
                {
                    // An ancestor of this path (or a state with paths still pending): it cannot prune, but an exact
                    // match with an ancestor means the path came back unchanged, a loop that never ends.
                    if (MaybeLooping(e.State, _cur) && StatesEqual(e.State, _cur, live, Exactness.Exact) && IsAncestor(e.State))
                    {
                        _log.LineInfo(insnIdx, "; ");
                        Error("infinite loop detected at insn {0}", insnIdx);
                        _log.Write("cur state:");
                        PrintVerifierState(_cur, _cur.CurFrame, printAll: true);
                        _log.Write("old state:");
                        PrintVerifierState(e.State, _cur.CurFrame, printAll: true);
                        FailLogged(RejectKind.Invalid);
                    }

                    // a loop: different iterations have different states; don't save every one
                    if (!forceNewState && _jmpsProcessed - _prevJmpsProcessed < 20 && Stats.InsnProcessed - _prevInsnProcessed < 100)
                    {
                        addNewState = false;
                    }

                    if (Miss(list, ref k, e, addNewState))
                    {
                        continue;
                    }

                    continue;
                }

                if (StatesEqual(e.State, _cur, live, Exactness.NotExact))
                {
                    e.Hit++;
                    PropagatePrecision(e.State, live);
                    return true;
                }

                Miss(list, ref k, e, addNewState);
            }
        }
        else
        {
            list = null;
        }

        Stats.MaxStatesPerInsn = Math.Max(Stats.MaxStatesPerInsn, statesCnt);

        // A long path without a checkpoint (a loop where the heuristic above declines new states) would make every
        // branch copy a long history; a checkpoint bounds it (more checkpoints only add pruning chances).
        if (_cur.History.Count > MaxHistory)
        {
            addNewState = true;
        }

        if (!addNewState)
        {
            return false;
        }

        _prevJmpsProcessed = _jmpsProcessed;
        _prevInsnProcessed = Stats.InsnProcessed;
        if (list is null)
        {
            list = [];
            _explored[insnIdx] = list;
        }

        // the checkpoint takes this path's place under the old parent; the path continues below the checkpoint
        var saved = _cur.Clone();
        saved.SavedId = ++_stateIdGen;
        saved.InsnIdx = insnIdx;
        saved.Pending = 1;
        saved.Parent = _cur.Parent;
        _cur.Parent = saved;
        _cur.History.Clear();
        list.Add(new ExploredState(saved));
        Stats.TotalStates++;
        _curStates++;
        Stats.PeakStates = Math.Max(Stats.PeakStates, _curStates);
        return false;
    }

    // The kernel's heuristic: a state that keeps missing is unlikely to help; it leaves the list (a state still being
    // explored stays reachable through its descendants' parent links). Misses count only when a new state will be
    // added, so that some early iterations of a loop stay. Dropping states only loses pruning, never soundness.
    private bool Miss(List<ExploredState> list, ref int k, ExploredState e, bool addNewState)
    {
        if (addNewState)
        {
            e.Miss++;
        }

        if (e.Miss > (e.Hit * 3) + 3)
        {
            list.RemoveAt(k);
            k--;
            if (e.State.Pending == 0)
            {
                _curStates--; // freed; a state still being explored is only freed at the end (peak_states counts it)
            }

            return true;
        }

        return false;
    }

    private bool IsAncestor(VerifierState state)
    {
        for (var p = _cur.Parent; p is not null; p = p.Parent)
        {
            if (ReferenceEquals(p, state))
            {
                return true;
            }
        }

        return false;
    }

    // kernel: states_maybe_looping(): a cheap filter before the exact comparison
    private static bool MaybeLooping(VerifierState old, VerifierState cur)
    {
        if (old.CurFrame != cur.CurFrame)
        {
            return false;
        }

        var a = old.Frames[old.CurFrame]!;
        var b = cur.Frames[cur.CurFrame]!;
        for (int r = 0; r < 11; r++)
        {
            if (a.Regs[r].Type != b.Regs[r].Type || a.Regs[r].Off != b.Regs[r].Off || a.Regs[r].Bounds.VarOff != b.Regs[r].Bounds.VarOff)
            {
                return false;
            }
        }

        return true;
    }

    // kernel: update_branch_counts(): a path ended (exit or pruned); checkpoints whose last path ended are complete
    private void EndPath()
    {
        var p = _cur.Parent;
        while (p is not null)
        {
            p.Pending--;
            if (p.Pending > 0)
            {
                break;
            }

            p = p.Parent;
        }
    }

    /// <summary>The kernel's bpf_idmap: old ids to current ids, one to one.</summary>
    private sealed class IdMap
    {
        private readonly List<(int Old, int Cur)> _map = [];
        private int _tmpIdGen = int.MaxValue / 2;

        // kernel: check_ids()
        public bool Check(int oldId, int curId)
        {
            if ((oldId == 0) != (curId == 0))
            {
                return false;
            }

            if (oldId == 0)
            {
                return true;
            }

            foreach (var (o, c) in _map)
            {
                if (o == oldId)
                {
                    return c == curId;
                }

                if (c == curId)
                {
                    return false;
                }
            }

            _map.Add((oldId, curId));
            return true;
        }

        // kernel: check_scalar_ids(): an old scalar without id matches anything; a current one without id gets a
        // fresh id so that two old-linked scalars can't match two unlinked current ones
        public bool CheckScalar(int oldId, int curId)
        {
            if (oldId == 0)
            {
                return true;
            }

            return Check(oldId, curId != 0 ? curId : ++_tmpIdGen);
        }
    }

    // kernel: states_equal()
    private static bool StatesEqual(VerifierState old, VerifierState cur, ushort liveInCurFrame, Exactness exact)
    {
        if (old.CurFrame != cur.CurFrame || old.Refs.Count != cur.Refs.Count)
        {
            return false;
        }

        var idmap = new IdMap();
        if (!idmap.Check(old.ActiveLockId, cur.ActiveLockId))
        {
            return false;
        }

        // refsafe()
        for (int i = 0; i < old.Refs.Count; i++)
        {
            if (old.Refs[i].Kind != cur.Refs[i].Kind || !idmap.Check(old.Refs[i].Id, cur.Refs[i].Id))
            {
                return false;
            }
        }

        for (int fr = 0; fr <= cur.CurFrame; fr++)
        {
            var a = old.Frames[fr]!;
            var b = cur.Frames[fr]!;
            if (a.CallSite != b.CallSite || a.InCallbackFn != b.InCallbackFn)
            {
                return false;
            }

            for (int r = 0; r < 11; r++)
            {
                if (fr == cur.CurFrame && r < 10 && (liveInCurFrame & (1 << r)) == 0)
                {
                    continue;
                }

                if (!RegSafe(a.Regs[r], b.Regs[r], idmap, exact))
                {
                    return false;
                }
            }

            if (!StackSafe(a, b, idmap, exact))
            {
                return false;
            }
        }

        return true;
    }

    private static bool RangeWithin(in ScalarBounds old, in ScalarBounds cur) =>
        old.UMin <= cur.UMin && old.UMax >= cur.UMax && old.SMin <= cur.SMin && old.SMax >= cur.SMax &&
        old.U32Min <= cur.U32Min && old.U32Max >= cur.U32Max && old.S32Min <= cur.S32Min && old.S32Max >= cur.S32Max;

    // kernel: regs_exact(): everything but the ids (compared through the map) and the precision mark
    private static bool RegsExact(in RegState a, in RegState b, IdMap idmap) =>
        a.Type == b.Type && a.Flags == b.Flags && a.Off == b.Off && a.Bounds == b.Bounds && a.Range == b.Range &&
        a.MapIndex == b.MapIndex && a.MemSize == b.MemSize && a.Frameno == b.Frameno && a.Subprogno == b.Subprogno &&
        a.BtfType == b.BtfType && a.DynptrFirstSlot == b.DynptrFirstSlot && a.DynptrId == b.DynptrId &&
        idmap.Check(a.Id, b.Id) && idmap.Check(a.RefObjId, b.RefObjId);

    // kernel: regsafe()
    private static bool RegSafe(in RegState old, in RegState cur, IdMap idmap, Exactness exact)
    {
        if (exact == Exactness.Exact)
        {
            return RegsExact(old, cur, idmap);
        }

        if (old.Type == RegType.NotInit)
        {
            return true; // the explored state never read it
        }

        if (old.Type != cur.Type || old.Flags != cur.Flags)
        {
            return false;
        }

        switch (old.Type)
        {
            case RegType.Scalar:
                if (!old.Precise)
                {
                    return true;
                }

                return idmap.CheckScalar(old.Id, cur.Id) && RangeWithin(old.Bounds, cur.Bounds) &&
                       Tnum.In(old.Bounds.VarOff, cur.Bounds.VarOff);
            case RegType.PtrToMapKey:
            case RegType.PtrToMapValue:
            case RegType.PtrToMem:
            case RegType.PtrToBuf:
            case RegType.PtrToTpBuffer:
                return old.Off == cur.Off && old.MapIndex == cur.MapIndex && old.MemSize == cur.MemSize &&
                       old.DynptrId == cur.DynptrId && old.BtfType == cur.BtfType &&
                       RangeWithin(old.Bounds, cur.Bounds) && Tnum.In(old.Bounds.VarOff, cur.Bounds.VarOff) &&
                       idmap.Check(old.Id, cur.Id) && idmap.Check(old.RefObjId, cur.RefObjId);
            case RegType.PtrToPacket:
            case RegType.PtrToPacketMeta:
                // at least as much range as the old pointer, the same fixed offset, the same id relations
                return old.Range <= cur.Range && old.Off == cur.Off && idmap.Check(old.Id, cur.Id) &&
                       RangeWithin(old.Bounds, cur.Bounds) && Tnum.In(old.Bounds.VarOff, cur.Bounds.VarOff);
            case RegType.PtrToStack:
                return RegsExact(old, cur, idmap) && old.Frameno == cur.Frameno;
            case RegType.PtrToArena:
                return true;
            default:
                return RegsExact(old, cur, idmap);
        }
    }

    private static readonly RegState s_unboundScalar = RegState.UnknownScalar;

    // kernel: scalar_reg_for_stack(): a 64-bit scalar spill, or all-MISC bytes (an unbounded scalar)
    private static bool ScalarRegForStack(in StackSlot st, out RegState reg)
    {
        if (st.IsFullSpill && st.Spilled.Type == RegType.Scalar)
        {
            reg = st.Spilled;
            return true;
        }

        for (int i = 0; i < 8; i++)
        {
            // root: allow_uninit_stack makes INVALID read like MISC
            if (st.Types[i] is not (SlotType.Misc or SlotType.Invalid))
            {
                reg = default;
                return false;
            }
        }

        reg = s_unboundScalar;
        return true;
    }

    // kernel: stacksafe()
    private static bool StackSafe(FuncState old, FuncState cur, IdMap idmap, Exactness exact)
    {
        int n = old.AllocatedStack;
        for (int i = 0; i < n; i++)
        {
            int spi = i / 8, im = i % 8;
            var os = old.Stack[spi];
            if (exact == Exactness.Exact)
            {
                var ct = i < cur.AllocatedStack ? cur.Stack[spi].Types[im] : SlotType.Invalid;
                if (os.Types[im] != ct)
                {
                    return false;
                }
            }

            var ot = os.Types[im];
            if (exact == Exactness.NotExact && (ot == SlotType.Invalid || ot == SlotType.Misc))
            {
                continue; // root: uninitialised or unknown bytes in the explored state cover anything
            }

            if (i >= cur.AllocatedStack)
            {
                return false;
            }

            var cs = cur.Stack[spi];
            if (ScalarRegForStack(os, out var oreg) && ScalarRegForStack(cs, out var creg))
            {
                if (!RegSafe(oreg, creg, idmap, exact))
                {
                    return false;
                }

                i += 7 - im;
                continue;
            }

            var ctype = cs.Types[im];
            if (ot == SlotType.Misc && ctype == SlotType.Zero)
            {
                continue; // safe with unknown data, so safe with zeroes
            }

            if (ot != ctype)
            {
                return false;
            }

            if (im != 7)
            {
                continue;
            }

            switch (os.Types[7])
            {
                case SlotType.Spill:
                    if (!RegSafe(os.Spilled, cs.Spilled, idmap, exact))
                    {
                        return false;
                    }

                    break;
                case SlotType.Dynptr:
                    if ((os.Spilled.Flags & DynptrTypeMask) != (cs.Spilled.Flags & DynptrTypeMask) ||
                        os.Spilled.DynptrFirstSlot != cs.Spilled.DynptrFirstSlot ||
                        !idmap.Check(os.Spilled.RefObjId, cs.Spilled.RefObjId))
                    {
                        return false;
                    }

                    break;
                case SlotType.Misc:
                case SlotType.Zero:
                case SlotType.Invalid:
                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    // --- history ------------------------------------------------------------------------------------------------

    // Records the instruction about to be processed, with what backtracking needs to know about it.
    private void PushHistory(Instruction insn)
    {
        int frame = _cur.CurFrame;
        int stackFrame = -1, spi = -1;
        ushort linked = 0;
        int baseReg = insn.Class switch
        {
            OpClass.Ldx => insn.SrcReg,
            OpClass.Stx or OpClass.St => insn.DstReg,
            _ => -1,
        };
        if (baseReg is >= 0 and < 11)
        {
            var b = Reg(baseReg);
            if (b.Type == RegType.PtrToStack && b.Bounds.VarOff.IsConst)
            {
                long off = b.Off + (long)b.Bounds.VarOff.Value + insn.Offset;
                if (off < 0 && off >= -512)
                {
                    stackFrame = b.Frameno;
                    spi = (int)((-off - 1) / 8);
                }
            }
        }
        else if (insn.Class is OpClass.Jmp or OpClass.Jmp32 && insn.JmpOp is not (JmpOp.Ja or JmpOp.Call or JmpOp.Exit))
        {
            int idD = insn.DstReg < 11 && Reg(insn.DstReg).Type == RegType.Scalar ? Reg(insn.DstReg).Id : 0;
            int idS = insn.SrcIsReg && insn.SrcReg < 11 && Reg(insn.SrcReg).Type == RegType.Scalar ? Reg(insn.SrcReg).Id : 0;
            for (int r = 0; r < 11; r++)
            {
                var reg = Reg(r);
                if (reg.Type == RegType.Scalar && reg.Id != 0 && (reg.Id == idD || reg.Id == idS))
                {
                    linked |= (ushort)(1 << r);
                }
            }
        }

        _cur.History.Add(new HistoryEntry(_insnIdx, frame, stackFrame, spi, linked));
    }
}
