using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using VethXdp.Verifier.Cfg;
using VethXdp.Verifier.Domains;
using VethXdp.Verifier.Log;
using VethXdp.Verifier.State;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Checks;

/// <summary>The verifier's environment and main loop (the kernel's <c>struct bpf_verifier_env</c> and
/// <c>do_check()</c>). One instance verifies one program once; the checks live in the partial files
/// (<c>Verifier.Alu.cs</c>, <c>.Mem.cs</c>, <c>.Jmp.cs</c>, <c>.Call.cs</c>, <c>.Print.cs</c>).</summary>
/// <remarks>
/// A rejection unwinds through <see cref="RejectException"/> (a cold path, like the kernel's <c>return -EACCES</c>
/// chain), carrying the kind; the text has been written to the log on the way.
/// The loader is root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_ADMIN): <c>allow_ptr_leaks</c>,
/// <c>allow_uninit_stack</c>, <c>bypass_spec_v1/v4</c> and <c>bpf_capable</c> are all true, as for a root
/// <c>bpftool prog load</c>, so the unprivileged-only checks (pointer leaks, speculative paths) never fire.
/// </remarks>
internal sealed partial class VerifierEnv
{
    /// <summary>BPF_COMPLEXITY_LIMIT_JMP_SEQ: the most pending branches.</summary>
    private const int ComplexityLimitJmpSeq = 8192;

    /// <summary>BPF_MAX_VAR_OFF.</summary>
    private const long MaxVarOff = 1 << 29;

    /// <summary>MAX_PACKET_OFF.</summary>
    private const int MaxPacketOff = 0xffff;

    /// <summary>The most explored states kept per instruction for pruning.</summary>
    private const int MaxStatesPerInsnKept = 64;

    /// <summary>BEYOND_PKT_END / AT_PKT_END: packet ranges that say the pointer is past the end.</summary>
    private const int BeyondPktEnd = -2;
    private const int AtPktEnd = -1;

    private readonly Instruction[] _insns;
    private readonly VerifierLog _log;
    private readonly StringBuilder _errText = new();
    private readonly Stack<PendingBranch> _branches = new();
    private readonly Dictionary<int, List<VerifierState>> _explored = [];
    private readonly ushort[] _liveRegs;

    private VerifierState _cur = null!;
    private int _insnIdx;
    private int _prevInsnIdx;
    private int _idGen;
    private int _jmpsProcessed;
    private int _prevJmpsProcessed;
    private int _prevInsnProcessed;
    private int _curStates;
    private int _stateIdGen;

    // log bookkeeping (env->prev_log_pos, env->prev_insn_print_pos, scratched_regs, scratched_stack_slots)
    private int _prevLogPos;
    private int _prevInsnPrintPos;
    private uint _scratchedRegs;
    private ulong _scratchedStack;

    public VerifierEnv(Instruction[] insns, ProgramContext prog, IReadOnlyList<MapSpec> maps, CfgResult cfg, VerifierLog log)
    {
        _insns = insns;
        Prog = prog;
        _allMaps = [.. maps];
        Cfg = cfg;
        _log = log;
        Aux = new InsnAux[insns.Length];
        _liveRegs = LiveRegs.Compute(insns, cfg.Subprogs, prog.Type);
    }

    /// <summary>What is being verified: type, attach type, context model, helpers.</summary>
    public ProgramContext Prog { get; }

    /// <summary>The object's maps (lddw src=1/2 imm = index).</summary>
    public IReadOnlyList<MapSpec> Maps => _allMaps;

    private readonly List<MapSpec> _allMaps;

    /// <summary>The control-flow facts (subprograms, prune points).</summary>
    public CfgResult Cfg { get; }

    /// <summary>Per-instruction facts gathered on the way (<c>insn_aux_data</c>).</summary>
    public InsnAux[] Aux { get; }

    /// <summary>The counters.</summary>
    public VerifierStats Stats { get; } = new();

    /// <summary>Deepest stack use per subprogram (<c>subprog_info[i].stack_depth</c>).</summary>
    public int[] StackDepth { get; private set; } = [];

    /// <summary>The live-registers table (bit i: Ri is read before written on some path from the insn).</summary>
    public ReadOnlySpan<ushort> LiveRegsBefore => _liveRegs;

