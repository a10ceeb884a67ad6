namespace VethXdp.Testing;

/// <summary>Changes a copy of a frame's bytes in place: what a program is expected to do to it.</summary>
public delegate void FrameTransform(Span<byte> frame);
