using VethXdp.Verifier.Context;

namespace VethXdp.Verifier.Fixups;

/// <summary>What the verifier recorded for one slot that the context rewrite needs (the kernel's
/// <c>insn_aux_data[i].ptr_type == PTR_TO_CTX</c> and <c>.ctx_field_size</c>).</summary>
/// <param name="IsCtxAccess">The slot is a load or store the verifier saw go through a context pointer.</param>
/// <param name="CtxFieldSize"><see cref="CtxAccessInfo.CtxFieldSize"/> from the accepted access (0: none).</param>
public readonly record struct CtxAccessMark(bool IsCtxAccess, int CtxFieldSize)
{
    /// <summary>Not a context access.</summary>
    public static CtxAccessMark None => default;

    /// <summary>A context access that <paramref name="info"/> accepted.</summary>
    /// <param name="info">What is_valid_access returned.</param>
    public static CtxAccessMark From(in CtxAccessInfo info) => new(true, info.CtxFieldSize);
}