    /// <summary>Runs the exploration from the main function (<c>do_check_main</c>). Returns the rejection, or null.</summary>
    public VerifierError? Run()
    {
        StackDepth = new int[Math.Max(1, Cfg.Subprogs.Count)];
        try
        {
            InitState();
            DoCheck();
            return null;
        }
        catch (RejectException r)
        {
            string msg = _errText.ToString().TrimEnd('\n');
            return new VerifierError(r.Insn, r.Kind, msg);
        }
    }

    // kernel: do_check_common() for the main program: R1 = ctx, R10 = fp, everything else NOT_INIT.
    private void InitState()
    {
        _cur = new VerifierState();
        var f = new FuncState { Frameno = 0, Subprogno = 0, CallSite = -1 };
        InitRegs(f);
        f.Regs[1] = RegState.Pointer(RegType.PtrToCtx);
        _cur.Frames[0] = f;
        MarkAllScratched();
    }

    private static void InitRegs(FuncState f)
    {
        for (int i = 0; i < 11; i++)
        {
            f.Regs[i] = RegState.NotInit;
        }

        f.Regs[10] = RegState.Pointer(RegType.PtrToStack);
        f.Regs[10].Frameno = f.Frameno;
    }

    // kernel: do_check()
    private void DoCheck()
    {
        bool doPrintState = false;
        _insnIdx = 0;
        _prevInsnIdx = -1;
        while (true)
        {
            if ((uint)_insnIdx >= (uint)_insns.Length)
            {
                Fail(RejectKind.Invalid, $"invalid insn idx {_insnIdx} insn_cnt {_insns.Length}");
            }

            var insn = _insns[_insnIdx];
            if (++Stats.InsnProcessed > VerifierStats.InsnLimit)
            {
                Fail(RejectKind.TooComplex, Msg.TooLarge, Stats.InsnProcessed);
            }

            if (Cfg.PrunePoints[_insnIdx] && IsStateVisited(_insnIdx))
            {
                if (_log.IsLevel1Or2)
                {
                    if (doPrintState)
                    {
                        _log.Write($"\nfrom {_prevInsnIdx} to {_insnIdx}: safe\n");
                    }
                    else
                    {
                        _log.Write($"{_insnIdx}: safe\n");
                    }
                }

                // process_bpf_exit: mark_verifier_state_scratched()
                MarkAllScratched();
                if (!PopBranch())
                {
                    break;
                }

                doPrintState = true;
                continue;
            }

            if (_log.IsLevel2 && doPrintState)
            {
                _log.Write($"\nfrom {_prevInsnIdx} to {_insnIdx}:");
                PrintVerifierState(_cur, _cur.CurFrame, printAll: true);
                doPrintState = false;
            }

            if (_log.IsLevel1Or2)
            {
                if (StateScratched)
                {
                    PrintInsnState();
                }

                _log.LineInfo(_insnIdx, "; ");
                _prevLogPos = _log.Position;
                _log.Write($"{_insnIdx}: ");
                _log.Write(FormatInsn(_insnIdx));
                _log.Write("\n");
                _prevInsnPrintPos = _log.Position - _prevLogPos;
                _prevLogPos = _log.Position;
            }

            _errText.Clear();
            Aux[_insnIdx].Seen = true;
            _prevInsnIdx = _insnIdx;
            bool exit = DoCheckInsn(insn, ref doPrintState);
            if (exit)
            {
                MarkAllScratched();
                if (!PopBranch())
                {
                    break;
                }

                doPrintState = true;
                continue;
            }
        }
    }

    // kernel: do_check_insn(); true when the path ended (BPF_EXIT of the main function).
    private bool DoCheckInsn(Instruction insn, ref bool doPrintState)
    {
        switch (insn.Class)
        {
            case OpClass.Alu:
            case OpClass.Alu64:
                CheckAluOp(insn);
                _insnIdx++;
                return false;
            case OpClass.Ldx:
                CheckLoadMem(insn);
                _insnIdx++;
                return false;
            case OpClass.Stx:
                CheckStoreReg(insn);
                _insnIdx++;
                return false;
            case OpClass.St:
                CheckStoreImm(insn);
                _insnIdx++;
                return false;
            case OpClass.Ld:
                CheckLd(insn);
                return false;
            default:
                return CheckJmpClass(insn, ref doPrintState);
        }
    }

