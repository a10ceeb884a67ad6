using System.Globalization;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Btf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Cfg;

/// <summary>Who loads the program: the capabilities and JIT settings the control-flow checks depend on.</summary>
public sealed record CfgOptions
{
    /// <summary>The default: a root loader on a JIT kernel, as on the reference machine.</summary>
    public static readonly CfgOptions Root = new();

    /// <summary>CAP_BPF (env->bpf_capable): loops and BPF-to-BPF calls are allowed. Without it a back-edge and any
    /// call to a BPF function are refused.</summary>
    public bool BpfCapable { get; init; } = true;

    /// <summary>prog->jit_requested: frames are rounded to 16 bytes (else to 32, at least 1 byte, the interpreter's
    /// granularity) when stack depths are combined.</summary>
    public bool JitRequested { get; init; } = true;
}

/// <summary>A function of the program (the kernel's <c>struct bpf_subprog_info</c>, the parts the control-flow
/// checks fill).</summary>
public sealed class SubprogInfo
{
    /// <summary>The function number (func#N); 0 is the entry.</summary>
    public int Index { get; init; }

    /// <summary>Its first slot.</summary>
    public int Start { get; init; }

    /// <summary>One past its last slot (the next function's start, or the program length).</summary>
    public int End { get; internal set; }

    /// <summary>The last <c>exit</c> in the function (<c>exit_idx</c>), or -1.</summary>
    public int ExitIdx { get; internal set; } = -1;

    /// <summary>The function calls bpf_tail_call.</summary>
    public bool HasTailCall { get; internal set; }

    /// <summary>The function uses the legacy packet loads (LD_ABS/LD_IND).</summary>
    public bool HasLdAbs { get; internal set; }

    /// <summary>The function's name from the object (BTF func_info or symbols), if known.</summary>
    public string? Name { get; internal set; }

    /// <summary>A global function (verified on its own, with its arguments from BTF).</summary>
    public bool IsGlobal { get; internal set; }

    /// <summary>An asynchronous callback (e.g. a bpf_timer callback): its frame does not count in the caller's
    /// stack. Set by the exploration when it learns it; false here.</summary>
    public bool IsAsyncCallback { get; set; }
}

/// <summary>A loop edge: a jump (or fall-through) from <paramref name="From"/> back to an instruction on the current
/// DFS path, <paramref name="To"/>.</summary>
/// <param name="From">The jumping instruction.</param>
/// <param name="To">The target, a loop head.</param>
public readonly record struct BackEdge(int From, int To);

/// <summary>The outcome of <see cref="CfgCheck"/>.</summary>
public sealed class CfgResult
{
    internal CfgResult(VerifierError? error, IReadOnlyList<SubprogInfo> subprogs, IReadOnlyList<BackEdge> backEdges,
        bool[] prunePoints, bool[] jmpPoints, bool[] forceCheckpoints, bool[] callsCallback)
    {
        Error = error;
        Subprogs = subprogs;
        BackEdges = backEdges;
        PrunePoints = prunePoints;
        JmpPoints = jmpPoints;
        ForceCheckpoints = forceCheckpoints;
        CallsCallback = callsCallback;
    }

    /// <summary>The rejection, or null when the control flow is acceptable.</summary>
    public VerifierError? Error { get; }

    /// <summary>True when <see cref="Error"/> is null.</summary>
    public bool Ok => Error is null;

    /// <summary>The functions, in order of their first slot (complete only when the subprogram discovery
    /// succeeded).</summary>
    public IReadOnlyList<SubprogInfo> Subprogs { get; }

    /// <summary>Every back-edge the DFS met, in the order it met them: the loops the state exploration must bound
    /// (a root loader's loops are accepted here and proven finite there).</summary>
    public IReadOnlyList<BackEdge> BackEdges { get; }

    /// <summary>insn_aux_data[i].prune_point: states are compared (and saved) here.</summary>
    public IReadOnlyList<bool> PrunePoints { get; }

    /// <summary>insn_aux_data[i].jmp_point: a non-linear entry; the jump history records arrivals here.</summary>
    public IReadOnlyList<bool> JmpPoints { get; }

    /// <summary>insn_aux_data[i].force_checkpoint: a state must be saved here (may_goto, callback calls).</summary>
    public IReadOnlyList<bool> ForceCheckpoints { get; }

