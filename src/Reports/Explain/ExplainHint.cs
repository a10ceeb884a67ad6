using VethXdp.Vm.Programs;

namespace VethXdp.Reports.Explain;

/// <summary>A plain-language explanation of a rejection, written for someone who has never seen BPF.</summary>
/// <param name="Class">The kind of rejection.</param>
/// <param name="Title">A short title (<c>Packet access without a bounds check</c>).</param>
/// <param name="Where">Where it happened: the instruction, its source line, the register.</param>
/// <param name="What">What the program does there, with the register, offset and values involved.</param>
/// <param name="Why">Why Linux refuses it.</param>
/// <param name="Fix">How to fix it, in words.</param>
/// <param name="FixCode">A line of C that shows the fix, or null.</param>
/// <param name="Insn">The failing instruction, or -1.</param>
/// <param name="Register">The register involved, or null.</param>
/// <param name="Offset">The offset involved, or null.</param>
/// <param name="Source">The source line of the failing instruction, or null.</param>
public sealed record ExplainHint(
    RejectionClass Class,
    string Title,
    string Where,
    string What,
    string Why,
    string Fix,
    string? FixCode,
    int Insn,
    int? Register,
    long? Offset,
    LineInfo? Source)
{
    /// <summary>The whole hint as plain text: title, where, why, fix (and the line of C).</summary>
    public override string ToString() =>
        $"{Title}\n{Where}\n{What}\n{Why}\n{Fix}{(FixCode is null ? string.Empty : "\n    " + FixCode)}";
}