    // --- branches -----------------------------------------------------------------------------------------------

    private sealed record PendingBranch(VerifierState State, int InsnIdx, int PrevInsnIdx, int LogPos);

    // kernel: push_stack(): the other side of a branch, explored later from a copy of the current state.
    private VerifierState PushBranch(int insnIdx, int prevInsnIdx)
    {
        var copy = _cur.Clone();
        _branches.Push(new PendingBranch(copy, insnIdx, prevInsnIdx, _log.Position));
        if (_branches.Count > ComplexityLimitJmpSeq)
        {
            Fail(RejectKind.TooComplex, Msg.TooComplexJumps, _branches.Count);
        }

        return copy;
    }

    // kernel: pop_stack(); at level 1 the log goes back to where the branch was pushed, so a rejected program's log
    // shows only the path that failed.
    private bool PopBranch()
    {
        if (_branches.Count == 0)
        {
            return false;
        }

        var b = _branches.Pop();
        _cur = b.State;
        _insnIdx = b.InsnIdx;
        _prevInsnIdx = b.PrevInsnIdx;
        if (!_log.IsLevel2)
        {
            _log.ResetTo(b.LogPos);
        }

        return true;
    }

    // --- pruning (exact states over live registers) -------------------------------------------------------------

    // kernel: is_state_visited(). Part 1 prunes only on exact equality of every live register, every stack slot and
    // every reference: a state equal to one already explored from the same instruction leads to the same outcomes
    // (the exploration is deterministic in the state), so skipping it is sound. Registers dead at the instruction
    // (by the static liveness of LiveRegs) cannot influence any later check, so ignoring them is sound too.
    private bool IsStateVisited(int insnIdx)
    {
        bool forceNewState = Cfg.ForceCheckpoints[insnIdx];
        bool addNewState = forceNewState;
        if (_jmpsProcessed - _prevJmpsProcessed >= 2 && Stats.InsnProcessed - _prevInsnProcessed >= 8)
        {
            addNewState = true;
        }

        ushort live = _liveRegs[insnIdx];
        if (_explored.TryGetValue(insnIdx, out var list))
        {
            foreach (var old in list)
            {
                if (StatesEqual(old, _cur, live))
                {
                    // An equal state on this very path: the loop comes back unchanged and never ends (the kernel's
                    // states_maybe_looping + exact states_equal). Pruning against it would accept an infinite loop.
                    if (_cur.PathStates.Contains(old.SavedId))
                    {
                        _log.LineInfo(insnIdx, "; ");
                        Error("infinite loop detected at insn {0}", insnIdx);
                        _log.Write("cur state:");
                        PrintVerifierState(_cur, _cur.CurFrame, printAll: true);
                        _log.Write("old state:");
                        PrintVerifierState(old, _cur.CurFrame, printAll: true);
                        FailLogged(RejectKind.Invalid);
                    }

                    return true;
                }
            }
        }
        else
        {
            list = null;
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

        // Keep the list short (the kernel evicts states that keep missing): comparing against fewer old states
        // prunes less, which is always sound.
        if (list.Count >= MaxStatesPerInsnKept)
        {
            list.RemoveAt(0);
            _curStates--;
        }

        Stats.MaxStatesPerInsn = Math.Max(Stats.MaxStatesPerInsn, list.Count);
        var saved = _cur.Clone();
        saved.SavedId = ++_stateIdGen;
        _cur.PathStates.Add(saved.SavedId);
        list.Add(saved);
        Stats.TotalStates++;
        _curStates++;
        Stats.PeakStates = Math.Max(Stats.PeakStates, _curStates);
        return false;
    }

    private static bool StatesEqual(VerifierState old, VerifierState cur, ushort liveInCurFrame)
    {
        if (old.CurFrame != cur.CurFrame || old.ActiveLockId != cur.ActiveLockId || old.Refs.Count != cur.Refs.Count)
        {
            return false;
        }

        for (int i = 0; i < old.Refs.Count; i++)
        {
            if (old.Refs[i] != cur.Refs[i])
            {
                return false;
            }
        }

        for (int fr = 0; fr <= cur.CurFrame; fr++)
        {
            var a = old.Frames[fr]!;
            var b = cur.Frames[fr]!;
            if (a.CallSite != b.CallSite || a.AllocatedStack != b.AllocatedStack || a.InCallbackFn != b.InCallbackFn)
            {
                return false;
            }

            // Caller frames: their registers are all kept (callee-saved R6-R9 and whatever the caller reads later);
            // compare every one. The innermost frame: only registers live here.
            for (int r = 0; r < 11; r++)
            {
                if (fr == cur.CurFrame && (liveInCurFrame & (1 << r)) == 0)
                {
                    continue;
                }

                if (!a.Regs[r].Equals(b.Regs[r]))
                {
                    return false;
                }
            }

            for (int s = 0; s < a.AllocatedStack / 8; s++)
            {
                if (!a.Stack[s].Equals(b.Stack[s]))
                {
                    return false;
                }
            }
        }

        return true;
    }

    // --- registers ----------------------------------------------------------------------------------------------

    private FuncState Func => _cur.Cur;

    private ref RegState Reg(int regno) => ref _cur.Cur.Regs[regno];

    // kernel: check_reg_arg(env, regno, SRC_OP)
    private void CheckRegRead(int regno)
    {
        if (regno >= 11)
        {
            Fail(RejectKind.Invalid, Msg.RegInvalid, regno);
        }

        MarkRegScratched(regno);
        if (Reg(regno).Type == RegType.NotInit)
        {
            Fail(RejectKind.Access, Msg.RegNotReadable, regno);
        }
    }

    // kernel: check_reg_arg(env, regno, DST_OP / DST_OP_NO_MARK)
    private void CheckRegWrite(int regno, bool mark)
    {
        if (regno >= 11)
        {
            Fail(RejectKind.Invalid, Msg.RegInvalid, regno);
        }

        MarkRegScratched(regno);
        if (regno == 10)
        {
            Fail(RejectKind.Access, Msg.FramePointerReadOnly);
        }

        if (mark)
        {
            MarkRegUnknown(ref Reg(regno));
        }
    }

    private static void MarkRegUnknown(ref RegState r)
    {
        r = RegState.UnknownScalar;
    }

    private static void MarkRegKnownZero(ref RegState r)
    {
        var type = r.Type;
        r = RegState.Pointer(type);
    }

    private int NewId() => ++_idGen;

    // --- errors -------------------------------------------------------------------------------------------------

    /// <summary>Writes one line of the error (the kernel's <c>verbose()</c> on the rejecting path).</summary>
    private void Error(string line)
    {
        _errText.Append(line).Append('\n');
        _log.WriteLine(line);
    }

    private void Error(string template, params object?[] args) =>
        Error(string.Format(CultureInfo.InvariantCulture, template, args));

    [DoesNotReturn]
    private void Fail(RejectKind kind, string template, params object?[] args)
    {
        Error(args.Length == 0 ? template : string.Format(CultureInfo.InvariantCulture, template, args));
        throw new RejectException(_insnIdx, kind);
    }

    [DoesNotReturn]
    private void FailLogged(RejectKind kind) => throw new RejectException(_insnIdx, kind);

    private sealed class RejectException(int insn, RejectKind kind) : Exception
    {
        public int Insn { get; } = insn;

        public RejectKind Kind { get; } = kind;
    }
}

/// <summary>What the verifier learned about one instruction (<c>struct bpf_insn_aux_data</c>).</summary>
internal struct InsnAux
{
    /// <summary>Some path reached it.</summary>
    public bool Seen;

    /// <summary>For loads and stores: the pointer type the base register had (<c>ptr_type</c>); Unset when none
    /// yet.</summary>
    public RegType PtrType;

    /// <summary>PtrType was recorded.</summary>
    public bool PtrTypeSet;

    /// <summary>For context accesses: the field size the context model reported (<c>ctx_field_size</c>).</summary>
    public int CtxFieldSize;

    /// <summary>For helper calls on maps: the map index seen (-1 when several).</summary>
    public int MapIndex;
}
