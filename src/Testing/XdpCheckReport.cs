using VethXdp.Testing.Model;

namespace VethXdp.Testing;

/// <summary>How a property over generated frames went (<see cref="XdpProperty.Report"/>).</summary>
public sealed record XdpCheckReport
{
    /// <summary>True when the check held for every frame.</summary>
    public required bool Passed { get; init; }

    /// <summary>Frames run (the failing one included).</summary>
    public required int Tests { get; init; }

    /// <summary>Successful shrink steps.</summary>
    public int Shrinks { get; init; }

    /// <summary>The smallest failing frame shrinking found; null when the check held.</summary>
    public Frame? Counterexample { get; init; }

    /// <summary>The first failing frame, before shrinking; null when the check held.</summary>
    public Frame? Original { get; init; }

    /// <summary>Why the check fails on <see cref="Counterexample"/>.</summary>
    public string? Reason { get; init; }

    /// <summary>What the program did with <see cref="Counterexample"/> ("fault: insn 28: ...", "XDP_PASS").</summary>
    public string? Verdict { get; init; }

    /// <summary>FsCheck's seed for this run ("seed,gamma"): pass it back as <c>replay</c> (or to
    /// <c>[Property(Replay = ...)]</c>) to run the same frames again.</summary>
    public required string Replay { get; init; }

    /// <summary>A readable account: the check, the counts, the reason, the verdict, the shrunk frame decoded and in hex.</summary>
    public required string Message { get; init; }

    /// <summary>The message.</summary>
    public override string ToString() => Message;
}