    /// <summary>insn_aux_data[i].calls_callback: a helper call that runs a BPF callback synchronously.</summary>
    public IReadOnlyList<bool> CallsCallback { get; }
}

/// <summary>The control-flow passes of Linux 6.18's <c>bpf_check()</c> that run before the state exploration:
/// <c>add_subprog_and_kfunc</c> (function discovery), <c>check_subprogs</c> (jumps stay inside their function, no
/// function falls through) and <c>check_cfg</c> (the DFS: jumps in range, every instruction reachable, no jump into a
/// 64-bit immediate load, loops only for CAP_BPF); and, after the exploration, <c>check_max_stack_depth</c>.</summary>
/// <remarks>The checks run on raw slots, so programs that the structural <see cref="InstructionValidator"/> would
/// refuse (a jump out of range) get the kernel's message. Kfunc calls and exception callbacks (BTF decl tags) are
/// not resolved here; jump tables (<c>gotox</c>) are not supported by the ISA layer.</remarks>
public static class CfgCheck
{
    /// <summary>BPF_MAX_SUBPROGS.</summary>
    public const int MaxSubprogs = 256;

    /// <summary>MAX_CALL_FRAMES.</summary>
    public const int MaxCallFrames = 8;

    /// <summary>MAX_BPF_STACK.</summary>
    public const int MaxBpfStack = 512;

    // check_cfg's DFS labels (see the pseudo code above push_insn in verifier.c)
    private const int Discovered = 0x10;
    private const int Explored = 0x20;
    private const int Fallthrough = 1;
    private const int Branch = 2;
    private const int DoneExploring = 0;
    private const int KeepExploring = 1;

    // helper ids whose calls the CFG pass marks (include/uapi/linux/bpf.h)
    private const int FuncTailCall = 12;
    private const int FuncForEachMapElem = 164;
    private const int FuncTimerSetCallback = 170;
    private const int FuncFindVma = 180;
    private const int FuncLoop = 181;
    private const int FuncUserRingbufDrain = 209;

    // BPF_JMP | BPF_JCOND: may_goto
    private const byte MayGoto = 0xe5;

    /// <summary>Checks a program as the object defines it (its line info feeds the log; its function table names the
    /// functions).</summary>
    /// <param name="spec">The linked program.</param>
    /// <param name="options">The loader's capabilities (root by default).</param>
    /// <param name="log">The log to write to, or null.</param>
    public static CfgResult Check(ProgramSpec spec, CfgOptions? options = null, VerifierLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var slots = spec.Slots.ToArray();
        var result = Check(slots, options, log);
        foreach (var fn in spec.Functions)
        {
            foreach (var sp in result.Subprogs)
            {
                if (sp.Start == fn.StartSlot)
                {
                    sp.Name = fn.Name;
                    sp.IsGlobal = fn.IsGlobal;
                }
            }
        }

        if (result.Ok && (CheckAbnormalReturn(spec, result.Subprogs) ?? CheckBtfFuncReturns(spec, result.Subprogs)) is { } btfError)
        {
            (log ?? VerifierLog.Disabled).WriteLine(btfError);
            return new CfgResult(new VerifierError(-1, RejectKind.Invalid, btfError), result.Subprogs, result.BackEdges,
                [.. result.PrunePoints], [.. result.JmpPoints], [.. result.ForceCheckpoints], [.. result.CallsCallback]);
        }

        return result;
    }

    // kernel: check_btf_info() -> check_abnormal_return(): a program loaded with neither func_info nor line_info may
    // not use LD_ABS or tail calls in a subprogram (without BTF nothing says the subprogram returns an int).
    private static string? CheckAbnormalReturn(ProgramSpec spec, IReadOnlyList<SubprogInfo> subprogs)
    {
        if (spec.Lines.Count > 0)
        {
            return null;
        }

        foreach (var f in spec.Functions)
        {
            if (f.HasBtf)
            {
                return null;
            }
        }

        for (int i = 1; i < subprogs.Count; i++)
        {
            if (subprogs[i].HasLdAbs)
            {
                return "LD_ABS is not allowed in subprogs without BTF";
            }

            if (subprogs[i].HasTailCall)
            {
                return "tail_call is not allowed in subprogs without BTF";
            }
        }

        return null;
    }

