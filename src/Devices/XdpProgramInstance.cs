using VethXdp.Devices.Frames;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Devices;

/// <summary>One XDP program as one simulated CPU runs it: an engine with its own run state (env.Cpu = the CPU, so
/// per-CPU maps use that CPU's slot), over the object's shared maps.</summary>
/// <remarks>
/// <para>Programs that only read and write packet bytes run in place, on the frame in the pool (no copy): r1's
/// data and data_end point into the frame. Programs that call helpers which move the packet's bounds or read the
/// frame through the context (adjust_head/meta/tail, load/store_bytes, get_buff_len, perf output with the packet,
/// fib_lookup, check_mtu, socket lookups, tail calls, kfuncs) and devmap egress programs (which read
/// egress_ifindex) run on an <see cref="XdpBuffer"/>: the frame is copied in and, after the run, back at its new
/// offset. Metadata does not travel with a frame (docs/differences.md).</para>
/// <para>A run allocates nothing; a fault becomes XDP_ABORTED and is counted.</para>
/// </remarks>
public sealed unsafe class XdpProgramInstance : IDisposable
{
    private static readonly int[] s_bufferHelpers = [12, 25, 44, 54, 65, 69, 84, 85, 99, 163, 188, 189, 190];

    private readonly IBpfEngine _engine;
    private readonly XdpBuffer? _buffer;

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
        env.Regions.Clear();
        obj.Maps.RegisterRegions(env.Regions);
        Buffered = egress || NeedsBuffer(program);
        _buffer = Buffered ? new XdpBuffer() : null;
    }

    /// <summary>The program's name.</summary>
    public string Name { get; }

    /// <summary>True when runs copy the frame into an <see cref="XdpBuffer"/> (see remarks).</summary>
    public bool Buffered { get; }

    /// <summary>The run state (the redirect info the helpers leave is <c>Env.Redirect</c>).</summary>
    public RuntimeEnv Env => _engine.Env;

    /// <summary>Runs that faulted.</summary>
    public long Faults { get; private set; }

    /// <summary>The first fault's message, or null.</summary>
    public string? FirstFault { get; private set; }

    /// <summary>Runs the program on the frame <paramref name="d"/> names (updated when the program moved the packet's
    /// bounds); returns the verdict (r0's low 32 bits), XDP_ABORTED after a fault.</summary>
    public uint Run(FramePool pool, ref XdpDesc d, uint ingress, uint rxQueue, uint egress, ulong clockNs)
    {
        var env = _engine.Env;
        env.BeginPacket();
        env.ClockNs = clockNs;
        byte* start = pool.FrameStart(d.Frame);
        try
        {
            if (_buffer is null)
            {
                return (uint)_engine.RunXdp(new Span<byte>(start + d.Headroom, d.Length), ingress, rxQueue).R0;
            }

            _buffer.Load(new ReadOnlySpan<byte>(start + d.Headroom, d.Length), ingress, rxQueue);
            if (egress != 0)
            {
                _buffer.Context.SetEgressIfindex(egress);
            }

            uint act = (uint)_engine.RunXdp(_buffer).R0;
            int headroom = (int)(_buffer.Data - _buffer.HardStart);
            int length = _buffer.LinearLength;
            Buffer.MemoryCopy((void*)_buffer.Data, start + headroom, FramePool.FrameSize - headroom, length);
            d = d with { Headroom = (ushort)headroom, Length = (ushort)length };
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

    private static bool NeedsBuffer(ExecutableProgram program)
    {
        foreach (var insn in program.Slots)
        {
            if (insn.Opcode != 0x85)
            {
                continue;
            }

            if (insn.SrcReg == 2 || (insn.SrcReg == 0 && Array.IndexOf(s_bufferHelpers, insn.Imm) >= 0))
            {
                return true;
            }
        }

        return false;
    }
}
