namespace VethXdp.Reports.Explain;

/// <summary>What a line of a verifier log says.</summary>
public enum VerifierLogLineKind
{
    /// <summary>Anything else: the function list, the liveness table, the error, the closing counters.</summary>
    Other,

    /// <summary><c>N: (op) text ; R1=... R2=...</c>: an instruction the verifier processed, with the registers and
    /// stack slots it touched afterwards (the part after <c>;</c>, which may be empty).</summary>
    Instruction,

    /// <summary><c>N: R1=... R10=fp0</c>: the whole state before instruction N (at the start and where a branch is
    /// resumed).</summary>
    State,

    /// <summary><c>from N to M: R1=...</c>: a branch resumed at M with its whole state (level 2).</summary>
    Branch,

    /// <summary><c>; text @ file.c:22</c>: a source line.</summary>
    Source,
}