    // kernel: check_btf_func(): with func_info, a subprogram (not the main program) that uses LD_ABS or makes a tail
    // call must return a scalar: a small int or an enum, after modifiers and typedefs. (Linux runs this between
    // check_subprogs and resolve_pseudo_ldimm64; here it follows the control-flow checks.)
    private static string? CheckBtfFuncReturns(ProgramSpec spec, IReadOnlyList<SubprogInfo> subprogs)
    {
        for (int i = 1; i < subprogs.Count; i++)
        {
            var sp = subprogs[i];
            if (!sp.HasLdAbs && !sp.HasTailCall)
            {
                continue;
            }

            FunctionInfo? fn = null;
            foreach (var f in spec.Functions)
            {
                if (f.StartSlot == sp.Start && f.HasBtf)
                {
                    fn = f;
                    break;
                }
            }

            if (fn?.Btf is not { } btf || btf.TryGet(fn.BtfFuncId) is not BtfFunc func || btf.TryGet(func.TypeId) is not BtfFuncProto proto)
            {
                continue;
            }

            var ret = btf.SkipModsAndTypedefs(proto.ReturnTypeId, out _);
            bool scalarReturn = ret is BtfInt { Size: <= 8 } or BtfEnum;
            if (scalarReturn)
            {
                continue;
            }

            return sp.HasLdAbs ? "LD_ABS is only allowed in functions that return 'int'." : "tail_call is only allowed in functions that return 'int'.";
        }

        return null;
    }

    /// <summary>Checks an assembled or decoded program.</summary>
    /// <param name="program">The program.</param>
    /// <param name="options">The loader's capabilities (root by default).</param>
    /// <param name="log">The log to write to, or null.</param>
    public static CfgResult Check(BpfProgram program, CfgOptions? options = null, VerifierLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        return Check(program.Slots, options, log);
    }

    /// <summary>Checks raw slots, in the kernel's order: function discovery, <c>check_subprogs</c>, <c>check_cfg</c>.
    /// The first failure is returned (and logged) as Linux reports it.</summary>
    /// <param name="slots">The instruction slots.</param>
    /// <param name="options">The loader's capabilities (root by default).</param>
    /// <param name="log">The log to write to, or null.</param>
    public static CfgResult Check(ReadOnlySpan<Instruction> slots, CfgOptions? options = null, VerifierLog? log = null) =>
        CheckCore(slots, options, log, subprogsOnly: false);

    /// <summary>Only the passes Linux runs before <c>resolve_pseudo_ldimm64</c>: <c>add_subprog_and_kfunc</c> and
    /// <c>check_subprogs</c>. The first failure (logged), or null.</summary>
    internal static VerifierError? CheckSubprogs(ReadOnlySpan<Instruction> slots, VerifierLog log)
    {
        if (slots.Length == 0)
        {
            return null; // bpf_prog_load refuses an empty program before the verifier runs; Check reports it
        }

        var probe = CheckCore(slots, CfgOptions.Root, VerifierLog.Disabled, subprogsOnly: true);
        return probe.Ok ? null : CheckCore(slots, CfgOptions.Root, log, subprogsOnly: true).Error;
    }

