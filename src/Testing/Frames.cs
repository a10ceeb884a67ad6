using FsCheck;
using VethXdp.Testing.Model;

namespace VethXdp.Testing;

/// <summary>Where frame generation starts: <c>Frames.Spec()</c>, then constraints (<see cref="FrameSpec"/>).</summary>
public static class Frames
{
    /// <summary>The shortest frame generated or shrunk to: ETH_HLEN, below which BPF_PROG_TEST_RUN refuses a frame.</summary>
    public const int MinLength = 14;

    /// <summary>Every kind of frame, with the default weights; one in five malformed (<see cref="FrameSpec.Default"/>).</summary>
    public static FrameSpec Spec() => FrameSpec.Default;

    /// <summary>The arbitrary of <see cref="Spec"/>: generator and shrinker.</summary>
    public static Arbitrary<Frame> Arbitrary() => FrameSpec.Default.ToArbitrary();
}
