namespace VethXdp.Vm.Helpers;

/// <summary>Time helpers, backed by the run's virtual clock so that runs are reproducible.</summary>
public static class TimeHelpers
{
    /// <summary>bpf_ktime_get_ns (id 5): the virtual clock in nanoseconds; each call advances it by <see cref="RuntimeEnv.ClockStepNs"/>.</summary>
    public static ulong KtimeGetNs(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return env.ReadClock();
    }
}
