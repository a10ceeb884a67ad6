using System.Diagnostics;
using System.Runtime.CompilerServices;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Runtime;

/// <summary>Measures how long one run of an XDP program takes on an engine, the way BPF_PROG_TEST_RUN's
/// <c>repeat</c> measures it in the kernel: the frame is loaded once, then the program runs on it again and again,
/// neither the context nor the frame's bytes reset between runs (a program that moves data or rewrites bytes sees
/// its own previous run's work), and the time of the whole loop is divided by the number of runs.</summary>
/// <remarks>
/// <para>Per frame: one run through <see cref="XdpRunner"/> (it checks the frame as BPF_PROG_TEST_RUN does and reports
/// a fault with the runner's message), warm-up runs on a loaded copy of the frame (on the first frame also for at
/// least <see cref="XdpBenchOptions.Warmup"/>, so that .NET has compiled the engine's hot methods at full
/// optimisation), then the frame is loaded afresh and <see cref="XdpBenchOptions.Repeat"/> runs are timed with
/// <see cref="Stopwatch.GetTimestamp"/> around a tight loop. Only that loop is timed: no loading, no allocation, no
/// result reading. Maps are not reset, so they also see the validation and warm-up runs.</para>
/// <para>Per run, as in the kernel, the tail call count starts at 0 and the redirect info is left as the previous run
/// left it; the run's trace messages and ring buffer / perf records are dropped (the kernel writes them to the trace
/// pipe and the rings). The timed loop allocates nothing
/// (<see cref="RunTimed"/>). One instance runs on one thread at a time.</para>
/// </remarks>
public sealed class XdpBench : IDisposable
{
    private readonly XdpRunner _runner;
    private readonly XdpBuffer _buffer = new();
    private readonly IBpfEngine _engine;
    private readonly RuntimeEnv _env;
    private bool _loaded;
    private bool _warm;
    private ulong _lastR0;
    private bool _disposed;

