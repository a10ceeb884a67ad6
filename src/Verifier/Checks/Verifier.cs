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



    /// <summary>BEYOND_PKT_END / AT_PKT_END: packet ranges that say the pointer is past the end.</summary>
    private const int BeyondPktEnd = -2;
    private const int AtPktEnd = -1;

    private readonly Instruction[] _insns;
    private readonly VerifierLog _log;
    private readonly StringBuilder _errText = new();
    private readonly Stack<PendingBranch> _branches = new();
    private readonly Dictionary<int, List<ExploredState>> _explored = [];
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
            PrepareMainFuncArgs();
            DoCheck();
            DoCheckSubprogs();
            return null;
        }
        catch (RejectException r)
        {
            string msg = _errText.ToString().TrimEnd('\n');
            return new VerifierError(r.Insn, r.Kind, msg) { ErrnoOverride = r.Errno };
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
        _insnIdx = _cur.Frames[0]!.Subprogno == 0 ? 0 : Cfg.Subprogs[_cur.Frames[0]!.Subprogno].Start; // a global function's pass starts at it
        _prevInsnIdx = -1;
        StackLive.ResetLiveStackCallchain();
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

            _cur.LastInsnIdx = _prevInsnIdx;
            _cur.InsnIdx = _insnIdx;
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
                EndPath();
                StackLive.UpdateLiveStack(_cur);
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
            Recorder?.Record(_insnIdx, _cur); // VerifierOptions.RecordStates: the state this path checks the insn in
            Aux[_insnIdx].Seen = true;
            PushHistory(insn);
            _prevInsnIdx = _insnIdx;
            StackLive.ResetStackWriteMarks(_cur, _insnIdx);
            bool exit = DoCheckInsn(insn, ref doPrintState);
            StackLive.CommitStackWriteMarks();
            if (exit)
            {
                MarkAllScratched();
                EndPath();
                StackLive.UpdateLiveStack(_cur);
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

    // kernel: push_stack(): the other side of a branch, explored later from a copy of the current state. errno is
    // what the caller returns when push_stack() fails (6.18: NULL; check_cond_jmp_op() -EFAULT, push_callback_call()
    // -ENOMEM).
    private VerifierState PushBranch(int insnIdx, int prevInsnIdx, string errno = "EFAULT")
    {
        var copy = _cur.Clone();
        if (copy.Parent is { } parent)
        {
            parent.Pending++;
        }

        PushPending(copy, insnIdx, prevInsnIdx, errno);
        return copy;
    }

    // kernel: push_stack() / push_async_cb(): a state to explore later, within the jump-sequence limit
    private void PushPending(VerifierState state, int insnIdx, int prevInsnIdx, string errno)
    {
        _branches.Push(new PendingBranch(state, insnIdx, prevInsnIdx, _log.Position));
        if (_branches.Count > ComplexityLimitJmpSeq)
        {
            Error(Msg.TooComplexJumps, _branches.Count);
            throw new RejectException(_insnIdx, RejectKind.TooComplex) { Errno = errno };
        }
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

        /// <summary>The errno when it is not the kind's (VerifierError.ErrnoOverride), or null.</summary>
        public string? Errno { get; init; }
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