    private static CfgResult CheckCore(ReadOnlySpan<Instruction> slots, CfgOptions? options, VerifierLog? log, bool subprogsOnly)
    {
        options ??= CfgOptions.Root;
        log ??= VerifierLog.Disabled;
        int n = slots.Length;
        var prune = new bool[n];
        var jmp = new bool[n];
        var force = new bool[n];
        var callsCb = new bool[n];
        var backEdges = new List<BackEdge>();
        var subprogs = new List<SubprogInfo>();

        CfgResult Fail(int insn, RejectKind kind, string msg) =>
            new(new VerifierError(insn, kind, msg), subprogs, backEdges, prune, jmp, force, callsCb);

        // bpf_prog_load: an empty program, or more than BPF_COMPLEXITY_LIMIT_INSNS instructions, is refused with
        // -E2BIG before the verifier runs, so there is no log and no message.
        if (n == 0 || n > VerifierStats.InsnLimit)
        {
            return Fail(-1, RejectKind.TooComplex, string.Empty);
        }

        // --- add_subprog_and_kfunc -------------------------------------------------------------------------------
        var starts = new SortedSet<int> { 0 };
        for (int i = 0; i < n; i++)
        {
            var insn = slots[i];
            bool pseudoFunc = IsPseudoFunc(insn);
            bool pseudoCall = IsPseudoCall(insn);
            bool kfunc = insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Kfunc;
            if (!pseudoFunc && !pseudoCall && !kfunc)
            {
                continue;
            }

            if (!options.BpfCapable)
            {
                log.WriteLine(Msg.CallsNeedCapBpf);
                return Fail(i, RejectKind.Permission, Msg.CallsNeedCapBpf);
            }

            if (kfunc)
            {
                continue; // add_kfunc_call: resolved against kernel BTF by the later passes
            }

            long target = (long)i + insn.Imm + 1;
            if (target < 0 || target >= n)
            {
                log.WriteLine(Msg.CallToInvalidDestination);
                return Fail(i, RejectKind.Invalid, Msg.CallToInvalidDestination);
            }

            if (!starts.Contains((int)target) && starts.Count >= MaxSubprogs)
            {
                log.WriteLine(Msg.TooManySubprograms);
                return Fail(i, RejectKind.TooComplex, Msg.TooManySubprograms);
            }

            starts.Add((int)target);
        }

        int[] startArr = [.. starts];
        for (int k = 0; k < startArr.Length; k++)
        {
            subprogs.Add(new SubprogInfo { Index = k, Start = startArr[k], End = k + 1 < startArr.Length ? startArr[k + 1] : n });
        }

        if (log.IsLevel2)
        {
            foreach (var sp in subprogs)
            {
                log.Verbose(Msg.FuncStart, sp.Index, sp.Start);
            }
        }

        // --- check_subprogs: every jump stays inside its function; no function falls into the next --------------
        int cur = 0;
        int subStart = subprogs[0].Start, subEnd = subprogs[0].End;
        for (int i = 0; i < n; i++)
        {
            var insn = slots[i];
            byte code = insn.Opcode;
            var cls = insn.Class;
            if (code == Op.Call && insn.SrcReg == (int)CallKind.Helper && insn.Imm == FuncTailCall)
            {
                subprogs[cur].HasTailCall = true;
            }

            if (cls == OpClass.Ld && insn.Mode is MemMode.Abs or MemMode.Ind)
            {
                subprogs[cur].HasLdAbs = true;
            }

            if ((cls == OpClass.Jmp || cls == OpClass.Jmp32) && insn.JmpOp != JmpOp.Call)
            {
                if (insn.JmpOp == JmpOp.Exit)
                {
                    subprogs[cur].ExitIdx = i;
                }
                else
                {
                    long off = (long)i + JmpOffset(insn) + 1;
                    if (off < subStart || off >= subEnd)
                    {
                        string msg = Format(Msg.JumpOutOfRange, i, off);
                        log.WriteLine(msg);
                        return Fail(i, RejectKind.Invalid, msg);
                    }
                }
            }

            if (i == subEnd - 1)
            {
                // the last instruction must be an exit or an unconditional jump (back)
                if (code != Op.Exit && code != Op.Ja32 && code != Op.Ja)
                {
                    log.WriteLine(Msg.LastInsnNotExit);
                    return Fail(i, RejectKind.Invalid, Msg.LastInsnNotExit);
                }

                cur++;
                if (cur < subprogs.Count)
                {
                    subStart = subprogs[cur].Start;
                    subEnd = subprogs[cur].End;
                }
            }
        }

        if (subprogsOnly)
        {
            return new CfgResult(null, subprogs, backEdges, prune, jmp, force, callsCb);
        }

        // --- check_cfg: non-recursive DFS from insn 0 --------------------------------------------------------------
        var state = new int[n];
        var stack = new int[n];
        int sp0 = 0;
        state[0] = Discovered;
        stack[sp0++] = 0;
        var dfs = new Dfs(slots, state, stack, prune, jmp, force, callsCb, backEdges, options, log);
        dfs.StackSize = sp0;
        while (dfs.StackSize > 0)
        {
            int t = stack[dfs.StackSize - 1];
            int ret = dfs.VisitInsn(t, out var err);
            if (err is not null)
            {
                return new CfgResult(err, subprogs, backEdges, prune, jmp, force, callsCb);
            }

            if (ret == DoneExploring)
            {
                state[t] = Explored;
                dfs.StackSize--;
            }
        }

        for (int i = 0; i < n; i++)
        {
            if (state[i] != Explored)
            {
                string msg = Format(Msg.UnreachableInsn, i);
                log.WriteLine(msg);
                return Fail(i, RejectKind.Invalid, msg);
            }

            if (slots[i].IsLdImm64)
            {
                if (i + 1 < n && state[i + 1] != 0)
                {
                    string msg = Format(Msg.JumpIntoLdImm64, i);
                    log.WriteLine(msg);
                    return Fail(i, RejectKind.Invalid, msg);
                }

                i++; // skip the second half of ldimm64
            }
        }

        return new CfgResult(null, subprogs, backEdges, prune, jmp, force, callsCb);
    }

