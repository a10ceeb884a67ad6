namespace VethXdp.Reports.Explain;

/// <summary>What the verifier knew before one instruction, over every time it processed it.</summary>
/// <param name="Visits">How many times the verifier processed the instruction (0: never reached).</param>
/// <param name="States">The distinct whole states before it (<c>R1=ctx() R2=pkt(r=14) R10=fp0</c>), first seen first,
/// at most <see cref="ExplainOptions.MaxStatesPerInsn"/>.</param>
public sealed record InsnStates(int Visits, IReadOnlyList<string> States);
