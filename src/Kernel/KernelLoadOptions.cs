namespace VethXdp.Kernel;

/// <summary>How <see cref="KernelObject"/> loads an object.</summary>
public sealed record KernelLoadOptions
{
    /// <summary>max_entries for maps the object leaves to user space (max_entries 0), by map name.</summary>
    public IReadOnlyDictionary<string, uint> MapSizes { get; init; } = new Dictionary<string, uint>();

    /// <summary>Programs to load by name; null loads every program whose section does not start with '?'.</summary>
    public IReadOnlyCollection<string>? Programs { get; init; }

    /// <summary>The CPU the test-running thread is pinned to (per-CPU maps see the run there).</summary>
    public int Cpu { get; init; }

    /// <summary>log_level for BPF_PROG_LOAD (0: a log only for a refused program, as libbpf).</summary>
    public uint LogLevel { get; init; }
}
