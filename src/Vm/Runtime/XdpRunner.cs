using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Runtime;

/// <summary>Runs one XDP program of a loaded object on frames, one at a time, exactly as BPF_PROG_TEST_RUN runs it on
/// each: the frame in a fresh 4096-byte page at XDP_PACKET_HEADROOM, r1 = its xdp_md, a fresh bpf_redirect_info, and
/// the verdict, redirect target and bytes read back afterwards. Maps persist from frame to frame.</summary>
/// <remarks>
/// <para>Per frame: the clock is <see cref="RunOptions.TimeNs"/> + index * <see cref="RunOptions.TimeStepNs"/> and does
/// not move while the program runs; BPF timers that expire by then fire before the frame runs (a fault in one is that
/// frame's error); trace messages and ring buffer / perf records are collected (the runner consumes
/// the rings as they are written, as a reader polling them would). A frame shorter than 14 bytes or longer than 73152
/// is refused, as is every frame when the ingress device is not in the network or has no such receive queue, and a program that faults (an access outside the memory the run owns, the instruction budget) stops
/// with an error: either way the result carries the error and the next frame runs normally.</para>
/// <para>The per-frame path allocates nothing, except the strings of trace messages the program prints (pooled by
/// content) and an error's description. One runner runs on one thread at a time.</para>
/// </remarks>
public sealed class XdpRunner : IDisposable
{
    /// <summary>BPF_XDP_DEVMAP (enum bpf_attach_type).</summary>
    public const uint AttachXdpDevmap = 33;

    /// <summary>BPF_XDP_CPUMAP (enum bpf_attach_type).</summary>
    public const uint AttachXdpCpumap = 35;

    private readonly IBpfEngine _vm;
    private readonly XdpBuffer _buffer = new();
    private readonly EventSink _sink;
    private readonly BpfTimerQueue _timers;
    private readonly NetRunState _net;
    private int _mapRegions;
    private long _packets;
    private bool _disposed;

    /// <summary>Prepares <paramref name="programName"/> (the object's only program when null) of <paramref name="obj"/>.</summary>
    /// <exception cref="RuntimeLoadException">No such program, several and none chosen, not an XDP program, a devmap or
    /// cpumap program (BPF_PROG_TEST_RUN refuses those), or the program does not load.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The CPU is not one of the object's possible CPUs.</exception>
    public XdpRunner(LoadedObject obj, string? programName = null, RunOptions? options = null)
        : this(obj, programName, options, null)
    {
    }

