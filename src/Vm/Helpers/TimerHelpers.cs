namespace VethXdp.Vm.Helpers;

/// <summary>The BPF timer helpers (kernel/bpf/helpers.c) over the run's <see cref="BpfTimerQueue"/>. Each takes the
/// <c>struct bpf_timer</c> in a map value (its 16 bytes must be writable memory the run owns).</summary>
public static class TimerHelpers
{
    /// <summary>bpf_timer_init(timer, map, flags) (169): 0; -EINVAL when flags is not CLOCK_MONOTONIC,
    /// CLOCK_REALTIME or CLOCK_BOOTTIME; -EBUSY when the timer is already initialised.</summary>
    public static ulong TimerInit(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var mem = env.Store(r1, BpfTimerQueue.TimerSize);
        var map = env.ResolveMap(r2, 2);
        return (ulong)BpfTimerQueue.Of(env).Init(env, r1, mem, map, r3);
    }

    /// <summary>bpf_timer_set_callback(timer, callback_fn) (170): 0, or -EINVAL for an uninitialised timer.</summary>
    public static ulong TimerSetCallback(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var mem = env.Store(r1, BpfTimerQueue.TimerSize);
        return (ulong)BpfTimerQueue.Of(env).SetCallback(r1, mem, r2);
    }

    /// <summary>bpf_timer_start(timer, nsecs, flags) (171): arms the timer to fire nsecs from now (or at nsecs with
    /// BPF_F_TIMER_ABS); 0, or -EINVAL for unknown flags, an uninitialised timer or one without a callback.</summary>
    public static ulong TimerStart(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var mem = env.Store(r1, BpfTimerQueue.TimerSize);
        return (ulong)BpfTimerQueue.Of(env).Start(env, r1, mem, r2, r3);
    }

    /// <summary>bpf_timer_cancel(timer) (172): disarms the timer and drops its callback; 1 when it was armed, 0 when
    /// not, -EINVAL for an uninitialised timer, -EDEADLK from the timer's own callback.</summary>
    public static ulong TimerCancel(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var mem = env.Store(r1, BpfTimerQueue.TimerSize);
        return (ulong)BpfTimerQueue.Of(env).Cancel(mem, r1);
    }
}
