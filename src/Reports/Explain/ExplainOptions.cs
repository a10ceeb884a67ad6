using VethXdp.Verifier;

namespace VethXdp.Reports.Explain;

/// <summary>How <see cref="ExplainReport.Build"/> verifies and what it keeps.</summary>
public sealed record ExplainOptions
{
    /// <summary>The object's file name, shown in the page's header; null for none.</summary>
    public string? ObjectName { get; init; }

    /// <summary>Program type, attach variant and alignment (the log level is chosen by the report).</summary>
    public VerifierOptions Verifier { get; init; } = new();

    /// <summary>The most distinct states kept per instruction.</summary>
    public int MaxStatesPerInsn { get; init; } = 8;

    /// <summary>Per-instruction states come from a second, level-2 verification, done only when the first processed
    /// at most this many instructions (a level-2 log grows by a line per processed instruction).</summary>
    public int MaxLevel2Insns { get; init; } = 200_000;
}
