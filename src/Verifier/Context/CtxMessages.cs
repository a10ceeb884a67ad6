namespace VethXdp.Verifier.Context;

/// <summary>Message templates of the context-access checks and rewrites, worded as Linux 6.18 words them
/// (kernel/bpf/verifier.c); composite-format holes in the kernel's argument order.</summary>
public static class CtxMessages
{
    /// <summary>check_ctx_access: the program type's is_valid_access refused the access. EACCES.</summary>
    public const string InvalidAccess = "invalid bpf_context access off={0} size={1}";

    /// <summary>check_ptr_off_reg on a context pointer that carries a fixed or variable offset. EACCES.</summary>
    public const string ModifiedCtx = "dereference of modified ctx ptr R{0} off={1} disallowed";

    /// <summary>check_ptr_off_reg on a context pointer with a variable offset. EACCES.</summary>
    public const string VariableCtxAccess = "variable ctx access var_off={0} disallowed";

    /// <summary>bpf_patch_insn_data: a jump no longer fits its 16-bit offset after the rewrite (ERANGE inside, the load
    /// fails with ENOMEM).</summary>
    public const string CannotBePatched = "insn {0} cannot be patched due to 16-bit range";

    /// <summary>convert_ctx_accesses: a conversion produced nothing or no target size (verifier_bug). EFAULT.</summary>
    public const string ConversionError = "error during ctx access conversion ({0})";

    /// <summary>check_mem_access: a write of a pointer into the context. EACCES.</summary>
    public const string LeakPointerIntoCtx = "R{0} leaks addr into ctx";
}
