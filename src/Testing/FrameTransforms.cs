namespace VethXdp.Testing;

/// <summary>Common <see cref="FrameTransform"/>s.</summary>
public static class FrameTransforms
{
    /// <summary>Swaps the Ethernet destination and source addresses (bytes 0-5 and 6-11).</summary>
    public static FrameTransform SwapEthernetAddresses { get; } = frame =>
    {
        if (frame.Length < 12)
        {
            return;
        }

        Span<byte> tmp = stackalloc byte[6];
        frame[..6].CopyTo(tmp);
        frame.Slice(6, 6).CopyTo(frame);
        tmp.CopyTo(frame[6..]);
    };
}
