namespace VethXdp.Reports.Explain;

/// <summary>The kinds of rejection <c>explain</c> writes a plain-language hint for, classified from the verifier's
/// message (Linux's words).</summary>
public enum RejectionClass
{
    /// <summary>Not rejected.</summary>
    None,

    /// <summary>A packet read or write that no comparison with data_end covers (<c>invalid access to packet</c>,
    /// <c>R2 offset is outside of the packet</c>).</summary>
    PacketBounds,

    /// <summary>A pointer that may be NULL (a map lookup's result) used before a NULL check
    /// (<c>R0 invalid mem access 'map_value_or_null'</c>, <c>... prohibited, null-check it first</c>).</summary>
    NullCheck,

    /// <summary>A register never written (<c>R5 !read_ok</c>) or a stack slot read in a way the verifier refuses
    /// (<c>invalid size of register fill</c>, <c>invalid read from stack</c>; as root Linux allows plain uninitialised
    /// stack reads).</summary>
    UninitializedRead,

    /// <summary>An offset of unknown size added to a pointer (<c>math between pkt pointer and register with
    /// unbounded min value is not allowed</c>, <c>R1 unbounded memory access</c>, ...).</summary>
    UnboundedOffset,

    /// <summary>Arithmetic on, or a read through, the packet end pointer (<c>R3 pointer arithmetic on pkt_end
    /// prohibited</c>).</summary>
    PktEndArithmetic,

    /// <summary>A read or write of the context that the program type does not allow (<c>invalid bpf_context access
    /// off=24 size=4</c>, <c>dereference of modified ctx ptr</c>).</summary>
    ContextAccess,

    /// <summary>A loop the verifier cannot see the end of (<c>infinite loop detected</c>, or <c>BPF program is too
    /// large</c> in a program with a loop).</summary>
    UnboundedLoop,

    /// <summary>Too many paths to explore (<c>BPF program is too large</c> without a loop, <c>The sequence of N jumps
    /// is too complex.</c>).</summary>
    ComplexityLimit,

    /// <summary>Any other rejection: the message is shown with a general explanation.</summary>
    Other,
}
