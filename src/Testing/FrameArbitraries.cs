using FsCheck;
using VethXdp.Testing.Model;

namespace VethXdp.Testing;

/// <summary>For <c>[Property(Arbitrary = new[] { typeof(FrameArbitraries) })]</c>: FsCheck then generates
/// <see cref="Frame"/> parameters from <see cref="Frames.Spec"/>.</summary>
public static class FrameArbitraries
{
    /// <summary>Frames of the default spec.</summary>
    public static Arbitrary<Frame> Frame() => Frames.Arbitrary();
}