    /// <summary>Prepares <paramref name="programName"/> (the object's only program when null) of <paramref name="obj"/>
    /// to run on the engine <paramref name="engine"/> makes (the checked interpreter when null).</summary>
    /// <exception cref="RuntimeLoadException">As <see cref="XdpRunner(LoadedObject, string?, RunOptions?)"/>.</exception>
    /// <exception cref="UnverifiedProgramException">The engine runs only verified programs and this one was not.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The CPU is not one of the object's possible CPUs.</exception>
    public XdpRunner(LoadedObject obj, string? programName, RunOptions? options, IBpfEngineFactory? engine)
    {
        ArgumentNullException.ThrowIfNull(obj);
        options ??= RunOptions.Default;
        var spec = obj.GetProgram(programName);
        if (spec.Type != ProgramType.Xdp)
        {
            throw new RuntimeLoadException(spec.Name, null, $"is not an XDP program (section \"{spec.SectionName}\", type {spec.Type})");
        }

        if (spec.ExpectedAttachType is AttachXdpDevmap or AttachXdpCpumap)
        {
            throw new RuntimeLoadException(spec.Name, null,
                $"runs on {(spec.ExpectedAttachType == AttachXdpDevmap ? "devmap" : "cpumap")} entries (section \"{spec.SectionName}\"): BPF_PROG_TEST_RUN refuses such programs (-EINVAL)");
        }

        if (options.Cpu < 0 || options.Cpu >= obj.PossibleCpus)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"CPU {options.Cpu} is not one of the {obj.PossibleCpus} possible CPUs");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.InstructionBudget, nameof(options));
        Object = obj;
        Program = spec;
        Options = options;
        Executable = obj.Prepare(spec);
        var env = new RuntimeEnv
        {
            Cpu = options.Cpu,
            PossibleCpus = obj.PossibleCpus,
            JiffiesHz = options.JiffiesHz,
            Maps = obj.Maps,
            Random = Prandom.FromSeed(options.Seed),
        };
        _vm = (engine ?? InterpreterEngineFactory.Instance).Create(Executable, obj.Helpers, new InterpreterOptions { InstructionBudget = options.InstructionBudget }, env);
        _sink = new EventSink(env.Events);
        _timers = BpfTimerQueue.Of(env);
        _net = NetRunState.For(env);
        if (options.Network is { } network)
        {
            _net.Environment = network;
            network.SyncookieSeed = options.Seed;
            foreach (var map in obj.Maps)
            {
                switch (map)
                {
                    case DevMap d:
                        d.DeviceResolver = network;
                        break;
                    case DevMapHash h:
                        h.DeviceResolver = network;
                        break;
                }
            }
        }

        RegisterMapRegions();
    }

    /// <summary>The loaded object.</summary>
    public LoadedObject Object { get; }

    /// <summary>The program.</summary>
    public ProgramSpec Program { get; }

    /// <summary>The program as the engine runs it.</summary>
    public ExecutableProgram Executable { get; }

    /// <summary>The run controls.</summary>
    public RunOptions Options { get; }

    /// <summary>The engine that runs the program (<c>interp</c>, <c>jit-checked</c> or <c>jit</c>).</summary>
    public IBpfEngine Engine => _vm;

    /// <summary>The run state helpers see (clock, CPU, generator, output), for tools that need more than results.</summary>
    public RuntimeEnv Env => _vm.Env;

    /// <summary>Frames run so far (refused ones included): the index the next frame gets.</summary>
    public long PacketsRun => _packets;

    /// <summary>Runs the program on <paramref name="frame"/>. The result's views are valid until the next call.</summary>
    public XdpResult Run(ReadOnlySpan<byte> frame)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long index = _packets++;
        var env = _vm.Env;
        env.BeginPacket();
        if (Object.Maps.RegionCount != _mapRegions)
        {
            RegisterMapRegions();
        }

        Object.Maps.SetEventSink(_sink);

        // Time moves to this packet's: BPF timers that expire by then fire first (their output is this packet's).
        ulong now = Options.TimeNs + ((ulong)index * Options.TimeStepNs);
        try
        {
            _timers.AdvanceTo(env, now);
        }
        catch (ExecutionFaultException e)
        {
            env.ClockNs = now;
            return Failed(index, e.Pc >= 0 ? e.Pc : null, "in a timer callback before the packet: " + e.Reason);
        }

        env.ClockNs = now;

        _net.BeginPacket();

        // kernel: bpf_prog_test_run_xdp(): the ETH_HLEN check, then the ingress device and queue
        // (xdp_convert_md_to_buff), then the fragments.
        if (frame.Length < XdpBuffer.EthHeaderLength)
        {
            return Failed(index, null, Refusal(frame.Length, -Errno.EINVAL));
        }

        if (ResolveIngress(out uint ingress) is { } refused)
        {
            return Failed(index, null, refused);
        }

        int err = _buffer.Load(frame, ingress, Options.RxQueue);
        if (err != 0)
        {
            return Failed(index, null, Refusal(frame.Length, err));
        }

        RunResult r;
        try
        {
            r = _vm.RunXdp(_buffer);
        }
        catch (ExecutionFaultException e)
        {
            return Failed(index, e.Pc >= 0 ? e.Pc : null, e.Reason);
        }

        // What the verifier would have refused at load (a socket not released, a spin lock held at exit).
        if (_net.EndPacket() is { } leak)
        {
            return Failed(index, null, leak);
        }

        uint retval = (uint)r.R0;
        RedirectInfo? redirect = retval == (uint)XdpAction.Redirect ? RedirectInfo.From(env.Redirect) : null;
        return new XdpResult(index, retval, redirect, _buffer.Meta, _buffer.Packet, env.Trace, env.Events, null, r.InstructionsExecuted);
    }

    /// <summary>Releases the engine (the object and its maps stay).</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            Object.Maps.SetEventSink(null);
            _vm.Dispose();
        }
    }

    private XdpResult Failed(long index, int? insn, string message) =>
        new(index, 0, null, default, default, _vm.Env.Trace, _vm.Env.Events, new XdpError(insn, message), 0);

    // The device and queue the frame arrives on, as BPF_PROG_TEST_RUN takes them from xdp_md: ingress_ifindex 0 keeps
    // the loopback device's queue 0 (the program reads the loopback's ifindex), and then rx_queue_index must be 0;
    // otherwise the device must exist in the network (-ENODEV) and have that queue (-EINVAL). Null when it does.
    // kernel: xdp_convert_md_to_buff()
    private string? ResolveIngress(out uint ingress)
    {
        ingress = Options.Ifindex;
        uint queue = Options.RxQueue;
        var network = _net.Environment;
        if (ingress == 0)
        {
            ingress = (uint)network.Loopback.Ifindex;
            return queue == 0
                ? null
                : $"rx_queue_index {queue} without an ingress_ifindex: BPF_PROG_TEST_RUN refuses it (-EINVAL)";
        }

        // Without a network (RunOptions.Network null: `vethxdp run --ifindex N`), the caller names the device the frame
        // arrives on, and it exists with the queue asked for: --ifindex sets ingress_ifindex for the program to read,
        // not a device lookup. With a network, the kernel's checks apply (docs/differences.md).
        if (Options.Network is null)
        {
            return null;
        }

        if (ingress > int.MaxValue || network.FindInterface((int)ingress) is not { } device)
        {
            return $"ingress_ifindex {ingress}: no such device in the network: BPF_PROG_TEST_RUN refuses it (-ENODEV)";
        }

        return queue < (uint)device.RxQueues
            ? null
            : $"rx_queue_index {queue}: {device.Name} has {device.RxQueues} receive queue(s): BPF_PROG_TEST_RUN refuses it (-EINVAL)";
    }

    private static string Refusal(int length, int errno) => errno == -Errno.EINVAL
        ? $"frame of {length} bytes is shorter than ETH_HLEN ({XdpBuffer.EthHeaderLength}): BPF_PROG_TEST_RUN refuses it (-EINVAL)"
        : $"frame of {length} bytes is longer than {XdpBuffer.MaxFrameSize} (a {XdpBuffer.MaxLinearSize}-byte page and {XdpBuffer.MaxFrags} fragments of {XdpBuffer.FrameSize}): BPF_PROG_TEST_RUN refuses it (-ENOMEM)";

    // The maps' value regions stay registered for the runner's life (below the per-run context, packet and stacks).
    private void RegisterMapRegions()
    {
        var regions = _vm.Env.Regions;
        regions.Clear();
        Object.Maps.RegisterRegions(regions);

        // The sockets the environment holds stay registered too, so a socket pointer looked up in a subprogram is
        // still valid in its caller (the kernel's socket outlives the call).
        _net.Environment.RegisterRegions(regions);
        _mapRegions = Object.Maps.RegionCount;
    }

    // Ring buffer and perf event records, as the program commits them, into the packet's event log.
    private sealed class EventSink(EventLog log) : IMapEventSink
    {
        public void OnEvent(BpfMap map, int cpu, ReadOnlySpan<byte> data) =>
            log.Add(map.Name, map is RingBufMap ? EventSource.Ringbuf : EventSource.PerfEvent, data);
    }
}
