namespace VethXdp.Vm.Helpers;

/// <summary>Time helpers over the run's virtual clock (<see cref="RuntimeEnv.ClockNs"/>), so that runs are
/// reproducible. The clock does not move while a program runs: every read in one packet gives the same value, and
/// the runner moves it between packets (--time-ns, --time-step-ns).</summary>
public static class TimeHelpers
{
    /// <summary>INITIAL_JIFFIES on 64-bit kernels: (unsigned int)(-300 * HZ), so jiffies wrap 5 minutes after boot on
    /// 32-bit systems. jiffies64 = INITIAL_JIFFIES + clock * HZ / 1e9.</summary>
    public static ulong InitialJiffies(int hz) => (uint)(-300 * hz);

    /// <summary>bpf_ktime_get_ns() (5): the clock (CLOCK_MONOTONIC in the kernel).</summary>
    public static ulong KtimeGetNs(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return env.ReadClock();
    }

    /// <summary>bpf_ktime_get_boot_ns() (125): the clock (CLOCK_BOOTTIME: the same, as nothing suspends).</summary>
    public static ulong KtimeGetBootNs(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        KtimeGetNs(r1, r2, r3, r4, r5, env);

    /// <summary>bpf_ktime_get_coarse_ns() (160): the clock (the kernel's is only tick-accurate).</summary>
    public static ulong KtimeGetCoarseNs(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        KtimeGetNs(r1, r2, r3, r4, r5, env);

    /// <summary>bpf_ktime_get_tai_ns() (208): the clock (CLOCK_TAI is wall time; here it is the same clock).</summary>
    public static ulong KtimeGetTaiNs(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        KtimeGetNs(r1, r2, r3, r4, r5, env);

    /// <summary>bpf_jiffies64() (118): INITIAL_JIFFIES plus the clock in ticks of 1/HZ seconds.</summary>
    public static ulong Jiffies64(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        ulong nsPerTick = 1_000_000_000UL / (ulong)Math.Max(env.JiffiesHz, 1);
        return InitialJiffies(env.JiffiesHz) + (env.ReadClock() / nsPerTick);
    }
}
