using System.Globalization;

namespace VethXdp.Kernel;

/// <summary>A packet where the kernel and our VM disagree.</summary>
/// <param name="Packet">The packet's index, from 0.</param>
/// <param name="Field">What differs.</param>
/// <param name="Description">What each side gave (for bytes, a hex view from the first differing offset).</param>
public sealed record PacketDisagreement(int Packet, PacketField Field, string Description)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"packet {Packet}: {Description}");
}