    /// <summary>Prepares <paramref name="programName"/> (the object's only program when null) of <paramref name="obj"/>
    /// on the engine <paramref name="engine"/> makes (the checked interpreter when null).</summary>
    /// <exception cref="RuntimeLoadException">As <see cref="XdpRunner"/>: no such program, not runnable by
    /// BPF_PROG_TEST_RUN, or it does not load.</exception>
    /// <exception cref="UnverifiedProgramException">The engine runs only verified programs and this one was not.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The CPU is not one of the object's possible CPUs, or
    /// <see cref="XdpBenchOptions.Repeat"/> or <see cref="XdpBenchOptions.WarmupRuns"/> is out of range.</exception>
    public XdpBench(LoadedObject obj, string? programName = null, RunOptions? options = null, IBpfEngineFactory? engine = null, XdpBenchOptions? bench = null)
    {
        Options = bench ?? XdpBenchOptions.Default;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Options.Repeat, nameof(bench));
        ArgumentOutOfRangeException.ThrowIfNegative(Options.WarmupRuns, nameof(bench));
        _runner = new XdpRunner(obj, programName, options, engine);
        _engine = _runner.Engine;
        _env = _engine.Env;
    }

    /// <summary>The runner that checks each frame once (and whose engine the timed runs use).</summary>
    public XdpRunner Runner => _runner;

    /// <summary>The engine's name: <c>interp</c>, <c>jit-checked</c> or <c>jit</c>.</summary>
    public string EngineName => _engine.EngineName;

    /// <summary>Repeat count, warm-up.</summary>
    public XdpBenchOptions Options { get; }

    /// <summary>The frame the runs go over, as the last run left it.</summary>
    public XdpBuffer Frame => _buffer;

    /// <summary>r0 of the last run, low 32 bits (the XDP verdict).</summary>
    public uint LastRetval => (uint)_lastR0;

    /// <summary>Checks <paramref name="frame"/> with one run through <see cref="Runner"/> (null, or why it has no
    /// verdict: refused as BPF_PROG_TEST_RUN refuses it, or a fault) and then loads it for <see cref="RunTimed"/>.</summary>
    public XdpError? Load(ReadOnlySpan<byte> frame)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _loaded = false;
        var first = _runner.Run(frame);
        if (first.Error is { } error)
        {
            return error;
        }

        Reload(frame);
        _loaded = true;
        return null;
    }

    /// <summary>Runs the program <paramref name="runs"/> times on the loaded frame (nothing reset between runs) and
    /// returns the <see cref="Stopwatch"/> ticks the loop took. Allocates nothing.</summary>
    /// <exception cref="InvalidOperationException">No frame is loaded (<see cref="Load"/>).</exception>
    /// <exception cref="ExecutionFaultException">A run faulted (the frame is as that run left it).</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long RunTimed(long runs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_loaded)
        {
            ThrowNotLoaded();
        }

        // The engine's own loop, as the kernel's bpf_test_run() calls the program itself: per run the engine starts
        // the tail call count at 0; bpf_redirect_info is not reset (it is per CPU there and nothing consumes it
        // between runs); what the previous run printed or emitted is dropped, so the logs stay bounded.
        ulong r0 = _lastR0;
        long start = Stopwatch.GetTimestamp();
        if (runs > 0)
        {
            r0 = _engine.RunXdpRepeat(_buffer, runs);
        }

        long end = Stopwatch.GetTimestamp();
        _lastR0 = r0;
        return end - start;
    }

    /// <summary>Measures one frame: check and load it, warm up, load it afresh and time
    /// <see cref="XdpBenchOptions.Repeat"/> runs.</summary>
    /// <param name="index">The frame's index, for the result.</param>
    /// <param name="frame">The frame.</param>
    public XdpBenchPacket MeasurePacket(int index, ReadOnlySpan<byte> frame)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Load(frame) is { } refused)
        {
            return XdpBenchPacket.Failed(index, refused);
        }

        long repeat = Options.Repeat;
        try
        {
            long warmRuns = Math.Min(Options.WarmupRuns, repeat);
            if (!_warm)
            {
                // Until tiered compilation has promoted the engine's hot methods: time, not a count.
                long until = Stopwatch.GetTimestamp() + (long)(Options.Warmup.TotalSeconds * Stopwatch.Frequency);
                long batch = Math.Max(1, Math.Min(repeat, 10_000));
                while (Stopwatch.GetTimestamp() < until)
                {
                    RunTimed(batch);
                }

                _warm = true;
            }

            RunTimed(warmRuns);
        }
        catch (ExecutionFaultException e)
        {
            return XdpBenchPacket.Failed(index, new XdpError(e.Pc >= 0 ? e.Pc : null, "during the warm-up runs: " + e.Reason));
        }

        Reload(frame);
        long ticks;
        try
        {
            ticks = RunTimed(repeat);
        }
        catch (ExecutionFaultException e)
        {
            return XdpBenchPacket.Failed(index, new XdpError(e.Pc >= 0 ? e.Pc : null, "during the timed runs: " + e.Reason));
        }

        double ns = ticks * (1e9 / Stopwatch.Frequency) / repeat;
        return new XdpBenchPacket(index, ns, LastRetval, _buffer.Meta.ToArray(), _buffer.Packet.ToArray(), null);
    }

    /// <summary>Measures every frame in turn (<see cref="MeasurePacket"/>); <see cref="XdpBenchResult.NsPerRun"/> is
    /// the mean over the frames that ran.</summary>
    public XdpBenchResult Measure(IEnumerable<ReadOnlyMemory<byte>> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var packets = new List<XdpBenchPacket>();
        int index = 0;
        foreach (var f in frames)
        {
            packets.Add(MeasurePacket(index++, f.Span));
        }

        return new XdpBenchResult(EngineName, Options.Repeat, packets);
    }

    /// <summary>Releases the engine (the object and its maps stay).</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _runner.Dispose();
        }
    }

    private void Reload(ReadOnlySpan<byte> frame)
    {
        // The runner accepted the frame, so it loads: ingress_ifindex 0 means the loopback device, as there.
        uint ingress = _runner.Options.Ifindex;
        if (ingress == 0)
        {
            ingress = (uint)NetRunState.For(_env).Environment.Loopback.Ifindex;
        }

        int err = _buffer.Load(frame, ingress, _runner.Options.RxQueue);
        if (err != 0)
        {
            throw new InvalidOperationException($"the frame was accepted by the runner but does not load ({err})");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotLoaded() => throw new InvalidOperationException("no frame is loaded: call Load first");
}

/// <summary>What <see cref="XdpBench"/> measures: repeat count and warm-up.</summary>
public sealed record XdpBenchOptions
{
    /// <summary>BPF_PROG_TEST_RUN-style repeat when none is given: 1,000,000.</summary>
    public const long DefaultRepeat = 1_000_000;

    /// <summary>The defaults.</summary>
    public static XdpBenchOptions Default { get; } = new();

    /// <summary>Timed runs per frame (<c>--repeat</c>): 1,000,000.</summary>
    public long Repeat { get; init; } = DefaultRepeat;

    /// <summary>Untimed runs per frame before the timed ones (at most <see cref="Repeat"/>): 1,000.</summary>
    public long WarmupRuns { get; init; } = 1_000;

    /// <summary>How long the first frame warms up at least, so that tiered compilation has promoted the engine's
    /// hot methods before anything is timed: 250 ms.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>One frame's measurement.</summary>
/// <param name="Index">The frame's index.</param>
/// <param name="NsPerRun">Nanoseconds per run: the timed loop's time divided by the repeat count (NaN on error).</param>
/// <param name="Retval">r0 of the last run (low 32 bits).</param>
/// <param name="Meta">The metadata after the last run.</param>
/// <param name="Data">The frame from data to its end after the last run.</param>
/// <param name="Error">Why the frame has no measurement, or null.</param>
public sealed record XdpBenchPacket(int Index, double NsPerRun, uint Retval, byte[] Meta, byte[] Data, XdpError? Error)
{
    internal static XdpBenchPacket Failed(int index, XdpError error) => new(index, double.NaN, 0, [], [], error);
}

/// <summary>The measurement of a set of frames.</summary>
/// <param name="Engine">The engine's name.</param>
/// <param name="Repeat">Timed runs per frame.</param>
/// <param name="Packets">Each frame's measurement, in order.</param>
public sealed record XdpBenchResult(string Engine, long Repeat, IReadOnlyList<XdpBenchPacket> Packets)
{
    /// <summary>The mean of <see cref="XdpBenchPacket.NsPerRun"/> over the frames that ran; NaN when none did.</summary>
    public double NsPerRun
    {
        get
        {
            double sum = 0;
            int n = 0;
            foreach (var p in Packets)
            {
                if (p.Error is null)
                {
                    sum += p.NsPerRun;
                    n++;
                }
            }

            return n == 0 ? double.NaN : sum / n;
        }
    }

    /// <summary>The first frame's error, or null when every frame ran.</summary>
    public XdpBenchPacket? FirstError
    {
        get
        {
            foreach (var p in Packets)
            {
                if (p.Error is not null)
                {
                    return p;
                }
            }

            return null;
        }
    }
}
