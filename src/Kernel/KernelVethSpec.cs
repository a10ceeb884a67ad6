using VethXdp.Vm.Elf;

namespace VethXdp.Kernel;

/// <summary>A veth XDP topology to build in a network namespace of the running kernel (<see cref="KernelVethWorld"/>):
/// veth pairs, stand-in devices for NICs, GRO, objects and the programs attached from them, devmap entries, and the
/// program BPF_PROG_TEST_RUN feeds live frames to.</summary>
public sealed record KernelVethSpec
{
    /// <summary>The veth pairs (both ends are brought up).</summary>
    public IReadOnlyList<VethPairSpec> Veths { get; init; } = [];

    /// <summary>Devices standing in for NICs (one end of a veth pair whose other end is NAMEp, with no program): the
    /// test run's frames arrive "on" one of them.</summary>
    public IReadOnlyList<string> Dummies { get; init; } = [];

    /// <summary>Devices to turn GRO on for (ethtool -K DEV gro on).</summary>
    public IReadOnlyList<string> Gro { get; init; } = [];

    /// <summary>The objects, by the name attachments and entries use.</summary>
    public IReadOnlyDictionary<string, BpfObject> Objects { get; init; } = new Dictionary<string, BpfObject>();

    /// <summary>Programs to attach (bpf_link, BPF_XDP).</summary>
    public IReadOnlyList<KernelXdpAttach> Attach { get; init; } = [];

    /// <summary>Device map entries: key and value are device names, written as their ifindexes.</summary>
    public IReadOnlyList<KernelDevmapEntry> DevmapEntries { get; init; } = [];

    /// <summary>The program BPF_PROG_TEST_RUN runs with live frames (as the NIC's driver would), with ingress_ifindex =
    /// its device.</summary>
    public required KernelXdpAttach Source { get; init; }
}

/// <summary>An XDP program of an object on a device.</summary>
/// <param name="Device">The device.</param>
/// <param name="Object">The object's name in <see cref="KernelVethSpec.Objects"/>.</param>
/// <param name="Program">The program's function name.</param>
/// <param name="Generic">True for generic (SKB) mode, false for native (driver) mode.</param>
public sealed record KernelXdpAttach(string Device, string Object, string Program, bool Generic = false);

/// <summary>One devmap or devmap_hash entry, key and value given as device names.</summary>
/// <param name="Object">The object's name.</param>
/// <param name="Map">The map's name.</param>
/// <param name="Key">The device whose ifindex is the key (a devmap_hash's key), or a decimal index (a devmap's).</param>
/// <param name="Value">The device whose ifindex is the value.</param>
public sealed record KernelDevmapEntry(string Object, string Map, string Key, string Value);

/// <summary>One device's counters after a kernel run.</summary>
/// <param name="Name">The device.</param>
/// <param name="Ifindex">Its ifindex in the namespace.</param>
/// <param name="Ethtool">What <c>ethtool -S</c> shows (veth: peer_ifindex, rx_queue_N_*, tx_queue_N_*).</param>
/// <param name="Stats64">What <c>ip -s link</c> shows: rx_packets, rx_bytes, rx_dropped, tx_packets, tx_bytes, tx_dropped.</param>
public sealed record KernelDeviceStats(string Name, uint Ifindex, IReadOnlyDictionary<string, ulong> Ethtool, IReadOnlyDictionary<string, ulong> Stats64);

/// <summary>What a kernel run of a topology left.</summary>
/// <param name="Error">Why the kernel could not be asked (bpf() or namespaces refused, a program refused), or null.</param>
/// <param name="Devices">Every device's counters, by name (empty with an error).</param>
/// <param name="Maps">Map dumps after the run, "object/map" to entries as BPF_MAP_LOOKUP_ELEM gives them (a per-CPU
/// map: one 8-byte-aligned value per possible CPU).</param>
public sealed record KernelVethResult(string? Error, IReadOnlyDictionary<string, KernelDeviceStats> Devices, IReadOnlyDictionary<string, IReadOnlyList<KernelMapEntry>> Maps);
