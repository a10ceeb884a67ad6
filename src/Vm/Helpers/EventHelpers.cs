using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>Ring buffer and perf event helpers (kernel/bpf/ringbuf.c; bpf_xdp_event_output in net/core/filter.c).
/// Records reach the run's consumer (<see cref="RuntimeEnv.Events"/>) through the maps' sinks.</summary>
public static class EventHelpers
{
    /// <summary>bpf_perf_event_output(ctx, map, flags, data, size) (25), XDP's bpf_xdp_event_output: a sample of data
    /// followed by the first (flags &gt;&gt; 32) &amp; 0xfffff frame bytes, to the event at index flags &amp; 0xffffffff
    /// (BPF_F_CURRENT_CPU: this CPU). 0; -EINVAL for other flag bits; -EFAULT when the frame is shorter than asked;
    /// -E2BIG, -ENOENT, -EOPNOTSUPP from the map.</summary>
    public static ulong PerfEventOutput(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var xdp = env.XdpFrame(r1);
        var map = env.ResolveMap(r2, arg: 2);
        MapFuncCompat.Check(map, HelperId.PerfEventOutput);
        ulong flags = r3;
        var data = env.Load(r4, (int)r5);
        if ((flags & ~(PerfEventArrayMap.CtxLenMask | PerfEventArrayMap.IndexMask)) != 0)
        {
            return unchecked((ulong)-Errno.EINVAL);
        }

        ulong frameBytes = (flags & PerfEventArrayMap.CtxLenMask) >> 32;
        if (frameBytes > (ulong)xdp.BuffLength)
        {
            return unchecked((ulong)-Errno.EFAULT);
        }

        var ctxData = env.Scratch((int)frameBytes);
        xdp.CopyOut(0, ctxData);
        return (ulong)((PerfEventArrayMap)map).Output(flags, data, ctxData, env.Cpu);
    }

    /// <summary>bpf_perf_event_read(map, flags) (22): the counter of the event at index flags &amp; 0xffffffff
    /// (BPF_F_CURRENT_CPU: this CPU's). The events are BPF output events, whose counter stays 0 (measured on Linux
    /// 6.18). -EINVAL for other flag bits or another CPU's event, -E2BIG past the end, -ENOENT for an index without one.</summary>
    public static ulong PerfEventRead(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        MapFuncCompat.Check(map, HelperId.PerfEventRead);
        return (ulong)ReadCounter((PerfEventArrayMap)map, r2, env.Cpu);
    }

    /// <summary>bpf_perf_event_read_value(map, flags, buf, size) (55): fills struct bpf_perf_event_value { counter,
    /// enabled, running } (all 0 here: the counter of a BPF output event is 0, and the run keeps no perf times); 0, or
    /// the errors of bpf_perf_event_read and -EINVAL when size is not 24, with buf zeroed.</summary>
    public static ulong PerfEventReadValue(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        MapFuncCompat.Check(map, HelperId.PerfEventReadValue);
        var buf = env.Store(r3, (int)(uint)r4);
        buf.Clear();
        if ((uint)r4 != 24)
        {
            return unchecked((ulong)-Errno.EINVAL);
        }

        return (ulong)ReadCounter((PerfEventArrayMap)map, r2, env.Cpu);
    }

    /// <summary>bpf_ringbuf_output(ringbuf, data, size, flags) (130): 0, -EINVAL (flags other than BPF_RB_NO_WAKEUP /
    /// BPF_RB_FORCE_WAKEUP) or -EAGAIN (no room).</summary>
    public static ulong RingbufOutput(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var ring = Ring(env, r1, HelperId.RingbufOutput);
        return (ulong)ring.Output(env.Load(r2, (int)r3), r4);
    }

    /// <summary>bpf_ringbuf_reserve(ringbuf, size, flags) (131): the address of a new record of size bytes, or 0.</summary>
    public static ulong RingbufReserve(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return Ring(env, r1, HelperId.RingbufReserve).Reserve(r2, r3);
    }

    /// <summary>bpf_ringbuf_submit(data, flags) (132): commits a reserved record. Returns nothing (0 here).</summary>
    public static ulong RingbufSubmit(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Commit(r1, r2, env, discard: false);

    /// <summary>bpf_ringbuf_discard(data, flags) (133): drops a reserved record. Returns nothing (0 here).</summary>
    public static ulong RingbufDiscard(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Commit(r1, r2, env, discard: true);

    /// <summary>bpf_ringbuf_query(ringbuf, flags) (134): BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS,
    /// BPF_RB_PROD_POS; 0 for other flags.</summary>
    public static ulong RingbufQuery(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return Ring(env, r1, HelperId.RingbufQuery).Query(r2);
    }

    // kernel: get_map_perf_counter() and perf_event_read_local().
    private static long ReadCounter(PerfEventArrayMap map, ulong flags, int cpu)
    {
        if ((flags & ~PerfEventArrayMap.IndexMask) != 0)
        {
            return -Errno.EINVAL;
        }

        ulong index = flags & PerfEventArrayMap.IndexMask;
        if (index == PerfEventArrayMap.CurrentCpu)
        {
            index = (ulong)cpu;
        }

        if (index >= map.Spec.MaxEntries)
        {
            return -Errno.E2BIG;
        }

        if (!map.IsOpen((uint)index))
        {
            return -Errno.ENOENT;
        }

        return index == (ulong)cpu ? 0 : -Errno.EINVAL;
    }

    private static ulong Commit(ulong sample, ulong flags, RuntimeEnv env, bool discard)
    {
        ArgumentNullException.ThrowIfNull(env);
        var ring = env.Maps?.FindRingBuffer(sample);
        long ret = ring is null ? -Errno.EINVAL : discard ? ring.Discard(sample, flags) : ring.Submit(sample, flags);
        if (ret < 0)
        {
            throw new ExecutionFaultException(FaultKind.HelperFailed, $"R1 is not a reserved ring buffer record (0x{sample:x})");
        }

        return 0;
    }

    private static RingBufMap Ring(RuntimeEnv env, ulong handle, HelperId func)
    {
        var map = env.ResolveMap(handle);
        MapFuncCompat.Check(map, func);
        return (RingBufMap)map;
    }
}
