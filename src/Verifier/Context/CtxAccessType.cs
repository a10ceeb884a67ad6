namespace VethXdp.Verifier.Context;

/// <summary>The direction of a context access (include/linux/bpf.h, <c>enum bpf_access_type</c>).</summary>
public enum CtxAccessType
{
    /// <summary>BPF_READ: a load (BPF_LDX, BPF_MEMSX).</summary>
    Read = 1,

    /// <summary>BPF_WRITE: a store (BPF_STX or BPF_ST).</summary>
    Write = 2,
}
