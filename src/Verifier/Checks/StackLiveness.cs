using System.Globalization;
using System.Text;
using VethXdp.Verifier.Cfg;
using VethXdp.Verifier.Log;
using VethXdp.Verifier.State;
using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Checks;

// kernel: kernel/bpf/liveness.c (Linux 6.18): the call-chain sensitive stack-slot liveness the state cache uses to
// forget dead slots of complete states (clean_live_states()).
//
// What it computes. For every (call chain, instruction) the exploration reaches, each frame of the chain has four
// 64-bit masks, one bit per 8-byte stack slot (spi):
//  - may_read:       slots some visit of the instruction read (union over visits);
//  - must_write:     slots every visit of the instruction wrote whole (intersection over visits; only 8-byte
//                    aligned writes of 8 bytes, dynptr/iter/irq-flag slot changes count);
//  - live_before:    slots that may be read at or after the instruction before being written
//                    (live_before = (U live_before of successors) \ must_write | may_read);
//  - must_write_acc: slots written by the instruction or on every path after it within the function
//                    (must_write_acc = (n must_write_acc of successors) | must_write).
// The last two are a data-flow fix point over the function's control-flow graph, recomputed when the first two
// changed (update_instance()), in the order of the function's DFS postorder. When a callee's instance is
// recomputed, what its entry reads of and always writes to its callers' frames is added to the call instruction in
// the caller's instance (propagate_to_outer_instance()).
//
// The exploration feeds it (bpf_mark_stack_read/_write between bpf_reset/_commit_stack_write_marks around each
// instruction), recomputes the current chain's instances whenever a path leaves a function or ends
// (bpf_update_live_stack()), and asks it, for a complete explored state, whether a slot of a frame may still be read
// from the state's instruction on (bpf_stack_slot_alive()).
internal sealed class StackLiveness
{
    private const int MaxFrames = VerifierState.MaxCallFrames;

    /// <summary>The masks of one frame at one instruction (<c>struct per_frame_masks</c>).</summary>
    private struct Masks
    {
        public ulong MayRead;
        public ulong MustWrite;
        public ulong MustWriteAcc;
        public ulong LiveBefore;
    }

    /// <summary>A call chain: the call instruction of each outer frame, then the current function's first
    /// instruction (<c>struct callchain</c>).</summary>
    private sealed class Callchain
    {
        public readonly int[] Callsites = new int[MaxFrames];
        public readonly int[] SpStarts = new int[MaxFrames];
        public int Curframe;

        public bool SameCallsites(Callchain other)
        {
            if (Curframe != other.Curframe)
            {
                return false;
            }

            for (int i = Curframe; i >= 0; i--)
            {
                if (Callsites[i] != other.Callsites[i])
                {
                    return false;
                }
            }

            return true;
        }

        public int Hash()
        {
            var h = new HashCode();
            for (int i = 0; i <= Curframe; i++)
            {
                h.Add(Callsites[i]);
            }

            return h.ToHashCode();
        }

        public void CopyFrom(Callchain src)
        {
            Array.Copy(src.Callsites, Callsites, MaxFrames);
            Array.Copy(src.SpStarts, SpStarts, MaxFrames);
            Curframe = src.Curframe;
        }

        public string Format()
        {
            var sb = new StringBuilder("(");
            for (int i = 0; i <= Curframe; i++)
            {
                if (i > 0)
                {
                    sb.Append(',');
                }

                sb.Append(Callsites[i].ToString(CultureInfo.InvariantCulture));
            }

            return sb.Append(')').ToString();
        }
    }

    /// <summary>A function's masks for one call chain (<c>struct func_instance</c>).</summary>
    private sealed class FuncInstance(Callchain callchain, int insnCnt)
    {
        public Callchain Callchain { get; } = callchain;

        public int InsnCnt { get; } = insnCnt;

        public bool Updated;
        public bool MustWriteDropped;

        /// <summary>Per frame of the chain, per instruction of the function; allocated on first use.</summary>
        public readonly Masks[]?[] Frames = new Masks[]?[MaxFrames];

