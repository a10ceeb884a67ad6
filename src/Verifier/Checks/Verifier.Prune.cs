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
//  - stack slots: MISC in O covers anything; ZERO or spilled scalars compare as scalars; spilled pointers as registers;
//    a complete O's slots that 6.18's stack liveness finds dead at i were made INVALID (clean_live_states(), whose
//    soundness argument is in Verifier.Liveness.cs) and cover anything too.
// O's precision marks are final only once O is complete, which is why incomplete states never prune. When C is pruned,
// O's precise registers are backtracked in C's history (propagate_precision), because C's ancestors now depend on them.
// A checkpoint starts with every scalar imprecise (mark_all_scalars_imprecise): the marks it needs are exactly those
// its own descendants backtrack into it before it completes, so inherited marks would only cost pruning.
// A caller's frame is compared in the registers live at its call instruction (frame_insn_idx()): it resumes there.
// The checkpoint list order, the add/miss/evict heuristics and the forced checkpoint after 40 jmp_history entries
// are the kernel's; they decide only which states exist, never whether a comparison is sound.
internal sealed partial class VerifierEnv
{
    /// <summary>An explored state in the per-instruction list with its hit and miss counts.</summary>
    private sealed class ExploredState(VerifierState state)
    {
        public VerifierState State { get; } = state;

        public int Hit { get; set; }

        public int Miss { get; set; }
    }

    /// <summary>A path whose jmp_history holds more entries than this forces a checkpoint (the kernel's
    /// "avoid accumulating infinitely long jmp history").</summary>
    private const int MaxJmpHistoryBeforeCheckpoint = 40;

    private enum Exactness
    {
        NotExact,
        Exact,

        /// <summary>Every scalar compared by range, precise or not (loops whose marks are not final yet).</summary>
        RangeWithin,
    }

    // kernel: is_state_visited(). The list at an instruction keeps the newest state first (list_add at the head):
    // here the newest is at the end and the walk goes from the end, so hits, misses and evictions happen in the
    // kernel's order.
    private bool IsStateVisited(int insnIdx)
    {
        bool forceNewState = Cfg.ForceCheckpoints[insnIdx] || _cur.JmpHistoryCnt > MaxJmpHistoryBeforeCheckpoint;
        bool addNewState = forceNewState;
        if (_jmpsProcessed - _prevJmpsProcessed >= 2 && Stats.InsnProcessed - _prevInsnProcessed >= 8)
        {
            addNewState = true;
        }

        // explored_state(): the lists are hash buckets keyed by the instruction and the current frame's call site
        // ((idx ^ callsite) % prog len), so states of other instructions or call sites share a list: they count in
        // max_states_per_insn and are skipped; states at the instruction reached through another call site (which
        // could never match) are neither compared nor missed (evicted)
        int statesCnt = 0;
        int bucket = (int)((uint)(insnIdx ^ _cur.Frames[_cur.CurFrame]!.CallSite) % (uint)_insns.Length);
        _explored.TryGetValue(bucket, out var list);
        CleanLiveStates(insnIdx, list);
        if (list is not null)
        {
            for (int k = list.Count - 1; k >= 0; k--)
            {
                var e = list[k];
                statesCnt++;
                if (e.State.InsnIdx != insnIdx)
                {
                    continue;
                }
                if (e.State.Pending > 0)
                {
                    // A callback-calling instruction (bpf_loop, for_each_map_elem, user_ringbuf_drain) reached
                    // again: every callback exit comes back to its call (prepare_func_exit()), where the call pushes
                    // one more iteration and the path goes on after it (check_helper_call()). The call is a forced
                    // checkpoint, so each iteration's caller state waits here, pending, until the iterations below
                    // it end (kernel: bpf_calls_callback() in is_state_visited()). A state whose every scalar lies
                    // within a pending state's ranges (RANGE_WITHIN: precise or not, since the pending state's marks
                    // are not final) and whose pointers, stack and references match is pruned. Soundness: the
                    // pending state's exploration covers every number of further iterations and the path after the
                    // call from a superset of this state, and will complete or reject; this is what ends the
                    // iterations. There is no infinite-loop check here: iterations differ. Elsewhere, an exact
                    // match with an ancestor means the path came back unchanged: a loop that never ends.
                    if (Cfg.CallsCallback[insnIdx])
                    {
                        if (!PruningDisabled && StatesEqual(e.State, _cur, Exactness.RangeWithin))
                        {
                            e.Hit++;
                            PushHistory(_insns[insnIdx]);
                            PropagatePrecision(e.State);
                            AddSccBackedge(e.State);
                            return true;
                        }
                    }
                    else if (MaybeLooping(e.State, _cur) && e.State.CallbackUnrollDepth == _cur.CallbackUnrollDepth &&
                        StatesEqual(e.State, _cur, Exactness.Exact) && IsAncestor(e.State))
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

                    Miss(list, k, e, addNewState, insnIdx);
                    continue;
                }

                // VerifierOptions.DisablePruning: checkpoints are still taken, they never stop a path (Verifier.Record.cs)
                if (!PruningDisabled && StatesEqual(e.State, _cur, Exactness.NotExact))
                {
                    e.Hit++;

                    // the pruned path depends on what the explored state found precise (propagate_precision); the
                    // instruction joins the path's history first, as a jump point would in the kernel
                    PushHistory(_insns[insnIdx]);
                    PropagatePrecision(e.State);
                    return true;
                }

                Miss(list, k, e, addNewState, insnIdx);
            }
        }

        Stats.MaxStatesPerInsn = Math.Max(Stats.MaxStatesPerInsn, statesCnt);
        if (!addNewState)
        {
            return false;
        }

        _prevJmpsProcessed = _jmpsProcessed;
        _prevInsnProcessed = Stats.InsnProcessed;
        if (list is null)
        {
            list = [];
            _explored[bucket] = list;
        }

        // forget precise markings the path inherited (mark_all_scalars_imprecise): the checkpoint's marks are
        // exactly those its own descendants backtrack into it
        MarkAllScalarsImprecise(_cur);

        // the checkpoint takes this path's place under the old parent; the path continues below the checkpoint
        var saved = _cur.Clone();
        saved.SavedId = ++_stateIdGen;
        saved.InsnIdx = insnIdx;
        saved.Pending = 1;
        saved.Parent = _cur.Parent;
        _cur.Parent = saved;
        _cur.FirstInsnIdx = insnIdx;
        _cur.History.Clear();
        _cur.JmpHistoryCnt = 0;
        list.Add(new ExploredState(saved));
        MaybeEnterScc(saved);

        Stats.TotalStates++;
        _curStates++;
        Stats.PeakStates = Math.Max(Stats.PeakStates, _curStates);
        return false;
    }

