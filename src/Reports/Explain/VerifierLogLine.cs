namespace VethXdp.Reports.Explain;

/// <summary>One parsed line of a verifier log.</summary>
/// <param name="Kind">What the line says.</param>
/// <param name="Insn">The instruction it is about (the target for a branch), or -1.</param>
/// <param name="From">For a branch: the jump it was pushed at; otherwise -1.</param>
/// <param name="Text">The instruction's text (<c>r1 = *(u8 *)(r1 +0)</c>), the source text, or the whole line.</param>
/// <param name="State">The register and stack text (<c>R1=pkt(r=14) R2=pkt_end()</c>), or empty.</param>
public sealed record VerifierLogLine(VerifierLogLineKind Kind, int Insn, int From, string Text, string State);
