namespace VethXdp.Verifier;

/// <summary>Why a program is rejected, with the errno the kernel returns for it (STYLE C4).</summary>
public enum RejectKind
{
    /// <summary>-EINVAL: malformed program (bad jump, unreachable insn, bad field).</summary>
    Invalid,

    /// <summary>-EACCES: an unsafe access or operation.</summary>
    Access,

    /// <summary>-E2BIG: too large or too complex (call stack too deep, too many insns or states).</summary>
    TooComplex,

    /// <summary>The program uses something this verifier does not implement (-ENOTSUPP style); never an acceptance.</summary>
    NotSupported,

    /// <summary>-EPERM: the operation needs a capability the loader lacks (e.g. BPF-to-BPF calls without CAP_BPF).</summary>
    Permission,
}

/// <summary>A rejection: the instruction the kernel names (or -1 when it names none), the kind and the message in
/// the kernel's words (the text after the last instruction line of the log, without a trailing newline).</summary>
/// <param name="InsnIndex">The instruction index, or -1.</param>
/// <param name="Kind">The kind of rejection (selects the errno).</param>
/// <param name="Message">The kernel's message.</param>
public sealed record VerifierError(int InsnIndex, RejectKind Kind, string Message)
{
    /// <summary>The errno name Linux returns where it is not the one <see cref="Kind"/> implies, or null: 6.18's
    /// push_stack() fails with NULL on "The sequence of N jumps is too complex.", which a conditional jump turns into
    /// EFAULT and a callback call into ENOMEM.</summary>
    public string? ErrnoOverride { get; init; }

    /// <summary>The errno name Linux returns: <see cref="ErrnoOverride"/>, else the one of <see cref="Kind"/>
    /// (EINVAL, EACCES, E2BIG, EPERM, ENOTSUPP).</summary>
    public string ErrnoName => ErrnoOverride ?? Kind switch
    {
        RejectKind.Invalid => "EINVAL",
        RejectKind.Access => "EACCES",
        RejectKind.TooComplex => "E2BIG",
        RejectKind.Permission => "EPERM",
        _ => "ENOTSUPP",
    };

    /// <inheritdoc/>
    public override string ToString() => InsnIndex >= 0 ? $"insn {InsnIndex}: {Message}" : Message;
}
