using VethXdp.Devices.Frames;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Devices;

/// <summary>One XDP program as one simulated CPU runs it: an engine with its own run state (env.Cpu = the CPU, so
/// per-CPU maps use that CPU's slot), over the object's shared maps.</summary>
/// <remarks>
/// <para>Every program runs in place, on the frame in the pool, as a driver runs it on its page: an
/// <see cref="XdpBuffer"/> is pointed at the frame (<see cref="XdpBuffer.LoadInPlace"/>: nothing copied, nothing
/// cleared), r1's data and data_end point into the frame, and the helpers that move the packet's bounds
/// (adjust_head/meta/tail) move them inside the frame's own headroom and tailroom; the descriptor takes the new
/// bounds after the run. A devmap egress program also sees egress_ifindex. Metadata does not travel with a frame
/// (docs/differences.md).</para>
/// <para>A run allocates nothing; a fault becomes XDP_ABORTED and is counted.</para>
/// </remarks>
public sealed unsafe class XdpProgramInstance : IDisposable
{
    private readonly IBpfEngine _engine;
    private readonly RuntimeEnv _env;
    private readonly XdpBuffer _buffer = new();

    /// <summary>Makes the engine for <paramref name="program"/> of <paramref name="obj"/> on CPU <paramref name="cpu"/>.</summary>
    public XdpProgramInstance(LoadedObject obj, ExecutableProgram program, IBpfEngineFactory factory, int cpu, ulong seed, bool egress)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(factory);
        Name = program.Name;
        var env = new RuntimeEnv
        {
            Cpu = cpu,
            PossibleCpus = obj.PossibleCpus,
            Maps = obj.Maps,
            Random = Prandom.FromSeed(seed + (ulong)cpu),
        };
        _engine = factory.Create(program, obj.Helpers, InterpreterOptions.Default, env);
        _env = _engine.Env; // an engine's run state is fixed for its lifetime (IBpfEngine.Env)
        env.Regions.Clear();
        obj.Maps.RegisterRegions(env.Regions);
        Egress = egress;
    }

    /// <summary>The program's name.</summary>
    public string Name { get; }

    /// <summary>True for a devmap egress program (it sees egress_ifindex).</summary>
    public bool Egress { get; }

    /// <summary>The run state (the redirect info the helpers leave is <c>Env.Redirect</c>).</summary>
    public RuntimeEnv Env => _env;

    /// <summary>The rx_queue_index of the last run (xdp->rxq->queue_index).</summary>
    public uint LastRxQueue { get; private set; } // xsk:

    /// <summary>Runs that faulted.</summary>
    public long Faults { get; private set; }

    /// <summary>The first fault's message, or null.</summary>
    public string? FirstFault { get; private set; }

    /// <summary>Runs the program on the frame <paramref name="d"/> names (updated when the program moved the packet's
    /// bounds); returns the verdict (r0's low 32 bits), XDP_ABORTED after a fault.</summary>
    public uint Run(FramePool pool, ref XdpDesc d, uint ingress, uint rxQueue, uint egress, ulong clockNs)
    {
        var env = _env;
        LastRxQueue = rxQueue; // xsk: xsk_rcv_check compares the socket's queue with the frame's
        env.BeginPacket();
        env.ClockNs = clockNs;
        _buffer.LoadInPlace((nint)pool.FrameStart(d.Frame), d.Headroom, d.Length, ingress, rxQueue);
        if (egress != 0)
        {
            _buffer.Context.SetEgressIfindex(egress);
        }

        try
        {
            uint act = (uint)_engine.RunXdp(_buffer).R0;
            if (_buffer.Data != _buffer.HardStart + d.Headroom || _buffer.LinearLength != d.Length)
            {
                d = d with { Headroom = (ushort)(_buffer.Data - _buffer.HardStart), Length = (ushort)_buffer.LinearLength };
            }

            return act;
        }
        catch (ExecutionFaultException e)
        {
            Faults++;
            FirstFault ??= e.Message;
            return (uint)XdpAction.Aborted;
        }
    }

    /// <summary>Releases the engine.</summary>
    public void Dispose() => _engine.Dispose();
}
