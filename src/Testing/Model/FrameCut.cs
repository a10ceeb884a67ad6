namespace VethXdp.Testing.Model;

/// <summary>Where a truncated frame ends: <see cref="Into"/> bytes into header <see cref="HeaderIndex"/> (the payload
/// when the index is the header count). <c>Into = 0</c> cuts exactly at that header's boundary.</summary>
/// <param name="HeaderIndex">The header the frame ends in (or at the start of).</param>
/// <param name="Into">How many of its bytes are kept.</param>
public sealed record FrameCut(int HeaderIndex, int Into);
