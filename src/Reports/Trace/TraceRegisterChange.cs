namespace VethXdp.Reports.Trace;

/// <summary>A register an instruction changed.</summary>
/// <param name="Register">0-10.</param>
/// <param name="Old">Its value before.</param>
/// <param name="New">Its value after.</param>
/// <param name="Pointer">Where the new value points (<c>pkt+14</c>, <c>fp-8</c>, <c>pkt_end</c>), or null for a scalar.</param>
public sealed record TraceRegisterChange(int Register, ulong Old, ulong New, string? Pointer);
