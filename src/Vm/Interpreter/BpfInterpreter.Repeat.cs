using System.Runtime.CompilerServices;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Interpreter;

public sealed unsafe partial class BpfInterpreter
{
    /// <summary>Runs as an XDP program over <paramref name="buffer"/> <paramref name="runs"/> times in a row (see
    /// <see cref="IBpfEngine.RunXdpRepeat"/>): each run is <see cref="RunXdp(XdpBuffer)"/>'s, with what a run printed or
    /// emitted dropped before the next; r0 of the last run (0 when <paramref name="runs"/> is 0). Allocates nothing.</summary>
    /// <remarks>The state a run sets up and undoes (the run flag, the context, the lazily registered regions) is set
    /// up once for the loop and undone after a run only where the run changed it, so the runs are the same as calling
    /// <see cref="RunXdp(XdpBuffer)"/> that many times, a fault included.</remarks>
    /// <exception cref="ExecutionFaultException">A run faulted (the frame is as that run left it).</exception>
    public ulong RunXdpRepeat(XdpBuffer buffer, long runs)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var env = Env;
        var trace = env.Trace;
        var events = env.Events;
        if (Tracer is not null)
        {
            // Traced runs register everything up front anyway: nothing to save.
            ulong last = 0;
            for (long i = 0; i < runs; i++)
            {
                XdpRepeat.DropOutput(trace, events);
                last = RunXdp(buffer).R0;
            }

            return last;
        }

        if (runs <= 0)
        {
            return 0;
        }

        var regions = BeginRun();
        int baseCount = regions.Count;
        SetPendingBuffer(buffer);
        ulong address = buffer.Context.Address;

        ulong r0 = 0;
        try
        {
            for (long i = 0; i < runs; i++)
            {
                XdpRepeat.DropOutput(trace, events);

                // What BeginRun resets for every run (a run that took no tail call left both as they are).
                if (env.TailCallCount != 0)
                {
                    env.TailCallCount = 0;
                }

                if (env.PendingTailCall is not null)
                {
                    env.PendingTailCall = null;
                }

                BeginPendingRegions(buffer);
                r0 = RunLean(address);
                if (EndPendingRegions())
                {
                    // The run registered its regions: undo the rest as RunXdp's end (EndRun) does.
                    regions.Truncate(baseCount);
                    _packetRegion = -1;
                }
            }
        }
        finally
        {
            EndPendingRegions();
            EndRun(regions, baseCount);
        }

        return r0;
    }

    // Run(r1, 0, null, 0) for the repeat loop: r0 only.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong RunLean(ulong r1)
    {
        _executed = 0;
        _depth = 0;
        SetCurrent(_main);
        ClearFrame(0);
        _entryR1 = r1;
        return Execute<TraceOff>(_main, 0, in Unsafe.NullRef<RegisterFile>(), 0, 0, 0);
    }

    // r1 of a fresh entry into Execute (its `initial` registers a null reference): what RunLean passes.
    private ulong _entryR1;
}
