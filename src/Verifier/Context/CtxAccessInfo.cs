using VethXdp.Verifier.State;

namespace VethXdp.Verifier.Context;

/// <summary>What an accepted context access gives back (include/linux/bpf.h, <c>struct bpf_insn_access_aux</c>): the
/// type of the register a load fills, and the field size the Fixups widen a narrow load to.</summary>
public struct CtxAccessInfo
{
    /// <summary>reg_type: the base type a load fills its destination with (<see cref="RegType.Scalar"/> unless
    /// the field is a pointer: data, data_end, data_meta, sk).</summary>
    public RegType RegType;

    /// <summary>The modifier bits of reg_type (<see cref="RegTypeFlags.MaybeNull"/> for <c>__sk_buff-&gt;sk</c>).</summary>
    public RegTypeFlags Flags;

    /// <summary>ctx_field_size: non-zero when the field may be loaded narrower than its size; the verifier stores it
    /// in the instruction's aux data (<c>insn_aux_data[i].ctx_field_size</c>) and the rewrite loads the whole field,
    /// then shifts and masks (bpf_ctx_record_field_size). Zero: only the sizes the model accepted, loaded as they are.</summary>
    public int CtxFieldSize;

    /// <summary>The BTF type name of a PTR_TO_BTF_ID result; null for the models here.</summary>
    public string? BtfType;

    /// <summary>The access info the kernel starts from in check_mem_access: a scalar, nothing recorded.</summary>
    public static CtxAccessInfo Scalar => new() { RegType = RegType.Scalar };
}
