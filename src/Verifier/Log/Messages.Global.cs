namespace VethXdp.Verifier.Log;

// The messages of global functions (BPF-to-BPF calls to BTF_FUNC_GLOBAL subprograms, verified on their own):
// kernel/bpf/verifier.c check_func_call(), do_check_common(), do_check_subprogs(), btf_check_func_arg_match(),
// check_return_code(), and kernel/bpf/btf.c btf_prepare_func_args(), btf_is_prog_ctx_type(),
// btf_validate_prog_ctx_type(); Linux 6.18 wording.
internal static partial class Msg
{
    // --- check_func_call / do_check_subprogs / do_check_common -------------------------------------------------
    /// <summary>check_func_call at level 1 or 2: the call of a global function is checked against its prototype only.</summary>
    public const string GlobalAssumedValid = "Func#{0} ('{1}') is global and assumed valid.";

    /// <summary>check_func_call: btf_check_subprog_call failed for a global callee (after its own message). The errno
    /// is the failing check's.</summary>
    public const string CallerPassesInvalidArgs = "Caller passes invalid args into func#{0} ('{1}')";

    /// <summary>check_func_call: a global call with a lock held (two lines in one verbose()). EINVAL.</summary>
    public const string GlobalCallUnderLock1 = "global function calls are not allowed while holding a lock,";

    /// <summary>The second line of <see cref="GlobalCallUnderLock1"/>.</summary>
    public const string GlobalCallUnderLock2 = "use static function instead";

    /// <summary>do_check_common at level 1 or 2, before a global function's own pass.</summary>
    public const string ValidatingFunc = "Validating {0}() func#{1}...";

    /// <summary>do_check_subprogs at level 1 or 2, after a global function's pass succeeded.</summary>
    public const string GlobalSafe = "Func#{0} ('{1}') is safe for any args that match its prototype";

    // --- btf_check_func_arg_match ------------------------------------------------------------------------------
    /// <summary>An int/enum argument gets a pointer or an uninitialised register. EINVAL.</summary>
    public const string ArgNotScalar = "R{0} is not a scalar";

    /// <summary>A context argument gets something else. EINVAL.</summary>
    public const string ArgExpectsCtx = "arg#{0} expects pointer to ctx";

    /// <summary>A non-NULL (<c>__arg_nonnull</c>) memory argument gets a maybe-NULL pointer. EINVAL.</summary>
    public const string ArgExpectedNonNull = "arg#{0} is expected to be non-NULL";

    // --- btf_prepare_func_args ---------------------------------------------------------------------------------
    /// <summary>A global function without a BTF FUNC record. EFAULT.</summary>
    public const string GlobalNeedsBtf = "Global functions need valid BTF";

    /// <summary>func_info names a type that is not a FUNC. EFAULT.</summary>
    public const string FuncNotKindFunc = "BTF of func#{0} doesn't point to KIND_FUNC";

    /// <summary>A FUNC whose type is not a FUNC_PROTO. EFAULT.</summary>
    public const string InvalidFuncType = "Invalid type of function {0}()";

    /// <summary>A global function with more than 5 arguments. EINVAL.</summary>
    public const string GlobalTooManyArgs = "Global function {0}() with {1} > {2} args. Buggy compiler.";

    /// <summary>A global function returning void, a pointer, a struct... (6.18 accepts int and enum only). EINVAL.</summary>
    public const string GlobalNotScalarReturn = "Global function {0}() doesn't return scalar. Only those are supported.";

    /// <summary>An <c>arg:</c> decl tag on a static function's argument. EOPNOTSUPP.</summary>
    public const string ArgTagInStatic = "arg#{0} type tag is not supported in static functions";

    /// <summary>An <c>arg:</c> decl tag the kernel does not know. EOPNOTSUPP.</summary>
    public const string ArgUnsupportedTags = "arg#{0} has unsupported set of tags";

    /// <summary>Tags that cannot be combined (ctx with others, nullable on plain memory, ...). EINVAL.</summary>
    public const string ArgInvalidTagCombination = "arg#{0} has invalid combination of tags";

    /// <summary>The pointed-to type of a memory argument has no size (void, a forward declaration...). EINVAL.</summary>
    public const string ArgSizeUnknown = "arg#{0} reference type('{1} {2}') size cannot be determined: {3}";

    /// <summary>A pointer tag on an argument that is not a pointer. EINVAL.</summary>
    public const string ArgPointerTagNotPointer = "arg#{0} has pointer tag, but is not a pointer type";

    /// <summary>A global function's argument of another type (a struct by value, a float...). EINVAL.</summary>
    public const string ArgTypeNotSupported = "Arg#{0} type {1} in {2}() is not supported yet.";

    /// <summary>Not Linux's: a dynptr, <c>__arg_trusted</c>, <c>__arg_untrusted</c> or <c>__arg_arena</c> argument of
    /// a global function, which this verifier does not model (docs/differences.md). ENOTSUPP.</summary>
    public const string GlobalArgKindNotSupported =
        "arg#{0} of {1}(): dynptr, trusted, untrusted and arena arguments of global functions are not supported by this verifier";

    /// <summary>btf_is_prog_ctx_type: an anonymous struct pointer. Logged, not fatal.</summary>
    public const string ArgStructNoName = "arg#{0} struct doesn't have a name";

    /// <summary>btf_validate_prog_ctx_type: <c>__arg_ctx</c> on something that is not a pointer. EINVAL.</summary>
    public const string ArgCtxNotPointer = "arg#{0} type isn't a pointer";

    /// <summary>btf_validate_prog_ctx_type: <c>__arg_ctx</c> on a pointer to an anonymous type. EINVAL.</summary>
    public const string ArgCtxNoName = "arg#{0} type doesn't have a name";

    /// <summary>btf_validate_prog_ctx_type: <c>__arg_ctx</c> on a pointer to another struct. EINVAL.</summary>
    public const string ArgCtxShouldBe = "arg#{0} should be `struct {1} *`";
}
