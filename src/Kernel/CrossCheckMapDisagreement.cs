using System.Globalization;

namespace VethXdp.Kernel;

/// <summary>A map entry (or a whole map) where the kernel and our VM disagree.</summary>
/// <param name="Packet">The packet after which the maps were compared (-1: before the first, once the initial
/// contents were set), or null for the end of the run.</param>
/// <param name="Map">The map's name.</param>
/// <param name="Key">The key as lowercase hex (the queue or stack position as "#N"), or null for the whole map.</param>
/// <param name="Description">What each side holds.</param>
public sealed record MapDisagreement(int? Packet, string Map, string? Key, string Description)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(Packet is { } p ? p < 0 ? "before the first packet" : $"after packet {p}" : "final maps")}: map \"{Map}\"{(Key is null ? "" : $" key {Key}")}: {Description}");
}