    /// <summary>The kernel's <c>check_max_stack_depth</c>, run after the exploration has measured each function's
    /// stack: walks every static call chain from the entry (BPF-to-BPF calls and callbacks passed by address) and
    /// refuses a chain whose frames, rounded as the JIT or interpreter allocates them, exceed 512 bytes, a chain
    /// deeper than 8 frames, and a tail call under 256 bytes or more of caller frames. XDP, tc and socket filter
    /// programs never get a private stack, so every frame counts.</summary>
    /// <param name="slots">The instruction slots.</param>
    /// <param name="subprogs">The functions from <see cref="Check(ReadOnlySpan{Instruction}, CfgOptions?, VerifierLog?)"/>.</param>
    /// <param name="stackDepths">The stack depth of each function, in bytes.</param>
    /// <param name="options">The loader settings (JIT rounding).</param>
    /// <param name="log">The log to write to, or null.</param>
    public static VerifierError? CheckMaxStackDepth(ReadOnlySpan<Instruction> slots, IReadOnlyList<SubprogInfo> subprogs,
        ReadOnlySpan<int> stackDepths, CfgOptions? options = null, VerifierLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(subprogs);
        options ??= CfgOptions.Root;
        log ??= VerifierLog.Disabled;

        // All async callbacks start their own chain; the main program's chain starts at 0 (reverse order as the
        // kernel walks them).
        for (int i = subprogs.Count - 1; i >= 0; i--)
        {
            if (i == 0 || subprogs[i].IsAsyncCallback)
            {
                var err = MaxStackDepthFrom(slots, subprogs, stackDepths, i, options, log);
                if (err is not null)
                {
                    return err;
                }
            }
        }

        return null;
    }

    // check_max_stack_depth_subprog, without the private-stack and bpf_throw cases (not for these program types).
    private static VerifierError? MaxStackDepthFrom(ReadOnlySpan<Instruction> slots, IReadOnlyList<SubprogInfo> subprogs,
        ReadOnlySpan<int> stackDepths, int idx, CfgOptions options, VerifierLog log)
    {
        int depth = 0, frame = 0;
        Span<int> retInsn = stackalloc int[MaxCallFrames];
        Span<int> retProg = stackalloc int[MaxCallFrames];
        int i = subprogs[idx].Start;
        bool newFunc = true;
        while (true)
        {
            if (newFunc)
            {
                // A tail call unwinds the current frame but not its callers': with 33 tail calls and 256 bytes of
                // callers the kernel stack could reach 8k, so callers of a tail-calling function must stay below 256.
                if (idx != 0 && subprogs[idx].HasTailCall && depth >= 256)
                {
                    string msg = Format(Msg.TailCallStackTooLarge, depth);
                    log.WriteLine(msg);
                    return new VerifierError(-1, RejectKind.Access, msg);
                }

                depth += RoundUpStackDepth(DepthOf(stackDepths, idx), options);
                if (depth > MaxBpfStack)
                {
                    string msg = Format(Msg.CombinedStackTooLarge, frame + 1, depth);
                    log.WriteLine(msg);
                    return new VerifierError(-1, RejectKind.Access, msg);
                }
            }

            newFunc = false;
            int end = subprogs[idx].End;
            bool called = false;
            for (; i < end; i++)
            {
                if (!IsPseudoCall(slots[i]) && !IsPseudoFunc(slots[i]))
                {
                    continue;
                }

                // remember the instruction and function to return to
                retInsn[frame] = i + 1;
                retProg[frame] = idx;
                int next = i + slots[i].Imm + 1;
                int sidx = FindSubprog(subprogs, next);
                if (sidx < 0)
                {
                    throw new VerifierBugException($"callee not found at insn {next}");
                }

                // async callbacks do not add to this stack unless called directly
                if (subprogs[sidx].IsAsyncCallback && !IsPseudoCall(slots[i]))
                {
                    continue;
                }

                i = subprogs[sidx].Start;
                idx = sidx;
                frame++;
                if (frame >= MaxCallFrames)
                {
                    string msg = Format(Msg.CallStackTooDeepStatic, frame);
                    log.WriteLine(msg);
                    return new VerifierError(-1, RejectKind.TooComplex, msg);
                }

                called = true;
                newFunc = true;
                break;
            }

            if (called)
            {
                continue;
            }

            // end of the function: return to the caller
            if (frame == 0)
            {
                return null;
            }

            depth -= RoundUpStackDepth(DepthOf(stackDepths, idx), options);
            frame--;
            i = retInsn[frame];
            idx = retProg[frame];
        }
    }