        /// <summary>Per instruction: must_write has been set once (later visits intersect).</summary>
        public readonly bool[] MustWriteSet = new bool[insnCnt];

        public int SubprogStart => Callchain.SpStarts[Callchain.Curframe];

        public int Rel(int insnIdx) => insnIdx - SubprogStart;
    }

    private readonly Instruction[] _insns;
    private readonly IReadOnlyList<SubprogInfo> _subprogs;
    private readonly IReadOnlyList<bool> _prunePoints;
    private readonly IReadOnlyList<bool> _callsCallback;
    private readonly VerifierLog _log;
    private readonly Dictionary<int, List<FuncInstance>> _instances = [];
    private readonly Callchain _scratch = new();
    private readonly ulong[] _writeMasksAcc = new ulong[MaxFrames];
    private readonly FuncInstance?[] _query = new FuncInstance?[MaxFrames];
    private readonly int[] _postorder;
    private readonly int[] _postorderStart;
    private readonly int[] _tailCallExit;
    private FuncInstance? _curInstance;
    private int _writeInsnIdx;
    private int _queryCurframe;
    private int _queryInsnIdx;

    // kernel: bpf_stack_liveness_init()
    public StackLiveness(Instruction[] insns, IReadOnlyList<SubprogInfo> subprogs, IReadOnlyList<bool> prunePoints,
        IReadOnlyList<bool> callsCallback, VerifierLog log)
    {
        _insns = insns;
        _subprogs = subprogs;
        _prunePoints = prunePoints;
        _callsCallback = callsCallback;
        _log = log;
        _tailCallExit = TailCallExits(insns, subprogs);
        (_postorder, _postorderStart) = ComputePostorder(insns, subprogs, _tailCallExit);
    }

    /// <summary>The instances created so far (for tests).</summary>
    public int InstanceCount
    {
        get
        {
            int n = 0;
            foreach (var l in _instances.Values)
            {
                n += l.Count;
            }

            return n;
        }
    }

    // kernel: compute_postorder(): per function, a DFS from its first instruction that pushes every undiscovered
    // successor (fall-through first, so the jump target is explored first) and emits an instruction once all of its
    // successors are done
    private static (int[] Order, int[] Start) ComputePostorder(Instruction[] insns, IReadOnlyList<SubprogInfo> subprogs, int[] tailCallExit)
    {
        const int discovered = 1, explored = 2;
        int n = insns.Length;
        var order = new int[n];
        var start = new int[subprogs.Count + 1];
        var state = new byte[n];
        var stack = new int[n + 1];
        Span<int> succ = stackalloc int[2];
        int cur = 0;
        for (int i = 0; i < subprogs.Count; i++)
        {
            start[i] = cur;
            if ((uint)subprogs[i].Start >= (uint)n)
            {
                continue;
            }

            stack[0] = subprogs[i].Start;
            int sz = 1;
            do
            {
                int top = stack[sz - 1];
                state[top] |= discovered;
                if ((state[top] & explored) != 0)
                {
                    order[cur++] = top;
                    sz--;
                    continue;
                }

                int cnt = Successors(insns, tailCallExit, top, succ);
                for (int s = 0; s < cnt; s++)
                {
                    int t = succ[s];
                    if ((uint)t < (uint)n && state[t] == 0)
                    {
                        stack[sz++] = t;
                        state[t] |= discovered;
                    }
                }

                state[top] |= explored;
            }
            while (sz > 0);
        }

        start[subprogs.Count] = cur;
        return (order, start);
    }

