using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Runtime;

/// <summary>Something that runs one prepared program: the checked interpreter, the checked JIT, or the unchecked JIT.
/// Every engine gives the same observable results (r0, memory, maps, faults with the same messages).</summary>
/// <remarks>An engine owns its stacks and its <see cref="RuntimeEnv"/> (whose <see cref="RuntimeEnv.Callbacks"/> it is);
/// one instance runs on one thread at a time, and a run allocates nothing.</remarks>
public interface IBpfEngine : IDisposable
{
    /// <summary>The engine's name as commands take it: <c>interp</c>, <c>jit-checked</c> or <c>jit</c>.</summary>
    string EngineName { get; }

    /// <summary>The program runs start with.</summary>
    ExecutableProgram Executable { get; }

    /// <summary>The run state helpers see: region table, clock, maps, output.</summary>
    RuntimeEnv Env { get; }

    /// <summary>Runs with r1 = the address of <paramref name="memory"/> (0 when empty) and r2 = its length; the memory
    /// is a writable region for the run, and LD_ABS/LD_IND read it as the packet.</summary>
    /// <exception cref="ExecutionFaultException">The run faulted.</exception>
    RunResult RunWithMemory(Span<byte> memory);

    /// <summary>Runs as an XDP program: r1 = a read-only <c>struct xdp_md</c> over exactly <paramref name="packet"/>.</summary>
    /// <exception cref="ExecutionFaultException">The run faulted.</exception>
    RunResult RunXdp(Span<byte> packet, uint ingressIfindex, uint rxQueueIndex);

    /// <summary>Runs as an XDP program over <paramref name="buffer"/> (loaded by the caller): r1 = its xdp_md.</summary>
    /// <exception cref="ExecutionFaultException">The run faulted.</exception>
    RunResult RunXdp(XdpBuffer buffer);

    /// <summary>Runs as an XDP program over <paramref name="buffer"/> <paramref name="runs"/> times in a row, as
    /// BPF_PROG_TEST_RUN's repeat loop does (bpf_test_run: the program called again and again on the same context,
    /// nothing reset between runs), and returns r0 of the last run. What a run printed (bpf_trace_printk) or emitted
    /// (ring buffer, perf events) is dropped before the next, so the logs stay bounded, as the kernel sends them to
    /// the trace pipe and the rings. Allocates nothing.</summary>
    /// <exception cref="ExecutionFaultException">A run faulted (the frame is as that run left it).</exception>
    ulong RunXdpRepeat(XdpBuffer buffer, long runs) => XdpRepeat.Loop(this, buffer, runs);
}

/// <summary>The loop behind <see cref="IBpfEngine.RunXdpRepeat"/> for engines without their own.</summary>
public static class XdpRepeat
{
    /// <summary>Runs <paramref name="engine"/> <paramref name="runs"/> times over <paramref name="buffer"/>, dropping
    /// each run's trace and events before the next; r0 of the last run (0 when <paramref name="runs"/> is 0).</summary>
    public static ulong Loop(IBpfEngine engine, XdpBuffer buffer, long runs)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var env = engine.Env;
        var trace = env.Trace;
        var events = env.Events;
        ulong r0 = 0;
        for (long i = 0; i < runs; i++)
        {
            DropOutput(trace, events);
            r0 = engine.RunXdp(buffer).R0;
        }

        return r0;
    }

    /// <summary>Drops what the previous run printed or emitted (nothing to do, one compare each, when it did not).</summary>
    /// <remarks>No argument checks: it runs once per run in the engines' loops, on the environment's own logs.</remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static void DropOutput(TraceLog trace, EventLog events)
    {
        if (trace.Count != 0 || events.Count != 0)
        {
            trace.Clear();
            events.Clear();
        }
    }
}