    /// <summary>round_up_stack_depth: 16-byte frames under the JIT, else 32-byte frames of at least one byte.</summary>
    /// <param name="stackDepth">The measured depth.</param>
    /// <param name="options">The loader settings.</param>
    public static int RoundUpStackDepth(int stackDepth, CfgOptions? options = null)
    {
        options ??= CfgOptions.Root;
        return options.JitRequested ? (stackDepth + 15) & ~15 : (Math.Max(stackDepth, 1) + 31) & ~31;
    }

    private static int DepthOf(ReadOnlySpan<int> depths, int idx) => idx < depths.Length ? depths[idx] : 0;

    private static int FindSubprog(IReadOnlyList<SubprogInfo> subprogs, int start)
    {
        for (int k = 0; k < subprogs.Count; k++)
        {
            if (subprogs[k].Start == start)
            {
                return k;
            }
        }

        return -1;
    }

    // bpf_jmp_offset: gotol (JMP32 | JA) carries its offset in imm.
    private static long JmpOffset(in Instruction insn) => insn.Opcode == Op.Ja32 ? insn.Imm : insn.Offset;

    private static bool IsPseudoCall(in Instruction insn) => insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Local;

    private static bool IsPseudoFunc(in Instruction insn) => insn.IsLdImm64 && insn.SrcReg == (int)PseudoSrc.Func;

    private static string Format(string template, params object[] args) =>
        string.Format(CultureInfo.InvariantCulture, template, args);

