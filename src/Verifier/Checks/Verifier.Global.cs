using System.Globalization;
using VethXdp.Verifier.Helpers;
using VethXdp.Verifier.Log;
using VethXdp.Verifier.State;
using VethXdp.Vm.Btf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Checks;

// kernel: global functions. A subprogram whose BTF FUNC has BTF_FUNC_GLOBAL linkage is not explored inline: a call
// to it is checked against its BTF prototype (btf_check_subprog_call -> btf_check_func_arg_match), R0 becomes an
// unknown scalar and R1-R5 are clobbered; the function itself is verified once, after the main program, in a pass of
// its own whose arguments come from the prototype (do_check_subprogs -> do_check_common -> btf_prepare_func_args).
//
// Soundness: the callee's pass starts from the most general state its prototype allows (any scalar; the context; a
// region of exactly the pointee's size that may be NULL), and every call site proves its arguments are at least that
// good (the same checks a helper's memory argument gets, for both a read and a write of the whole size). So whatever
// the callee does is safe for every caller, and the caller may assume nothing about R0 but that it is a scalar: the
// callee's return is required to be a scalar (check_return_code) and its prototype to return int or enum.
internal sealed partial class VerifierEnv
{
    /// <summary>MAX_BPF_FUNC_REG_ARGS.</summary>
    private const int MaxBpfFuncRegArgs = 5;

    // the kernel's errno values these checks return (as negative numbers in C)
    private const int Einval = 22, Efault = 14, Eopnotsupp = 95, Eacces = 13;

    // ARG_TAG_* of btf_prepare_func_args
    [Flags]
    private enum ArgTags
    {
        None = 0,
        Ctx = 1 << 0,
        Trusted = 1 << 1,
        Nonnull = 1 << 2,
        Nullable = 1 << 3,
        Arena = 1 << 4,
        Untrusted = 1 << 5,
    }

    /// <summary>The kinds of <c>bpf_subprog_arg_info.arg_type</c> this verifier models.</summary>
    private enum SubprogArgKind : byte
    {
        /// <summary>ARG_ANYTHING: an int or enum, any scalar.</summary>
        Anything,

        /// <summary>ARG_PTR_TO_CTX.</summary>
        PtrToCtx,

        /// <summary>ARG_PTR_TO_MEM (| PTR_MAYBE_NULL unless tagged non-null).</summary>
        PtrToMem,
    }

    /// <summary><c>struct bpf_subprog_arg_info</c>.</summary>
    private readonly record struct SubprogArg(SubprogArgKind Kind, bool MaybeNull, int MemSize);

    /// <summary>What the kernel keeps per function about its BTF (<c>bpf_func_info_aux</c> and the argument part of
    /// <c>bpf_subprog_info</c>).</summary>
    private sealed class SubprogBtfInfo
    {
        public required FunctionInfo Func { get; init; }

        public bool IsGlobal { get; init; }

        public bool Unreliable { get; set; }

        public bool ArgsCached { get; set; }

        public SubprogArg[] Args { get; set; } = [];

        public bool Called { get; set; }

        public bool Verified { get; set; }

        public bool ChangesPktData { get; set; }
    }

    private SubprogBtfInfo[]? _subBtf;

    /// <summary>The object's functions (BTF func_info when it has BTF), as <see cref="ProgramSpec.Functions"/>.</summary>
    public IReadOnlyList<FunctionInfo> Functions { get; init; } = [];

    // prog->aux->func_info: every function of the program has a BTF FUNC record (else the kernel gets none, and
    // every function is static).
    private SubprogBtfInfo[]? SubBtf => _subBtf ??= BuildSubprogBtf();

