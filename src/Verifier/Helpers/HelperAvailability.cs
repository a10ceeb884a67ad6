namespace VethXdp.Verifier.Helpers;

/// <summary>The answer to "may a program of this type call helper N?" (<c>get_helper_proto()</c> in
/// kernel/bpf/verifier.c).</summary>
public enum HelperAvailability
{
    /// <summary>The program type's <c>get_func_proto</c> returns a prototype.</summary>
    Available,

    /// <summary>A known helper id the program type does not offer: "program of this type cannot use helper %s#%d"
    /// (EINVAL).</summary>
    NotForThisProgramType,

    /// <summary>An id outside 0..__BPF_FUNC_MAX_ID-1: "invalid func unknown#%d" (EINVAL).</summary>
    Unknown,

    /// <summary>The program type is one whose helper set we do not model (not xdp, socket filter, sched_cls or
    /// sched_act); the verifier refuses it rather than guess.</summary>
    ProgramTypeNotModelled,
}
