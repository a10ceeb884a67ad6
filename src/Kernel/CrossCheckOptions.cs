using VethXdp.Vm.Runtime;

namespace VethXdp.Kernel;

/// <summary>What a cross-check runs and how: the program, the initial maps, the run controls, the environment and
/// the fields left out.</summary>
public sealed record CrossCheckOptions
{
    /// <summary>The program (function symbol); null for the object's only XDP program that BPF_PROG_TEST_RUN can run.</summary>
    public string? Program { get; init; }

    /// <summary>Initial map contents in the maps JSON format of <c>vethxdp run --maps-in</c>
    /// (<c>{"maps": {NAME: {"type": ..., "entries": [...]}}}</c>); <c>"type"</c> may be left out (the corpus manifest
    /// leaves it out), and a bare <c>{NAME: {"entries": [...]}}</c> is taken too. Applied in order on both sides, with
    /// BPF_ANY. Null: the maps as the object creates them.</summary>
    public string? InitialMapsJson { get; init; }

    /// <summary>Called once both sides are loaded (after <see cref="InitialMapsJson"/>) to fill maps by hand: our
    /// loaded object and the kernel's. Null: nothing.</summary>
    public Action<LoadedObject, KernelObject>? InitializeMaps { get; init; }

    /// <summary>Called once our side is ready to run (maps filled, network installed), before the first packet: to
    /// set what the runtime models beyond the environment. Null: nothing.</summary>
    public Action<XdpRunner>? ConfigureVm { get; init; }

    /// <summary>The network our VM's helpers see (devices, routes, neighbours, sockets, sysctls); it also resolves
    /// devmap ifindexes. Null: built from <see cref="Environment"/> by <see cref="CrossCheckVmNetwork.Build"/>, or,
    /// without an environment, the runtime's default (a new namespace's loopback only).</summary>
    public NetEnvironment? VmNetwork { get; init; }

    /// <summary>max_entries by map name, on both sides (<c>--map-size</c>).</summary>
    public IReadOnlyDictionary<string, uint> MapSizes { get; init; } = new Dictionary<string, uint>();

    /// <summary>xdp_md.ingress_ifindex on both sides: 1, the loopback device.</summary>
    public uint Ifindex { get; init; } = 1;

    /// <summary>xdp_md.rx_queue_index on both sides: 0.</summary>
    public uint RxQueue { get; init; }

    /// <summary>The CPU both sides run on: the kernel's thread is pinned to it (map updates included), our VM runs
    /// as if on it. 0.</summary>
    public int Cpu { get; init; }

    /// <summary>The network namespace the kernel side runs in (devices, routes, sockets), or null for the calling
    /// thread's own.</summary>
    public CrossCheckEnvironment? Environment { get; init; }

    /// <summary>What cannot be compared, each with its reason (the manifest's <c>kernelSkipFields</c>).</summary>
    public IReadOnlyList<CrossCheckSkip> Skips { get; init; } = [];

    /// <summary>Compare the maps after every packet as well as at the end (slower; says which packet made a map
    /// entry differ: one where it was the same on both sides before, or where only one side changed it).</summary>
    public bool CompareMapsAfterEachPacket { get; init; }

    /// <summary>Our run controls beyond ifindex, queue and CPU (clock, seed, instruction budget); null for the
    /// defaults. Its Ifindex, RxQueue and Cpu are replaced by this record's.</summary>
    public RunOptions? VmRunOptions { get; init; }

    /// <summary>At most this many differences reported per map (the rest are counted in one line). 16.</summary>
    public int MaxDifferencesPerMap { get; init; } = 16;
}