    private static void MarkAllScalarsImprecise(VerifierState st)
    {
        for (int f = 0; f <= st.CurFrame; f++)
        {
            var frame = st.Frames[f]!;
            for (int r = 0; r < 11; r++)
            {
                if (frame.Regs[r].Type == RegType.Scalar)
                {
                    frame.Regs[r].Precise = false;
                }
            }

            for (int spi = 0; spi < frame.AllocatedStack / 8; spi++)
            {
                if (frame.Stack[spi].IsSpill && frame.Stack[spi].Spilled.Type == RegType.Scalar)
                {
                    frame.Stack[spi].Spilled.Precise = false;
                }
            }
        }
    }

    // The kernel's heuristic: a state that keeps missing is unlikely to help; it leaves the list (a state still being
    // explored stays reachable through its descendants' parent links). Misses count only when a new state will be
    // added, so that some early iterations of a loop stay. Dropping states only loses pruning, never soundness.
    private void Miss(List<ExploredState> list, int k, ExploredState e, bool addNewState, int insnIdx)
    {
        if (addNewState)
        {
            e.Miss++;
        }

        // checkpoints still being explored get more chances (iterator convergence)
        int n = Cfg.ForceCheckpoints[insnIdx] && e.State.Pending > 0 ? 64 : 3;
        if (e.Miss > (e.Hit * n) + n)
        {
            list.RemoveAt(k);
            if (e.State.Pending == 0)
            {
                _curStates--; // freed now
            }
            else
            {
                e.State.InFreeList = true; // freed when its last path ends (EndPath); peak_states counts it till then
            }
        }
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
    // (and a loop entered through one of them has been left: maybe_exit_scc())
    private void EndPath()
    {
        MaybeExitScc(_cur);
        var p = _cur.Parent;
        while (p is not null)
        {
            p.Pending--;
            if (p.Pending > 0)
            {
                break;
            }

            MaybeExitScc(p);
            if (p.InFreeList)
            {
                p.InFreeList = false;
                _curStates--;
            }

            p = p.Parent;
        }
    }

    // kernel: find_prev_entry() + widen_imprecise_scalars(), as prepare_func_exit() runs them when a callback
    // returns to its call instruction: against the nearest checkpoint still being explored at the call (the state
    // this iteration started from), every scalar that is not precise in either and changed is forgotten (an unknown
    // scalar), so that iterations converge instead of growing a range by one step each time. Sound: it only loses
    // knowledge (the state covers more values); a scalar that decided anything would be precise.
    private void WidenImpreciseScalarsAtCallback(int callsite)
    {
        VerifierState? prev = null;
        for (var p = _cur.Parent; p is not null; p = p.Parent)
        {
            if (p.InsnIdx == callsite && p.Pending > 0 && p.CurFrame == _cur.CurFrame && SameCallsites(p, _cur))
            {
                prev = p;
                break;
            }
        }

        if (prev is null)
        {
            return;
        }

        var idmap = new IdMap();
        for (int fr = prev.CurFrame; fr >= 0; fr--)
        {
            var fold = prev.Frames[fr]!;
            var fcur = _cur.Frames[fr]!;
            for (int i = 0; i < 11; i++)
            {
                MaybeWidenReg(fold.Regs[i], ref fcur.Regs[i], idmap);
            }

            int slots = Math.Min(fold.AllocatedStack, fcur.AllocatedStack) / 8;
            for (int i = 0; i < slots; i++)
            {
                if (fold.Stack[i].IsSpill && fcur.Stack[i].IsSpill)
                {
                    MaybeWidenReg(fold.Stack[i].Spilled, ref fcur.Stack[i].Spilled, idmap);
                }
            }
        }
    }

    private static bool SameCallsites(VerifierState a, VerifierState b)
    {
        for (int fr = a.CurFrame; fr >= 0; fr--)
        {
            if (a.Frames[fr]!.CallSite != b.Frames[fr]!.CallSite)
            {
                return false;
            }
        }

        return true;
    }

    // kernel: maybe_widen_reg()
    private static void MaybeWidenReg(in RegState old, ref RegState cur, IdMap idmap)
    {
        if (old.Type != RegType.Scalar || cur.Type != RegType.Scalar || old.Precise || cur.Precise || RegsExact(old, cur, idmap))
        {
            return;
        }

        cur = RegState.UnknownScalar;
    }

    // --- loops (strongly connected components) ---------------------------------------------------------------------

    // kernel: the bpf_scc_visit instances, keyed by call chain; the value is the visit's entry state or null. Only
    // the log's "SCC enter"/"SCC exit" lines come from them here: backedges (and their precision propagation) are
    // recorded by the kernel only for iterator, may_goto and callback loops, which this verifier does not explore
    // that way.
    private Dictionary<string, VerifierState?>? _sccVisits;
    private int[]? _sccIds;

    private int[] SccIds => _sccIds ??= LiveRegs.LoopIds(_insns);

    // kernel: compute_scc_callchain() + format_callchain(): "(callsite,...,scc)" for the outermost frame whose
    // instruction is inside a loop, or null when none is
    private string? SccCallchain(VerifierState st)
    {
        System.Text.StringBuilder? sb = null;
        for (int i = 0; i <= st.CurFrame; i++)
        {
            int insn = i == st.CurFrame ? st.InsnIdx : st.Frames[i + 1]!.CallSite;
            int scc = (uint)insn < (uint)SccIds.Length ? SccIds[insn] : 0;
            sb ??= new System.Text.StringBuilder("(");
            if (scc != 0)
            {
                return sb.Append(scc.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(')').ToString();
            }

            if (i == st.CurFrame)
            {
                return null;
            }

            sb.Append(insn.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(',');
        }

        return null;
    }

    // kernel: maybe_enter_scc(): a checkpoint inside a loop with no visit under way starts one
    private void MaybeEnterScc(VerifierState st)
    {
        if (SccCallchain(st) is not { } chain)
        {
            return;
        }

        _sccVisits ??= [];
        if (_sccVisits.TryGetValue(chain, out var entry) && entry is not null)
        {
            return;
        }

        _sccVisits[chain] = st;
        if (_log.IsLevel2)
        {
            _log.Write($"SCC enter {chain}\n");
        }
    }

    // kernel: maybe_exit_scc(): the visit's entry state is complete, so every path through the loop was explored
    private void MaybeExitScc(VerifierState st)
    {
        if (_sccVisits is null || SccCallchain(st) is not { } chain ||
            !_sccVisits.TryGetValue(chain, out var entry) || !ReferenceEquals(entry, st))
        {
            return;
        }

        if (_log.IsLevel2)
        {
            _log.Write($"SCC exit {chain}\n");
        }

        _sccVisits[chain] = null;
        _sccBackedges?.Remove(chain);
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

    // kernel: states_equal(). Each frame compares the registers live where it resumes: the current frame at the
    // state's instruction, a caller at its call instruction (frame_insn_idx()).
    private bool StatesEqual(VerifierState old, VerifierState cur, Exactness exact)
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

            // func_states_equal(): a frame that had pushed more callback iterations than this one covers fewer
            // (bpf_loop's count compares with callback_depth)
            if (a.CallbackDepth > b.CallbackDepth)
            {
                return false;
            }

            int at = fr == old.CurFrame ? old.InsnIdx : old.Frames[fr + 1]!.CallSite;
            ushort live = (uint)at < (uint)_liveRegs.Length ? _liveRegs[at] : (ushort)0xffff;
            for (int r = 0; r < 11; r++)
            {
                if (r < 10 && (live & (1 << r)) == 0)
                {
                    continue;
                }

                if (!RegSafe(a.Regs[r], b.Regs[r], idmap, exact))
                {
                    return false;
                }
            }

            // a complete state's dead slots were made INVALID by clean_live_states() (Verifier.Liveness.cs)
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

        if (old.Type == RegType.NotInit && (exact == Exactness.NotExact || cur.Type == RegType.NotInit))
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
                if (!old.Precise && exact == Exactness.NotExact)
                {
                    return true;
                }

                // an old scalar linked as "another + K" (BPF_ADD_CONST) matches only one linked with the same K; an
                // old plain link matches no "+ K" one; an old scalar without id matches on its range alone
                if ((old.Id & RegState.AddConst) != 0
                        ? (cur.Id & RegState.AddConst) == 0 || old.Off != cur.Off
                        : old.Id != 0 && (cur.Id & RegState.AddConst) != 0)
                {
                    return false;
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
            if (exact != Exactness.NotExact && (i >= cur.AllocatedStack || os.Types[im] != cur.Stack[spi].Types[im]))
            {
                return false;
            }

            var ot = os.Types[im];
            if (ot == SlotType.Invalid || ot == SlotType.Misc)
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

    // Whether this instruction already has an entry in the kernel's jmp_history (push_jmp_history merges flags
    // into the entry of the current instruction).
    private bool _jmpHistPushed;

    // Records the instruction about to be processed, with what backtracking needs to know about it: a spill to or a
    // fill from a stack slot (the kernel's INSN_F_STACK_ACCESS: a scalar stored at an 8-byte aligned offset, a pointer
    // spill, an aligned BPF_ST, a load from a spilled slot). It also counts the entries the kernel's jmp_history would
    // hold: jump targets and the stack accesses above (linked scalars are added by RecordLinkedRegs).
    private void PushHistory(Instruction insn)
    {
        int frame = _cur.CurFrame;
        int stackFrame = -1, spi = -1;
        bool zeroMisc = false;
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
                if (off < 0 && off >= -512 && b.Frameno <= _cur.CurFrame)
                {
                    int slot = (int)((-off - 1) / 8);
                    var fs = _cur.Frames[b.Frameno]!;
                    bool spilled = slot < fs.AllocatedStack / 8 && fs.Stack[slot].IsSpill;
                    bool flagged = insn.Class switch
                    {
                        OpClass.Ldx => spilled && FillRestoresSpill(fs.Stack[slot], (int)off, insn.AccessBytes),
                        OpClass.St => off % 8 == 0,
                        _ when insn.Mode == MemMode.Atomic => true,
                        _ => insn.SrcReg < 11 && (Reg(insn.SrcReg).Type == RegType.Scalar ? off % 8 == 0 : Reg(insn.SrcReg).Type != RegType.NotInit && insn.MemSize == MemSize.DW),
                    };
                    if (flagged)
                    {
                        stackFrame = b.Frameno;
                        spi = slot;
                    }

                    zeroMisc = insn.Class == OpClass.Stx && insn.Mode == MemMode.Mem && off % 8 != 0 && insn.SrcReg < 11 &&
                               Reg(insn.SrcReg) is { Type: RegType.Scalar } src && src.Bounds.VarOff.IsConst && src.Bounds.VarOff.Value == 0;
                }
            }
        }

        _jmpHistPushed = Cfg.JmpPoints[_insnIdx] || spi >= 0;
        if (_jmpHistPushed)
        {
            _cur.JmpHistoryCnt++;
        }

        _cur.History.Add(new HistoryEntry(_insnIdx, frame, stackFrame, spi, 0));
        if (zeroMisc)
        {
            // check_stack_write_fixed_off(): a zero register stored off a slot boundary is not a spill but makes the
            // bytes STACK_ZERO, and that fact depends on the register's value: it becomes precise (the kernel does
            // this while writing; nothing between here and the write can print or fail for a constant stack slot)
            MarkChainPrecision(insn.SrcReg);
        }
    }

    // check_stack_read_fixed_off(): a fill is recorded as a stack access only when it restores the spilled register
    // (all 8 bytes, a narrow read at the spill's start, or spill bytes of a spilled constant 0); any other part of a
    // spill reads as an unknown scalar (or a 0 from ZERO bytes) that owes nothing to the spilled register ("not
    // restoring original register state"), so backtracking stops there.
    private static bool FillRestoresSpill(in StackSlot st, int off, int size)
    {
        int spillSize = 1;
        for (int i = 7; i > 0 && st.Types[i - 1] == SlotType.Spill; i--)
        {
            spillSize++;
        }

        if ((size == 8 && spillSize == 8) || (size <= spillSize && StackNarrowAccessOk(off, size, spillSize)))
        {
            return true;
        }

        int slot = -off - 1, spillBytes = 0;
        for (int i = 0; i < size; i++)
        {
            if (st.Types[(slot - i) % 8] == SlotType.Spill)
            {
                spillBytes++;
            }
        }

        return spillBytes == size && st.Spilled.IsNull;
    }

    // kernel: the linked-registers part of check_cond_jmp_op(): when a conditional jump is not decided, the scalars
    // sharing an id with its operands are recorded in the history, so that backtracking through the jump makes them
    // precise together.
    private void RecordLinkedRegs(Instruction insn)
    {
        // collect_linked_regs(): src's id first, then dst's (an id shared by both is collected twice, as the kernel
        // does); the flag BPF_ADD_CONST is ignored, so "r2" and "r2 + K" are linked
        _linkedCnt = 0;
        if (insn.SrcIsReg && insn.SrcReg < 11 && Reg(insn.SrcReg) is { Type: RegType.Scalar, Id: not 0 } s)
        {
            CollectLinkedRegs(s.BaseId);
        }

        if (insn.DstReg < 11 && Reg(insn.DstReg) is { Type: RegType.Scalar, Id: not 0 } d)
        {
            CollectLinkedRegs(d.BaseId);
        }

        if (_linkedCnt <= 1 || _cur.History.Count == 0)
        {
            return;
        }

        ushort linked = 0;
        ulong linkedStack = 0;
        for (int i = 0; i < _linkedCnt; i++)
        {
            var e = _linked[i];
            if (e.Frame != _cur.CurFrame)
            {
                continue;
            }

            if (e.IsReg)
            {
                linked |= (ushort)(1 << e.Index);
            }
            else
            {
                linkedStack |= 1UL << e.Index;
            }
        }

        var last = _cur.History[^1];
        _cur.History[^1] = last with { LinkedRegs = linked, LinkedStack = linkedStack };
        if (!_jmpHistPushed)
        {
            _jmpHistPushed = true;
            _cur.JmpHistoryCnt++;
        }
    }

    // LINKED_REGS_MAX: the entries one conditional jump can link
    private const int LinkedRegsMax = 6;

    private readonly record struct LinkedReg(int Frame, bool IsReg, int Index);

    private readonly LinkedReg[] _linked = new LinkedReg[2 * LinkedRegsMax];
    private int _linkedCnt;

    // kernel: collect_linked_regs(): the live registers (live_regs_before at each frame's instruction) and the spilled
    // scalars whose id without BPF_ADD_CONST is id, innermost frame first; past LINKED_REGS_MAX entries a scalar
    // loses its id instead.
    private void CollectLinkedRegs(int id)
    {
        for (int f = _cur.CurFrame; f >= 0; f--)
        {
            var frame = _cur.Frames[f]!;
            int at = f == _cur.CurFrame ? _insnIdx : _cur.Frames[f + 1]!.CallSite;
            ushort live = (uint)at < (uint)_liveRegs.Length ? _liveRegs[at] : (ushort)0xffff;
            for (int r = 0; r < 10; r++)
            {
                if ((live & (1 << r)) != 0)
                {
                    CollectLinkedReg(ref frame.Regs[r], id, new LinkedReg(f, true, r));
                }
            }

            for (int i = 0; i < frame.AllocatedStack / 8; i++)
            {
                if (frame.Stack[i].IsSpill)
                {
                    CollectLinkedReg(ref frame.Stack[i].Spilled, id, new LinkedReg(f, false, i));
                }
            }
        }
    }

    private void CollectLinkedReg(ref RegState reg, int id, LinkedReg entry)
    {
        if (reg.Type != RegType.Scalar || reg.BaseId != id)
        {
            return;
        }

        if (_linkedCnt < LinkedRegsMax)
        {
            _linked[_linkedCnt++] = entry;
        }
        else
        {
            reg.Id = 0;
        }
    }
}