    private SubprogBtfInfo[]? BuildSubprogBtf()
    {
        var subs = Cfg.Subprogs;
        if (subs.Count == 0 || Functions.Count == 0)
        {
            return null;
        }

        var result = new SubprogBtfInfo[subs.Count];
        for (int i = 0; i < subs.Count; i++)
        {
            FunctionInfo? found = null;
            foreach (var f in Functions)
            {
                if (f.StartSlot == subs[i].Start && f.HasBtf)
                {
                    found = f;
                    break;
                }
            }

            if (found is null)
            {
                return null;
            }

            result[i] = new SubprogBtfInfo { Func = found, IsGlobal = found.IsBtfGlobal };
        }

        MarkChangesPktData(result);
        return result;
    }

    // kernel: check_cfg() -> mark_subprog_changes_pkt_data() / merge_callee_effects(): a function changes packet
    // data when it, or a function it calls, calls a helper that does.
    private void MarkChangesPktData(SubprogBtfInfo[] info)
    {
        var subs = Cfg.Subprogs;
        var calls = new List<(int Caller, int Callee)>();
        for (int i = 0; i < subs.Count; i++)
        {
            for (int pc = subs[i].Start; pc < subs[i].End && pc < _insns.Length; pc++)
            {
                var insn = _insns[pc];
                if (insn.Opcode != Op.Call)
                {
                    continue;
                }

                if (insn.SrcReg == 0 && HelperProtos.ChangesPktData(insn.Imm))
                {
                    info[i].ChangesPktData = true;
                }
                else if (insn.SrcReg == 1 && FindSubprog(pc + insn.Imm + 1) is int callee and >= 0)
                {
                    calls.Add((i, callee));
                }
            }
        }

        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var (caller, callee) in calls)
            {
                if (info[callee].ChangesPktData && !info[caller].ChangesPktData)
                {
                    info[caller].ChangesPktData = true;
                    changed = true;
                }
            }
        }
    }

    private string SubprogName(int subprog) => SubBtf?[subprog].Func.Name ?? Cfg.Subprogs[subprog].Name ?? string.Empty;

    // kernel: bpf_subprog_is_global()
    private bool SubprogIsGlobal(int subprog) => SubBtf is { } sb && sb[subprog].IsGlobal;

    // --- the call site ------------------------------------------------------------------------------------------

    // kernel: check_func_call(), the part before setup_func_entry(). True when the callee is global: the call is
    // done (R0 = unknown scalar, the next insn follows); false for a static callee, explored inline by the caller.
    private bool CheckGlobalFuncCall(int subprog)
    {
        int err = BtfCheckSubprogCall(subprog, out int errTextLen, out RejectKind errKind);
        if (!SubprogIsGlobal(subprog))
        {
            // a static callee: a mismatch only makes its BTF unreliable; the lines it logged stay in the log
            _errText.Length = errTextLen;
            return false;
        }

        string name = SubprogName(subprog);
        // require: no lock held, arguments that match the prototype
        if (_cur.ActiveLockId != 0)
        {
            Error(Msg.GlobalCallUnderLock1);
            Fail(RejectKind.Invalid, Msg.GlobalCallUnderLock2);
        }

        if (err != 0)
        {
            Fail(errKind, Msg.CallerPassesInvalidArgs, subprog, name);
        }

        // apply: the callee is assumed valid (and checked later, once, in its own pass)
        if (_log.IsLevel1Or2)
        {
            _log.Verbose(Msg.GlobalAssumedValid, subprog, name);
        }

        var sb = SubBtf!;
        if (sb[subprog].ChangesPktData)
        {
            ClearAllPktPointers();
        }

        sb[subprog].Called = true;
        // clear_caller_saved_regs(): R0-R5 become NOT_INIT (and are scratched, as check_reg_arg(DST_OP_NO_MARK)
        // marks them)
        for (int i = 0; i <= 5; i++)
        {
            Reg(i) = RegState.NotInit;
            MarkRegScratched(i);
        }

        // all global functions return a 64-bit SCALAR_VALUE (6.18 refuses void ones in btf_prepare_func_args)
        Reg(0) = RegState.UnknownScalar;
        _insnIdx++;
        return true;
    }

    // kernel: btf_check_subprog_call(); 0, or the errno. Lines it logs are kept in the log; errTextLen says where the
    // error text stood before them, for a static callee whose mismatch is not an error.
    private int BtfCheckSubprogCall(int subprog, out int errTextLen, out RejectKind errKind)
    {
        errTextLen = _errText.Length;
        errKind = RejectKind.Invalid;
        var sb = SubBtf;
        if (sb is null)
        {
            return Einval; // no func_info: no BTF to check against, and nothing is global
        }

        if (sb[subprog].Unreliable)
        {
            return Einval;
        }

        int err = BtfCheckFuncArgMatch(subprog, out errKind);
        if (err != 0)
        {
            // compiler optimisations can remove arguments from static functions, or a caller passes a mismatched
            // type into a global one: the function's BTF is unreliable from now on
            sb[subprog].Unreliable = true;
        }

        return err;
    }

    // kernel: btf_check_func_arg_match(): the caller's R1.. against the prototype's arguments.
    private int BtfCheckFuncArgMatch(int subprog, out RejectKind errKind)
    {
        errKind = RejectKind.Invalid;
        int err = BtfPrepareFuncArgs(subprog);
        if (err != 0)
        {
            errKind = err == Eopnotsupp ? RejectKind.NotSupported : RejectKind.Invalid;
            return err;
        }

        var args = SubBtf![subprog].Args;
        for (int i = 0; i < args.Length; i++)
        {
            int regno = i + 1;
            var arg = args[i];
            switch (arg.Kind)
            {
                case SubprogArgKind.Anything:
                    if (Reg(regno).Type != RegType.Scalar)
                    {
                        Error(Msg.ArgNotScalar, regno);
                        return Einval;
                    }

                    break;
                case SubprogArgKind.PtrToCtx:
                    if (TryCheck(ArgCheck.RegOff, regno, 0, out errKind) is var e1 and not 0)
                    {
                        return e1;
                    }

                    if (Reg(regno).Type != RegType.PtrToCtx)
                    {
                        Error(Msg.ArgExpectsCtx, i);
                        errKind = RejectKind.Invalid;
                        return Einval;
                    }

                    break;
                default:
                    if (TryCheck(ArgCheck.RegOff, regno, 0, out errKind) is var e2 and not 0)
                    {
                        return e2;
                    }

                    if (TryCheck(ArgCheck.MemReg, regno, arg.MemSize, out _) != 0)
                    {
                        errKind = RejectKind.Invalid;
                        return Einval; // check_mem_reg's failure is -EINVAL, whatever its message said
                    }

                    if (!arg.MaybeNull && Reg(regno).MaybeNull)
                    {
                        Error(Msg.ArgExpectedNonNull, i);
                        errKind = RejectKind.Invalid;
                        return Einval;
                    }

                    break;
            }
        }

        return 0;
    }

    private enum ArgCheck : byte
    {
        /// <summary>check_func_arg_reg_off(..., ARG_DONTCARE / ARG_PTR_TO_CTX).</summary>
        RegOff,

        /// <summary>check_mem_reg().</summary>
        MemReg,
    }

    // Runs a check written in the reject-by-exception style and turns its rejection into an errno (its lines stay
    // logged, as the kernel's bpf_log/verbose lines do). No delegate: a call site's check allocates nothing.
    private int TryCheck(ArgCheck check, int regno, int memSize, out RejectKind kind)
    {
        kind = RejectKind.Invalid;
        try
        {
            if (check == ArgCheck.RegOff)
            {
                CheckFuncArgRegOff(Reg(regno), regno, default);
            }
            else
            {
                CheckMemReg(regno, memSize);
            }

            return 0;
        }
        catch (RejectException r)
        {
            kind = r.Kind;
            return r.Kind switch
            {
                RejectKind.Access => Eacces,
                RejectKind.NotSupported => Eopnotsupp,
                _ => Einval,
            };
        }
    }

    // kernel: check_mem_reg(): NULL passes; otherwise the whole size must be readable and writable through the
    // register, as if it were not NULL (the register itself is left as it was).
    private void CheckMemReg(int regno, int memSize)
    {
        if (Reg(regno).IsNull)
        {
            return;
        }

        var saved = Reg(regno);
        bool mayBeNull = saved.MaybeNull;
        if (mayBeNull)
        {
            // mark_ptr_not_null_reg()
            Reg(regno).Flags &= ~RegTypeFlags.MaybeNull;
        }

        try
        {
            var meta = new CallMeta { MapIndex = -1, ConstMapKey = -1, Subprogno = -1 };
            CheckHelperMemAccess(regno, memSize, write: false, zeroSizeAllowed: true, ref meta, raw: false);
            CheckHelperMemAccess(regno, memSize, write: true, zeroSizeAllowed: true, ref meta, raw: false);
        }
        finally
        {
            if (mayBeNull)
            {
                Reg(regno) = saved;
            }
        }
    }

    // --- the prototype ------------------------------------------------------------------------------------------

    // kernel: btf_prepare_func_args(): the BTF prototype as argument expectations, cached on success. 0 or the errno;
    // a static function's unsupported prototype is refused silently (its calls are explored inline anyway).
    private int BtfPrepareFuncArgs(int subprog)
    {
        var info = SubBtf![subprog];
        if (info.ArgsCached)
        {
            return 0;
        }

        bool isGlobal = info.IsGlobal;
        var btf = info.Func.Btf!;
        if (btf.TryGet(info.Func.BtfFuncId) is not BtfFunc fn)
        {
            Error(Msg.FuncNotKindFunc, subprog);
            return Efault;
        }

        string tname = fn.Name;
        if (btf.TryGet(fn.TypeId) is not BtfFuncProto proto)
        {
            Error(Msg.InvalidFuncType, tname);
            return Efault;
        }

        int nargs = proto.Parameters.Count;
        if (nargs > MaxBpfFuncRegArgs)
        {
            if (!isGlobal)
            {
                return Einval;
            }

            Error(Msg.GlobalTooManyArgs, tname, nargs, MaxBpfFuncRegArgs);
            return Einval;
        }

        // check that the function returns int (or an enum)
        var ret = SkipModifiers(btf, proto.ReturnTypeId);
        if (ret is not (BtfInt or BtfEnum))
        {
            if (!isGlobal)
            {
                return Einval;
            }

            Error(Msg.GlobalNotScalarReturn, tname);
            return Einval;
        }

        var args = new SubprogArg[nargs];
        for (int i = 0; i < nargs; i++)
        {
            // 'arg:<tag>' decl tags take precedence over what the type says
            var tags = ArgTags.None;
            foreach (var t in btf.Types)
            {
                if (t is not BtfDeclTag tag || tag.TypeId != fn.Id || tag.ComponentIndex != i ||
                    !tag.Name.StartsWith("arg:", StringComparison.Ordinal))
                {
                    continue;
                }

                if (!isGlobal)
                {
                    Error(Msg.ArgTagInStatic, i);
                    return Eopnotsupp;
                }

                switch (tag.Name.AsSpan(4))
                {
                    case "ctx": tags |= ArgTags.Ctx; break;
                    case "trusted": tags |= ArgTags.Trusted; break;
                    case "untrusted": tags |= ArgTags.Untrusted; break;
                    case "nonnull": tags |= ArgTags.Nonnull; break;
                    case "nullable": tags |= ArgTags.Nullable; break;
                    case "arena": tags |= ArgTags.Arena; break;
                    default:
                        Error(Msg.ArgUnsupportedTags, i);
                        return Eopnotsupp;
                }
            }

            var pt = btf.TryGet(proto.Parameters[i].TypeId);
            var at = SkipModifiers(btf, proto.Parameters[i].TypeId);
            if (at is BtfPtr ptr)
            {
                if ((tags & ArgTags.Ctx) != 0 || IsProgCtxType(btf, ptr, i))
                {
                    if ((tags & ~ArgTags.Ctx) != 0)
                    {
                        Error(Msg.ArgInvalidTagCombination, i);
                        return Einval;
                    }

                    if ((tags & ArgTags.Ctx) != 0 && ValidateProgCtxType(btf, at, i) != 0)
                    {
                        return Einval;
                    }

                    args[i] = new SubprogArg(SubprogArgKind.PtrToCtx, false, 0);
                    continue;
                }

                if (SkipModifiers(btf, ptr.TypeId) is BtfComposite { Name: "bpf_dynptr" } ||
                    (tags & (ArgTags.Trusted | ArgTags.Untrusted | ArgTags.Arena)) != 0)
                {
                    // dynptr, trusted/untrusted kernel objects and arena pointers need vmlinux BTF and kinds of
                    // register this verifier does not give to a global function (docs/differences.md); a static
                    // function's BTF is only made unreliable (its calls are explored inline)
                    if (!isGlobal)
                    {
                        return Einval;
                    }

                    Error(Msg.GlobalArgKindNotSupported, i, tname);
                    return Eopnotsupp;
                }

                if (isGlobal)
                {
                    // a generic pointer to user data
                    if ((tags & ArgTags.Nullable) != 0)
                    {
                        Error(Msg.ArgInvalidTagCombination, i);
                        return Einval;
                    }

                    uint pointee = SkipModifiersId(btf, ptr.TypeId);
                    var pointeeType = btf.TryGet(pointee) ?? BtfVoid.Instance;
                    long size = ResolveSize(btf, pointee);
                    if (size < 0)
                    {
                        Error(Msg.ArgSizeUnknown, i, KernelKindName(pointeeType), pointeeType.Name, size);
                        return Einval;
                    }

                    args[i] = new SubprogArg(SubprogArgKind.PtrToMem, (tags & ArgTags.Nonnull) == 0, (int)size);
                    continue;
                }
            }

            // skip_pointer:
            if (tags != ArgTags.None)
            {
                Error(Msg.ArgPointerTagNotPointer, i);
                return Einval;
            }

            if (at is BtfInt or BtfEnum)
            {
                args[i] = new SubprogArg(SubprogArgKind.Anything, false, 0);
                continue;
            }

            if (!isGlobal)
            {
                return Einval;
            }

            Error(Msg.ArgTypeNotSupported, i, KernelKindName(at ?? pt ?? BtfVoid.Instance), tname);
            return Einval;
        }

        info.Args = args;
        info.ArgsCached = true;
        return 0;
    }

    // kernel: btf_is_prog_ctx_type(): a pointer to the program type's context struct (by name; xdp_buff and sk_buff
    // stand for xdp_md and __sk_buff).
    private bool IsProgCtxType(BtfSpec btf, BtfPtr ptr, int arg)
    {
        if (SkipModifiers(btf, ptr.TypeId) is not BtfComposite st)
        {
            return false;
        }

        if (st.Name.Length == 0)
        {
            _log.Verbose(Msg.ArgStructNoName, arg);
            return false;
        }

        string? ctx = CtxTypeName(Prog.Type);
        if (string.IsNullOrEmpty(ctx))
        {
            return false;
        }

        return st.Name == ctx || (ctx == "__sk_buff" && st.Name == "sk_buff") || (ctx == "xdp_md" && st.Name == "xdp_buff");
    }

    // kernel: btf_validate_prog_ctx_type() for an __arg_ctx argument, for the program types this verifier models.
    private int ValidateProgCtxType(BtfSpec btf, BtfType t, int arg)
    {
        if (t is not BtfPtr ptr)
        {
            Error(Msg.ArgCtxNotPointer, arg);
            return Einval;
        }

        var pointee = SkipModifiers(btf, ptr.TypeId);
        if (pointee is null or BtfVoid)
        {
            return 0; // `void *ctx __arg_ctx` is always valid
        }

        if (pointee.Name.Length == 0)
        {
            Error(Msg.ArgCtxNoName, arg);
            return Einval;
        }

        string ctx = CtxTypeName(Prog.Type) ?? string.Empty;
        if (pointee is not BtfComposite { IsUnion: false } || pointee.Name != ctx)
        {
            Error(Msg.ArgCtxShouldBe, arg, ctx);
            return Einval;
        }

        return 0;
    }

    // include/linux/bpf_types.h: the context struct a program of this type sees, for the types modelled here.
    private static string? CtxTypeName(ProgramType type) => type switch
    {
        ProgramType.Xdp => "xdp_md",
        ProgramType.SocketFilter or ProgramType.SchedCls or ProgramType.SchedAct or ProgramType.CgroupSkb or
            ProgramType.LwtIn or ProgramType.LwtOut or ProgramType.LwtXmit or ProgramType.LwtSeg6local or
            ProgramType.SkSkb => "__sk_buff",
        ProgramType.CgroupSock => "bpf_sock",
        ProgramType.SockOps => "bpf_sock_ops",
        ProgramType.SkMsg => "sk_msg_md",
        ProgramType.CgroupSockAddr => "bpf_sock_addr",
        ProgramType.FlowDissector => "__sk_buff",
        _ => null,
    };

    // btf_type_skip_modifiers(): typedef, volatile, const, restrict, type_tag
    private static BtfType? SkipModifiers(BtfSpec btf, uint id) => btf.TryGet(SkipModifiersId(btf, id));

    private static uint SkipModifiersId(BtfSpec btf, uint id)
    {
        for (int depth = 0; depth <= BtfSpec.MaxResolveDepth; depth++)
        {
            if (btf.TryGet(id) is not (BtfTypedef or BtfQualifier) || btf.TryGet(id) is not BtfRefType r)
            {
                return id;
            }

            id = r.TypeId;
        }

        return id;
    }

    // kernel: btf_resolve_size() / __btf_resolve_size(): the size of a sized type (arrays multiply), or -EINVAL for
    // void, forward declarations, functions and the rest.
    private static long ResolveSize(BtfSpec btf, uint id)
    {
        ulong elements = 1;
        for (int depth = 0; depth < BtfSpec.MaxResolveDepth; depth++)
        {
            ulong size;
            switch (btf.TryGet(id))
            {
                case BtfInt i: size = i.Size; break;
                case BtfComposite c: size = c.Size; break;
                case BtfEnum e: size = e.Size; break;
                case BtfFloat f: size = f.Size; break;
                case BtfPtr: size = 8; break;
                case BtfTypedef or BtfQualifier:
                    id = ((BtfRefType)btf.TryGet(id)!).TypeId;
                    continue;
                case BtfArray a:
                    if (elements != 0 && a.Count > uint.MaxValue / elements)
                    {
                        return -Einval;
                    }

                    elements *= a.Count;
                    id = a.ElementTypeId;
                    continue;
                default:
                    return -Einval;
            }

            if (elements != 0 && size > uint.MaxValue / elements)
            {
                return -Einval;
            }

            return (long)(elements * size);
        }

        return -Einval;
    }

    // btf_type_str(): btf_kind_str[] (void is "UNKNOWN")
    private static string KernelKindName(BtfType t) => t.Kind == BtfKind.Void ? "UNKNOWN" : BtfType.KindName(t.Kind);

    // --- the separate passes ------------------------------------------------------------------------------------

    // kernel: do_check_common() for the main program, the BTF part: with func_info, the main function's prototype is
    // prepared too (its messages, if any, open the log); a mismatch only marks its BTF unreliable.
    private void PrepareMainFuncArgs()
    {
        if (SubBtf is not { } sb)
        {
            return;
        }

        int len = _errText.Length;
        if (BtfPrepareFuncArgs(0) != 0)
        {
            sb[0].Unreliable = true;
        }

        _errText.Length = len;
    }

    // kernel: do_check_subprogs(): every global function that some verified code calls is verified once, on its own,
    // from the state its prototype describes; a newly verified one may call more, so the scan repeats until no new
    // function was verified.
    private void DoCheckSubprogs()
    {
        if (!_log.IsLevel2)
        {
            // pop_log: the main program's successful pass at level 1 leaves no log behind
            _log.ResetTo(0);
        }

        if (SubBtf is not { } sb)
        {
            return;
        }

        bool again = true;
        while (again)
        {
            again = false;
            for (int i = 1; i < sb.Length; i++)
            {
                if (!sb[i].IsGlobal || !sb[i].Called || sb[i].Verified)
                {
                    continue;
                }

                DoCheckGlobal(i);
                if (_log.IsLevel1Or2)
                {
                    _log.Verbose(Msg.GlobalSafe, i, SubprogName(i));
                }

                sb[i].Verified = true;
                again = true;
            }
        }
    }

    // kernel: do_check_common(env, subprog) for a global function. Its counters add to the main program's; its
    // explored states are its own.
    private void DoCheckGlobal(int subprog)
    {
        // free_states(): the previous pass's explored states go
        _explored.Clear();
        _branches.Clear();

        _cur = new VerifierState { FirstInsnIdx = Cfg.Subprogs[subprog].Start };
        var f = new FuncState { Frameno = 0, Subprogno = subprog, CallSite = -1 };
        InitRegs(f);
        _cur.Frames[0] = f;
        // kernel: do_check_common() starts with env->prev_linfo = NULL, so a pass prints its first source line again.
        _log.ForgetLastLine();
        if (_log.IsLevel1Or2)
        {
            _log.Verbose(Msg.ValidatingFunc, SubprogName(subprog), subprog);
        }

        _errText.Clear();
        _insnIdx = Cfg.Subprogs[subprog].Start;
        int err = BtfPrepareFuncArgs(subprog);
        if (err != 0)
        {
            FailLogged(err == Eopnotsupp ? RejectKind.NotSupported : RejectKind.Invalid);
        }

        var args = SubBtf![subprog].Args;
        for (int i = 0; i < args.Length; i++)
        {
            ref var r = ref f.Regs[i + 1];
            switch (args[i].Kind)
            {
                case SubprogArgKind.PtrToCtx:
                    r = RegState.Pointer(RegType.PtrToCtx);
                    break;
                case SubprogArgKind.Anything:
                    r = RegState.UnknownScalar;
                    break;
                default:
                    r = RegState.Pointer(RegType.PtrToMem, args[i].MaybeNull ? RegTypeFlags.MaybeNull : RegTypeFlags.None);
                    r.MemSize = args[i].MemSize;
                    if (args[i].MaybeNull)
                    {
                        r.Id = NewId();
                    }

                    break;
            }
        }

        MarkAllScratched();
        DoCheck();
        if (!_log.IsLevel2)
        {
            // pop_log: a successful pass at level 1 leaves no log behind
            _log.ResetTo(0);
        }
    }

    // kernel: check_return_code() for a global function's own pass (frame 0 is not the main program): R0 must be
    // a scalar.
    private void CheckGlobalFuncReturn()
    {
        if (_cur.Frames[0]!.Subprogno == 0 || _cur.CurFrame != 0)
        {
            return;
        }

        var r0 = Reg(0);
        if (r0.Type != RegType.Scalar)
        {
            Fail(RejectKind.Invalid, Msg.SubprogExitNotScalar, RegTypeText(r0));
        }
    }
}
