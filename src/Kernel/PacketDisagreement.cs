using System.Globalization;

namespace VethXdp.Kernel;

/// <summary>What of a packet's outcome two sides disagree on.</summary>
public enum PacketField
{
    /// <summary>One side refused the frame (or faulted), the other ran it; or both refused with different errors.</summary>
    Refusal,
    /// <summary>The return value.</summary>
    Retval,
    /// <summary>The bytes from data_meta to the end of the frame (length or content), or where metadata ends.</summary>
    Bytes,
    /// <summary>Ring buffer records.</summary>
    Events,
}

/// <summary>A packet where the kernel and our VM disagree.</summary>
/// <param name="Packet">The packet's index, from 0.</param>
/// <param name="Field">What differs.</param>
/// <param name="Description">What each side gave (for bytes, a hex view from the first differing offset).</param>
public sealed record PacketDisagreement(int Packet, PacketField Field, string Description)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"packet {Packet}: {Description}");
}

/// <summary>A map entry (or a whole map) where the kernel and our VM disagree.</summary>
/// <param name="Packet">The packet after which the maps were compared, or null for the end of the run.</param>
/// <param name="Map">The map's name.</param>
/// <param name="Key">The key as lowercase hex (the queue or stack position as "#N"), or null for the whole map.</param>
/// <param name="Description">What each side holds.</param>
public sealed record MapDisagreement(int? Packet, string Map, string? Key, string Description)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(Packet is { } p ? $"after packet {p}" : "final maps")}: map \"{Map}\"{(Key is null ? "" : $" key {Key}")}: {Description}");
}