    // Upstream's "bpf: correct stack liveness for tail calls" (after 6.18): a tail call may leave the function, so
    // it has the function's exit as a second successor; otherwise the subprogram's writes after the tail call count
    // as always done and the caller's slot is wrongly found dead. Applied here to tail calls in subprograms only,
    // where 6.18.y models a successful tail call as a return to the caller (in the main function the program ends,
    // nothing can read the stack afterwards, and the edge would change nothing but the log's order).
    private static int[] TailCallExits(Instruction[] insns, IReadOnlyList<SubprogInfo> subprogs)
    {
        var exits = new int[insns.Length];
        Array.Fill(exits, -1);
        for (int s = 1; s < subprogs.Count; s++)
        {
            var sp = subprogs[s];
            for (int i = sp.Start; i < sp.End && i < insns.Length; i++)
            {
                var insn = insns[i];
                if (insn.Class == OpClass.Jmp && insn.JmpOp == JmpOp.Call && insn.SrcReg == 0 && insn.Imm == 12 &&
                    sp.ExitIdx >= 0)
                {
                    exits[i] = sp.ExitIdx;
                }
            }
        }

        return exits;
    }

    // kernel: bpf_insn_successors(): exit has none, ja only its target, conditional jumps (and may_goto) both, every
    // other instruction (calls included) the next one (lddw: two slots on); a tail call in a subprogram also the
    // function's exit (TailCallExits)
    private static int Successors(Instruction[] insns, int[] tailCallExit, int idx, Span<int> succ)
    {
        var insn = insns[idx];
        int cnt = 0;
        if (tailCallExit[idx] >= 0)
        {
            succ[cnt++] = idx + 1;
            succ[cnt++] = tailCallExit[idx];
            return cnt;
        }

        bool canJump = false, fallThrough = true;
        if (insn.Class is OpClass.Jmp or OpClass.Jmp32)
        {
            switch (insn.JmpOp)
            {
                case JmpOp.Exit:
                    fallThrough = false;
                    break;
                case JmpOp.Ja:
                    canJump = true;
                    fallThrough = false;
                    break;
                case JmpOp.Call:
                    break;
                default:
                    canJump = true;
                    break;
            }
        }

        if (fallThrough)
        {
            succ[cnt++] = idx + (insn.IsLdImm64 ? 2 : 1);
        }

        if (canJump)
        {
            int off = insn.Class == OpClass.Jmp32 && insn.JmpOp == JmpOp.Ja ? insn.Imm : insn.Offset;
            succ[cnt++] = idx + off + 1;
        }

        return cnt;
    }

    // kernel: compute_callchain()
    private void ComputeCallchain(VerifierState st, Callchain cc, int frameno)
    {
        Array.Clear(cc.Callsites);
        Array.Clear(cc.SpStarts);
        for (int i = 0; i <= frameno; i++)
        {
            cc.SpStarts[i] = _subprogs[st.Frames[i]!.Subprogno].Start;
            if (i < st.CurFrame)
            {
                cc.Callsites[i] = st.Frames[i + 1]!.CallSite;
            }
        }

        cc.Curframe = frameno;
        cc.Callsites[frameno] = cc.SpStarts[frameno];
    }

    // kernel: __lookup_instance(): the instance of a call chain, created on first use
    private FuncInstance LookupInstance(Callchain cc)
    {
        int key = cc.Hash();
        if (_instances.TryGetValue(key, out var list))
        {
            foreach (var inst in list)
            {
                if (inst.Callchain.SameCallsites(cc))
                {
                    return inst;
                }
            }
        }
        else
        {
            list = [];
            _instances[key] = list;
        }

        int start = cc.SpStarts[cc.Curframe];
        int end = _insns.Length;
        foreach (var sp in _subprogs)
        {
            if (sp.Start <= start && start < sp.End)
            {
                end = sp.End;
                break;
            }
        }

        var copy = new Callchain();
        copy.CopyFrom(cc);
        var created = new FuncInstance(copy, end - start);
        list.Add(created);
        return created;
    }

    private FuncInstance LookupInstance(VerifierState st, int frameno)
    {
        ComputeCallchain(st, _scratch, frameno);
        return LookupInstance(_scratch);
    }

    private static ref Masks FrameMasks(FuncInstance inst, int frame, int insnIdx) =>
        ref inst.Frames[frame]![inst.Rel(insnIdx)];

