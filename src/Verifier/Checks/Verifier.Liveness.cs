using VethXdp.Verifier.State;

namespace VethXdp.Verifier.Checks;

// kernel: the verifier.c side of 6.18's stack liveness (kernel/bpf/liveness.c, StackLiveness.cs): the marks the
// checks feed it, the points where a path's call chain changes, and clean_live_states() / clean_verifier_state() /
// clean_func_state(), which forget the dead stack slots of complete explored states before they are compared.
//
// Soundness argument (the kernel's). A complete explored state O at instruction i (Pending == 0: every path below it
// was explored and accepted) is cleaned once, when a path next reaches i in the same call chain: each of its stack
// slots that no instruction reached from i (in i's function, or in a caller after its call) may read before writing
// it whole is made INVALID, and stacksafe() takes an INVALID old slot as matching anything. Such a slot cannot
// influence any path from i: a read would have to come first, and every read an explored path made from this call
// chain is in may_read (reads of caller frames by callees are carried to the call instruction). The marks are
// gathered along every explored path of the call chain, O's included, and O's own paths are all explored, so O's
// safety never depended on the contents of a slot found dead. Only whole-slot writes (8 aligned bytes, dynptr/iter
// slots) kill a slot, and a write counts only when every visit of the instruction made it (must_write is an
// intersection), so a path that skips the write keeps the slot live. States inside a loop whose backedges are
// still pending (incomplete_read_marks()) are not cleaned. A tail call in a subprogram may leave it (6.18.y models
// its success as a return to the caller), so, as in upstream's fix, it has the function's exit as a second
// successor (a write after it is no must-write of the call) and the subprogram's instance is recomputed before the
// return; 6.18.y has neither, counts such a write as always done and can prune a path that reads the slot unwritten.
internal sealed partial class VerifierEnv
{
    private StackLiveness? _stackLive;

    private StackLiveness StackLive => _stackLive ??=
        new StackLiveness(_insns, Cfg.Subprogs, Cfg.PrunePoints, Cfg.CallsCallback, _log);

    // kernel: bpf_mark_stack_read(env, frameno, env->insn_idx, mask)
    private void MarkStackRead(int frameno, int spi)
    {
        if (spi is >= 0 and < 64)
        {
            StackLive.MarkStackRead(_cur, frameno, _insnIdx, 1UL << spi);
        }
    }

    // kernel: bpf_mark_stack_write(env, frameno, mask)
    private void MarkStackWrite(int frameno, int spi)
    {
        if (spi is >= 0 and < 64)
        {
            StackLive.MarkStackWrite(frameno, 1UL << spi);
        }
    }

    // kernel: clean_live_states(): the complete states at this instruction, in this call chain, not cleaned yet
    private void CleanLiveStates(int insnIdx, List<ExploredState>? list)
    {
        if (list is null)
        {
            return;
        }

        foreach (var e in list)
        {
            var st = e.State;
            if (st.Pending > 0 || st.InsnIdx != insnIdx || st.CurFrame != _cur.CurFrame || !SameCallsites(st, _cur) ||
                st.Cleaned || IncompleteReadMarks(st))
            {
                continue;
            }

            CleanVerifierState(st);
        }
    }

    // kernel: clean_verifier_state() / clean_func_state(), the stack part (registers dead at a frame's resume point
    // are left out of the comparison by StatesEqual, which reads the same live_regs_before table)
    private void CleanVerifierState(VerifierState st)
    {
        var live = StackLive;
        live.QueryInit(st);
        st.Cleaned = true;
        for (int f = 0; f <= st.CurFrame; f++)
        {
            var frame = st.Frames[f]!;
            for (int spi = 0; spi < frame.AllocatedStack / 8; spi++)
            {
                if (!live.StackSlotAlive(frame.Frameno, spi))
                {
                    ref var slot = ref frame.Stack[spi];
                    slot.Spilled = RegState.NotInit;
                    for (int j = 0; j < 8; j++)
                    {
                        slot.Types[j] = SlotType.Invalid;
                    }
                }
            }
        }
    }

    // kernel: incomplete_read_marks(): the state's loop visit has backedges still to propagate
    private bool IncompleteReadMarks(VerifierState st) =>
        _sccBackedges is { Count: > 0 } && SccCallchain(st) is { } chain && _sccBackedges.Contains(chain);

    private HashSet<string>? _sccBackedges;

    // kernel: add_scc_backedge(), as far as incomplete_read_marks() sees it: a callback iteration pruned against a
    // pending state at its call instruction
    private void AddSccBackedge(VerifierState st)
    {
        if (SccCallchain(st) is { } chain)
        {
            (_sccBackedges ??= []).Add(chain);
        }
    }
}