    // The DFS state of check_cfg with visit_insn / push_insn / visit_func_call_insn.
    private ref struct Dfs
    {
        private readonly ReadOnlySpan<Instruction> _slots;
        private readonly int[] _state;
        private readonly int[] _stack;
        private readonly bool[] _prune;
        private readonly bool[] _jmp;
        private readonly bool[] _force;
        private readonly bool[] _callsCb;
        private readonly List<BackEdge> _backEdges;
        private readonly CfgOptions _options;
        private readonly VerifierLog _log;

        public Dfs(ReadOnlySpan<Instruction> slots, int[] state, int[] stack, bool[] prune, bool[] jmp, bool[] force,
            bool[] callsCb, List<BackEdge> backEdges, CfgOptions options, VerifierLog log)
        {
            _slots = slots;
            _state = state;
            _stack = stack;
            _prune = prune;
            _jmp = jmp;
            _force = force;
            _callsCb = callsCb;
            _backEdges = backEdges;
            _options = options;
            _log = log;
            StackSize = 0;
        }

        public int StackSize { get; set; }

        // visit_insn: DoneExploring when every edge of t is labelled, KeepExploring after pushing a successor.
        public int VisitInsn(int t, out VerifierError? err)
        {
            err = null;
            var insn = _slots[t];
            if (IsPseudoFunc(insn))
            {
                return VisitFuncCall(t, visitCallee: true, out err);
            }

            // all non-branch instructions have a single fall-through edge
            if (insn.Class is not (OpClass.Jmp or OpClass.Jmp32))
            {
                return PushInsn(t, t + (insn.IsLdImm64 ? 2 : 1), Fallthrough, out err);
            }

            switch (insn.JmpOp)
            {
                case JmpOp.Exit:
                    return DoneExploring;

                case JmpOp.Call:
                    if (insn.SrcReg == (int)CallKind.Helper)
                    {
                        if (insn.Imm == FuncTimerSetCallback)
                        {
                            // check the state before the call pushes the async callback's state
                            _prune[t] = true;
                        }

                        if (insn.Imm is FuncLoop or FuncForEachMapElem or FuncFindVma or FuncUserRingbufDrain)
                        {
                            // a checkpoint before every callback-calling call lets the repeated visits of the callback
                            // converge
                            _callsCb[t] = true;
                            _force[t] = true;
                            _prune[t] = true;
                            _jmp[t] = true;
                        }
                    }

                    return VisitFuncCall(t, visitCallee: insn.SrcReg == (int)CallKind.Local, out err);

                case JmpOp.Ja:
                {
                    long off = insn.Class == OpClass.Jmp ? insn.Offset : insn.Imm;
                    // unconditional jump with a single edge
                    int ret = PushInsn(t, t + off + 1, Fallthrough, out err);
                    if (ret != DoneExploring || err is not null)
                    {
                        return ret;
                    }

                    _prune[t + off + 1] = true;
                    _jmp[t + off + 1] = true;
                    return ret;
                }

                default:
                {
                    // conditional jump with two edges
                    _prune[t] = true;
                    if (insn.Opcode == MayGoto)
                    {
                        _force[t] = true;
                    }

                    int ret = PushInsn(t, t + 1, Fallthrough, out err);
                    if (ret != DoneExploring || err is not null)
                    {
                        return ret;
                    }

                    return PushInsn(t, (long)t + insn.Offset + 1, Branch, out err);
                }
            }
        }

        // visit_func_call_insn: the fall-through after the call (or ld_imm64), then the callee's entry.
        private int VisitFuncCall(int t, bool visitCallee, out VerifierError? err)
        {
            int size = _slots[t].IsLdImm64 ? 2 : 1;
            int ret = PushInsn(t, t + size, Fallthrough, out err);
            if (ret != DoneExploring || err is not null)
            {
                return ret;
            }

            if (t + size < _slots.Length)
            {
                _prune[t + size] = true;
                // returning from a function is a non-linear edge
                _jmp[t + size] = true;
            }

            if (visitCallee)
            {
                long w = (long)t + _slots[t].Imm + 1;
                _prune[t] = true;
                ret = PushInsn(t, w, Branch, out err);
            }

            return ret;
        }

        // push_insn(t, w, e): label the edge t -> w.
        private int PushInsn(int t, long w, int e, out VerifierError? err)
        {
            err = null;
            if (e == Fallthrough && _state[t] >= (Discovered | Fallthrough))
            {
                return DoneExploring;
            }

            if (e == Branch && _state[t] >= (Discovered | Branch))
            {
                return DoneExploring;
            }

            if (w < 0 || w >= _slots.Length)
            {
                _log.LineInfo(t, t.ToString(CultureInfo.InvariantCulture) + ": ");
                string msg = Format(Msg.JumpOutOfRange, t, w);
                _log.WriteLine(msg);
                err = new VerifierError(t, RejectKind.Invalid, msg);
                return -1;
            }

            int wi = (int)w;
            if (e == Branch)
            {
                // mark the branch target for state pruning
                _prune[wi] = true;
                _jmp[wi] = true;
            }

            if (_state[wi] == 0)
            {
                // tree edge
                _state[t] = Discovered | e;
                _state[wi] = Discovered;
                if (StackSize >= _slots.Length)
                {
                    err = new VerifierError(t, RejectKind.TooComplex, "cfg stack overflow");
                    return -1;
                }

                _stack[StackSize++] = wi;
                return KeepExploring;
            }

            if ((_state[wi] & 0xF0) == Discovered)
            {
                // back-edge: a loop. Root's loops are bounded by the state exploration; others are refused.
                _backEdges.Add(new BackEdge(t, wi));
                if (_options.BpfCapable)
                {
                    return DoneExploring;
                }

                _log.LineInfo(t, t.ToString(CultureInfo.InvariantCulture) + ": ");
                _log.LineInfo(wi, wi.ToString(CultureInfo.InvariantCulture) + ": ");
                string msg = Format(Msg.BackEdge, t, wi);
                _log.WriteLine(msg);
                err = new VerifierError(t, RejectKind.Invalid, msg);
                return -1;
            }

            if (_state[wi] == Explored)
            {
                // forward or cross edge
                _state[t] = Discovered | e;
                return DoneExploring;
            }

            throw new VerifierBugException("insn state internal bug");
        }
    }
}
