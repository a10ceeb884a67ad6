using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Helpers;

/// <summary>Per-run state that helpers see: the memory regions and the virtual clock (later maps and redirect info).</summary>
/// <remarks>One instance belongs to one interpreter (or one simulated CPU) and is reused across runs.</remarks>
public sealed class RuntimeEnv
{
    /// <summary>Creates an environment with an empty region table and the clock at 0.</summary>
    public RuntimeEnv()
        : this(new RegionTable())
    {
    }

    /// <summary>Creates an environment over an existing region table.</summary>
    public RuntimeEnv(RegionTable regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        Regions = regions;
    }

    /// <summary>The memory regions the running program may access.</summary>
    public RegionTable Regions { get; }

    /// <summary>The virtual clock in nanoseconds (what bpf_ktime_get_ns returns next).</summary>
    public ulong ClockNs { get; set; }

    /// <summary>How far each read of the clock advances it, in nanoseconds (default 1, so reads are strictly increasing).</summary>
    public ulong ClockStepNs { get; set; } = 1;

    /// <summary>Returns the clock and then advances it by <see cref="ClockStepNs"/>.</summary>
    public ulong ReadClock()
    {
        ulong now = ClockNs;
        ClockNs = now + ClockStepNs;
        return now;
    }

    /// <summary>Advances the clock by <paramref name="nanoseconds"/> (a simulator tick).</summary>
    public void AdvanceClock(ulong nanoseconds) => ClockNs += nanoseconds;
}