    private static ref Masks AllocFrameMasks(FuncInstance inst, int frame, int insnIdx)
    {
        inst.Frames[frame] ??= new Masks[inst.InsnCnt];
        return ref FrameMasks(inst, frame, insnIdx);
    }

    /// <summary>kernel: bpf_reset_live_stack_callchain(): the current path changed function (a call).</summary>
    public void ResetLiveStackCallchain() => _curInstance = null;

    // kernel: ensure_cur_instance()
    private FuncInstance EnsureCurInstance(VerifierState cur) =>
        _curInstance ??= LookupInstance(cur, cur.CurFrame);

    // kernel: mark_stack_read()
    private static void MarkStackRead(FuncInstance inst, int frame, int insnIdx, ulong mask)
    {
        ref var m = ref AllocFrameMasks(inst, frame, insnIdx);
        ulong newMayRead = m.MayRead | mask;
        if (newMayRead != m.MayRead && (newMayRead | m.LiveBefore) != m.LiveBefore)
        {
            inst.Updated = true;
        }

        m.MayRead |= mask;
    }

    /// <summary>kernel: bpf_mark_stack_read(): the current path's instruction reads slots of a frame.</summary>
    public void MarkStackRead(VerifierState cur, int frame, int insnIdx, ulong mask) =>
        MarkStackRead(EnsureCurInstance(cur), frame, insnIdx, mask);

    // kernel: reset_stack_write_marks()
    private void ResetStackWriteMarks(FuncInstance inst, int insnIdx)
    {
        _writeInsnIdx = insnIdx;
        for (int i = 0; i <= inst.Callchain.Curframe; i++)
        {
            _writeMasksAcc[i] = 0;
        }
    }

    /// <summary>kernel: bpf_reset_stack_write_marks(): an instruction starts; its writes accumulate until
    /// <see cref="CommitStackWriteMarks()"/>.</summary>
    public void ResetStackWriteMarks(VerifierState cur, int insnIdx) => ResetStackWriteMarks(EnsureCurInstance(cur), insnIdx);

    /// <summary>kernel: bpf_mark_stack_write(): the instruction writes whole slots of a frame.</summary>
    public void MarkStackWrite(int frame, ulong mask) => _writeMasksAcc[frame] |= mask;

    // kernel: commit_stack_write_marks()
    private void CommitStackWriteMarks(FuncInstance? inst)
    {
        if (inst is null)
        {
            return;
        }

        int curframe = inst.Callchain.Curframe;
        int idx = inst.Rel(_writeInsnIdx);
        for (int frame = 0; frame <= curframe; frame++)
        {
            ulong mask = _writeMasksAcc[frame];
            if (mask == 0 && !inst.MustWriteSet[idx])
            {
                continue; // don't allocate a frame for nothing
            }

            ref var m = ref AllocFrameMasks(inst, frame, _writeInsnIdx);
            ulong old = m.MustWrite;
            if (inst.MustWriteSet[idx])
            {
                mask &= old; // later visits: the intersection
            }

            if (old != mask)
            {
                m.MustWrite = mask;
                inst.Updated = true;
            }

            if ((old & ~mask) != 0)
            {
                inst.MustWriteDropped = true;
            }
        }

        inst.MustWriteSet[idx] = true;
        _writeInsnIdx = 0;
    }

    /// <summary>kernel: bpf_commit_stack_write_marks(): the instruction was checked; its writes join the current
    /// instance (nothing when the instruction entered or left a function).</summary>
    public void CommitStackWriteMarks() => CommitStackWriteMarks(_curInstance);

