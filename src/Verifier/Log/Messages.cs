namespace VethXdp.Verifier.Log;

/// <summary>Every message template of the verifier, worded exactly as Linux 6.18 words it (kernel/bpf/verifier.c,
/// kernel/bpf/log.c), so that the kernel selftests' <c>__msg</c> strings match ours as substrings (STYLE C4).
/// Templates use composite-format holes in the kernel's argument order; format them only on the cold (rejecting or
/// logging) path.</summary>
internal static partial class Msg
{
    // --- check_subprogs / add_subprog_and_kfunc -------------------------------------------------------------
    /// <summary>add_subprog: a BPF-to-BPF call or a function address (ld_imm64 src=4) outside the program. EINVAL.</summary>
    public const string CallToInvalidDestination = "call to invalid destination";

    /// <summary>add_subprog: more than BPF_MAX_SUBPROGS (256) functions. E2BIG.</summary>
    public const string TooManySubprograms = "too many subprograms";

    /// <summary>add_subprog_and_kfunc without CAP_BPF. EPERM.</summary>
    public const string CallsNeedCapBpf =
        "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN";

    /// <summary>check_subprogs and push_insn: a jump target outside the program or outside the jump's own function. EINVAL.</summary>
    public const string JumpOutOfRange = "jump out of range from insn {0} to {1}";

    /// <summary>check_subprogs: a function may not fall through into the next one. EINVAL.</summary>
    public const string LastInsnNotExit = "last insn is not an exit or jmp";

    /// <summary>Level-2 line naming each function's first instruction (add_subprog_and_kfunc).</summary>
    public const string FuncStart = "func#{0} @{1}";

    // --- check_cfg --------------------------------------------------------------------------------------------
    /// <summary>check_cfg: an instruction no path from the entry reaches. EINVAL.</summary>
    public const string UnreachableInsn = "unreachable insn {0}";

    /// <summary>check_cfg: a jump to the second slot of a 64-bit immediate load. EINVAL.</summary>
    public const string JumpIntoLdImm64 = "jump into the middle of ldimm64 insn {0}";

    /// <summary>push_insn: a loop, refused only for loaders without CAP_BPF (root's loops are bounded by the state
    /// exploration). EINVAL.</summary>
    public const string BackEdge = "back-edge from insn {0} to {1}";

    // --- calls and stack depth ------------------------------------------------------------------------------
    /// <summary>__check_func_call (during the exploration): more than MAX_CALL_FRAMES (8) nested frames. E2BIG.</summary>
    public const string CallStackTooDeep = "the call stack of {0} frames is too deep";

    /// <summary>check_max_stack_depth_subprog: the static call chain is deeper than MAX_CALL_FRAMES. E2BIG.</summary>
    public const string CallStackTooDeepStatic = "the call stack of {0} frames is too deep !";

    /// <summary>check_max_stack_depth_subprog: the frames of a call chain exceed MAX_BPF_STACK (512). EACCES.</summary>
    public const string CombinedStackTooLarge = "combined stack size of {0} calls is {1}. Too large";

    /// <summary>check_max_stack_depth_subprog with a private stack: one function exceeds MAX_BPF_STACK. EACCES.</summary>
    public const string SubprogStackTooLarge = "stack size of subprog {0} is {1}. Too large";

    /// <summary>check_max_stack_depth_subprog: a function with a tail call under 256+ bytes of caller frames. EACCES.</summary>
    public const string TailCallStackTooLarge =
        "tail_calls are not allowed when call stack of previous frames is {0} bytes. Too large";

    // --- closing statistics (print_verification_stats) -------------------------------------------------------
    /// <summary>Level 4 (BPF_LOG_STATS): the time spent.</summary>
    public const string VerificationTime = "verification time {0} usec";

    /// <summary>Level 4: the stack depth of each function, joined with '+' (written piecewise).</summary>
    public const string StackDepthPrefix = "stack depth ";

    /// <summary>The last line of every log.</summary>
    public const string Processed =
        "processed {0} insns (limit {1}) max_states_per_insn {2} total_states {3} peak_states {4} mark_read {5}";

    /// <summary>verifier_bug(): an internal inconsistency the kernel reports and survives.</summary>
    public const string VerifierBug = "verifier bug: {0}";
}