    // kernel: log_mask_change()
    private void LogMaskChange(Callchain cc, string pfx, int frame, int insnIdx, ulong old, ulong now)
    {
        ulong changed = old ^ now;
        if (changed == 0)
        {
            return;
        }

        ulong ones = now & changed, zeros = ~now & changed;
        var sb = new StringBuilder();
        sb.Append(cc.Format()).Append(CultureInfo.InvariantCulture, $" frame {frame} insn {insnIdx} ");
        if (ones != 0)
        {
            sb.Append('+').Append(pfx).Append(' ').Append(FormatStackMask(ones)).Append(' ');
        }

        if (zeros != 0)
        {
            sb.Append('-').Append(pfx).Append(' ').Append(FormatStackMask(zeros));
        }

        sb.Append('\n');
        _log.Write(sb.ToString());
    }

    // kernel: bpf_fmt_stack_mask(): "-8,-16" (the slots' offsets from the frame pointer)
    internal static string FormatStackMask(ulong mask)
    {
        var sb = new StringBuilder();
        for (int spi = 0; spi < 64; spi++)
        {
            if ((mask & (1UL << spi)) != 0)
            {
                if (sb.Length > 0)
                {
                    sb.Append(',');
                }

                sb.Append((-(spi + 1) * 8).ToString(CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    // kernel: update_insn(): one step of the fix point at one instruction of one frame
    private bool UpdateInsn(FuncInstance inst, int frame, int insnIdx)
    {
        Span<int> succ = stackalloc int[2];
        int cnt = Successors(_insns, _tailCallExit, insnIdx, succ);
        if (cnt == 0)
        {
            return false;
        }

        var arr = inst.Frames[frame]!;
        ref var m = ref arr[inst.Rel(insnIdx)];
        ulong after = 0, mustWriteAcc = ulong.MaxValue;
        for (int s = 0; s < cnt; s++)
        {
            int rel = inst.Rel(succ[s]);
            if ((uint)rel >= (uint)arr.Length)
            {
                // no successor outside the function in a program check_subprogs() accepted; be conservative anyway
                after = ulong.MaxValue;
                mustWriteAcc = 0;
                continue;
            }

            ref var sm = ref arr[rel];
            after |= sm.LiveBefore;
            mustWriteAcc &= sm.MustWriteAcc;
        }

        mustWriteAcc |= m.MustWrite;
        ulong before = (after & ~m.MustWrite) | m.MayRead;
        bool changed = before != m.LiveBefore || mustWriteAcc != m.MustWriteAcc;
        if (_log.IsLevel2 && (m.MayRead != 0 || m.MustWrite != 0 || insnIdx == inst.SubprogStart || _prunePoints[insnIdx]))
        {
            LogMaskChange(inst.Callchain, "live", frame, insnIdx, m.LiveBefore, before);
            LogMaskChange(inst.Callchain, "written", frame, insnIdx, m.MustWriteAcc, mustWriteAcc);
        }

        m.LiveBefore = before;
        m.MustWriteAcc = mustWriteAcc;
        return changed;
    }

    // kernel: update_instance(): the fix point of live_before and must_write_acc for one instance, then the
    // transfer of its entry's marks to the caller's instance
    private void UpdateInstance(FuncInstance inst)
    {
        var cc = inst.Callchain;
        if (inst.MustWriteDropped)
        {
            // a must_write shrank: must_write_acc restarts from nothing
            for (int frame = 0; frame <= cc.Curframe; frame++)
            {
                if (inst.Frames[frame] is { } arr)
                {
                    for (int i = 0; i < arr.Length; i++)
                    {
                        arr[i].MustWriteAcc = 0;
                    }
                }
            }
        }

        int sub = SubprogIndex(inst.SubprogStart);
        int poStart = _postorderStart[sub], poEnd = _postorderStart[sub + 1];
        int iterations = 0;
        bool changed;
        do
        {
            iterations++;
            changed = false;
            for (int frame = 0; frame <= cc.Curframe; frame++)
            {
                if (inst.Frames[frame] is null)
                {
                    continue;
                }

                for (int i = poStart; i < poEnd; i++)
                {
                    changed |= UpdateInsn(inst, frame, _postorder[i]);
                }
            }
        }
        while (changed);

        if (_log.IsLevel2)
        {
            _log.Write(string.Create(CultureInfo.InvariantCulture, $"{cc.Format()} live stack update done in {iterations} iterations\n"));
        }

        if (cc.Curframe > 0)
        {
            PropagateToOuterInstance(inst);
        }
    }

    private int SubprogIndex(int start)
    {
        for (int i = 0; i < _subprogs.Count; i++)
        {
            if (_subprogs[i].Start <= start && start < _subprogs[i].End)
            {
                return i;
            }
        }

        return 0;
    }

    // kernel: get_outer_instance() + propagate_to_outer_instance(): what the callee's entry reads of the outer
    // frames becomes a read by the call instruction; what it always writes, a write by it
    private void PropagateToOuterInstance(FuncInstance inst)
    {
        var cc = inst.Callchain;
        var outerCc = new Callchain();
        outerCc.CopyFrom(cc);
        outerCc.Callsites[outerCc.Curframe] = 0;
        outerCc.SpStarts[outerCc.Curframe] = 0;
        outerCc.Curframe--;
        outerCc.Callsites[outerCc.Curframe] = outerCc.SpStarts[outerCc.Curframe];
        var outer = LookupInstance(outerCc);
        int callsite = cc.Callsites[cc.Curframe - 1];
        ResetStackWriteMarks(outer, callsite);
        for (int frame = 0; frame < cc.Curframe; frame++)
        {
            if (inst.Frames[frame] is not { } arr)
            {
                continue;
            }

            ref var entry = ref arr[0];
            MarkStackWrite(frame, entry.MustWriteAcc);
            MarkStackRead(outer, frame, callsite, entry.LiveBefore);
        }

        CommitStackWriteMarks(outer);
    }

    /// <summary>kernel: bpf_update_live_stack(): the current path leaves a function or ends: every instance of its
    /// call chain with new marks is recomputed, innermost first (so callees' marks reach their callers).</summary>
    public void UpdateLiveStack(VerifierState cur)
    {
        _curInstance = null;
        for (int frame = cur.CurFrame; frame >= 0; frame--)
        {
            var inst = LookupInstance(cur, frame);
            if (inst.Updated)
            {
                UpdateInstance(inst);
                inst.Updated = false;
                inst.MustWriteDropped = false;
            }
        }
    }

    private static bool IsLiveBefore(FuncInstance inst, int insnIdx, int frameno, int spi)
    {
        if (inst.Frames[frameno] is not { } arr)
        {
            return false;
        }

        int rel = inst.Rel(insnIdx);
        return (uint)rel < (uint)arr.Length && (arr[rel].LiveBefore & (1UL << spi)) != 0;
    }

    /// <summary>kernel: bpf_live_stack_query_init(): the following <see cref="StackSlotAlive"/> questions are about
    /// this state.</summary>
    public void QueryInit(VerifierState st)
    {
        Array.Clear(_query);
        for (int frame = 0; frame <= st.CurFrame; frame++)
        {
            _query[frame] = LookupInstance(st, frame);
        }

        _queryCurframe = st.CurFrame;
        _queryInsnIdx = st.InsnIdx;
    }

    /// <summary>kernel: bpf_stack_slot_alive(): a slot of a frame may be read from the queried state's instruction
    /// on: in the current function, or, for an outer frame, after its call (at the call for a callback-calling
    /// helper, which runs the callback again).</summary>
    public bool StackSlotAlive(int frameno, int spi)
    {
        if (spi >= 64)
        {
            return true; // no such bit: never claim dead
        }

        var curInst = _query[_queryCurframe]!;
        if (IsLiveBefore(curInst, _queryInsnIdx, frameno, spi))
        {
            return true;
        }

        for (int i = frameno; i < _queryCurframe; i++)
        {
            int callsite = curInst.Callchain.Callsites[i];
            var inst = _query[i]!;
            bool alive = _callsCallback[callsite]
                ? IsLiveBefore(inst, callsite, frameno, spi)
                : IsLiveBefore(inst, callsite + 1, frameno, spi);
            if (alive)
            {
                return true;
            }
        }

        return false;
    }
}
