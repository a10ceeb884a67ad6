using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using VethXdp.Testing.Model;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Testing;

/// <summary>A property of one XDP program over generated frames: load the object, pick the program, set up the maps,
/// then state what must hold for every frame.</summary>
/// <example>
/// <code>
/// using var p = XdpProperty.For("xdp_port_filter.v4.o", "xdp_port_filter");
/// p.Verify(Frames.Spec().Ipv4().Tcp(dstPorts: 22), XdpAssert.VerdictIs(XdpAction.Drop));   // throws, with the shrunk frame
/// Property prop = p.Check(Frames.Spec(), c =&gt; c.Action != XdpAction.Aborted);              // for [Property] tests
/// </code>
/// </example>
/// <remarks>
/// <para>One <see cref="XdpRunner"/> runs every frame of the property (created on the first run); frames are rendered
/// into one reused buffer, and a check that holds allocates nothing. The maps persist from frame to frame, as they do
/// in the kernel: state a property of the maps as a change per frame (<see cref="XdpAssert.MapCounterGrowsBy"/>).</para>
/// <para>A property object runs on one thread at a time. Dispose it to free the object's maps (when it loaded them);
/// a <see cref="Property"/> handed to FsCheck.Xunit keeps it alive until the test ends.</para>
/// </remarks>
public sealed class XdpProperty : IDisposable
{
    private static readonly Property s_holds = Prop.ToProperty(true);

    private readonly LoadedObject _object;
    private readonly bool _ownsObject;
    private readonly string? _programName;
    private RunOptions _runOptions = RunOptions.Default;
    private IBpfEngineFactory? _engine;
    private XdpRunner? _runner;
    private byte[] _buffer = new byte[2048];
    private bool _disposed;

    private XdpProperty(LoadedObject obj, bool owns, string? program, string? file)
    {
        _object = obj;
        _ownsObject = owns;
        _programName = program;
        Program = obj.GetProgram(program).Name;
        Label = file is null ? Program : $"{Program} in {file}";
    }

    /// <summary>The program's name.</summary>
    public string Program { get; }

    /// <summary>"xdp_port_filter in xdp_port_filter.v4.o", for messages.</summary>
    public string Label { get; }

    /// <summary>The loaded object.</summary>
    public LoadedObject Object => _object;

    /// <summary>The object's maps: fill them before the first frame (or use <see cref="WithMaps"/>).</summary>
    public MapSet Maps => _object.Maps;

    /// <summary>The runner every frame goes through (created on first use, with <see cref="WithRunOptions"/>'s options
    /// and <see cref="WithEngine"/>'s engine).</summary>
    public XdpRunner Runner
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _runner ??= new XdpRunner(_object, _programName, _runOptions, _engine);
        }
    }

    /// <summary>The engine's name: <c>interp</c> (the default) or the one <see cref="WithEngine"/> chose.</summary>
    public string Engine => _engine?.Name ?? InterpreterEngineFactory.Instance.Name;

    /// <summary>Loads the object at <paramref name="objectPath"/> (maps created, programs linked) and picks
    /// <paramref name="program"/> (the only one when null).</summary>
    /// <exception cref="Vm.Elf.ElfLoadException">The file is not a BPF object the loader accepts.</exception>
    /// <exception cref="RuntimeLoadException">The object or program does not load, or there is no such program.</exception>
    public static XdpProperty For(string objectPath, string? program = null, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(objectPath);
        var obj = LoadedObject.Open(objectPath, options);
        try
        {
            return new XdpProperty(obj, owns: true, program, Path.GetFileName(objectPath));
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }

    /// <summary>A property of <paramref name="program"/> in an object already loaded (which the caller keeps and disposes).</summary>
    public static XdpProperty For(LoadedObject obj, string? program = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return new XdpProperty(obj, owns: false, program, null);
    }

    /// <summary>Sets up the maps now (e.g. <c>m =&gt; m["ports"].UserUpdate(key, value, 0)</c>).</summary>
    public XdpProperty WithMaps(Action<MapSet> setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        setup(Maps);
        return this;
    }

    /// <summary>Fills the maps from JSON in <c>vethxdp run --maps-in</c>'s format (see docs/cli.md).</summary>
    /// <exception cref="MapsJsonException">The JSON is bad or does not match the maps.</exception>
    public XdpProperty WithMapsJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var byName = new Dictionary<string, BpfMap>(StringComparer.Ordinal);
        foreach (var m in Maps)
        {
            byName[m.Name] = m;
        }

        MapsJson.Apply(json, "maps JSON", byName, _object.Names);
        return this;
    }

    /// <summary>The run options (ingress ifindex, queue, CPU, seed, clock, network); before the first frame.</summary>
    /// <exception cref="InvalidOperationException">Frames have already run.</exception>
    public XdpProperty WithRunOptions(RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (_runner is not null)
        {
            throw new InvalidOperationException("the run options must be set before the first frame runs");
        }

        _runOptions = options;
        return this;
    }

    /// <summary>Runs the frames on the engine <paramref name="engine"/> makes instead of the checked interpreter; before
    /// the first frame. <c>VethXdp.Jit.JitEngineFactory.Checked</c> is the checked JIT (any program, every access
    /// checked, so <see cref="XdpAssert.NeverFaults"/> still means something); <c>JitEngineFactory.Unchecked([token])</c>
    /// is the fastest engine, for a program the verifier accepted (the token comes from
    /// <c>VethXdp.Verifier.Sealing.TryVerify(spec, maps, Object.Prepare(spec), options, out _)</c>). On the unchecked JIT
    /// a wild access is not caught: use it for properties of verified programs, where the verifier has proved there
    /// is none.</summary>
    /// <exception cref="InvalidOperationException">Frames have already run.</exception>
    public XdpProperty WithEngine(IBpfEngineFactory engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        if (_runner is not null)
        {
            throw new InvalidOperationException("the engine must be chosen before the first frame runs");
        }

        _engine = engine;
        return this;
    }

    // ---- one frame ----

    /// <summary>Runs one frame. The case's views are valid until the next run.</summary>
    public XdpCase RunFrame(Frame frame) => Execute(frame, null);

    /// <summary>Runs raw bytes (no model). The result's views are valid until the next run.</summary>
    public XdpResult RunBytes(ReadOnlySpan<byte> frame) => Runner.Run(frame);

    // ---- properties ----

    /// <summary>The property "<paramref name="check"/> holds for every frame of <paramref name="frames"/>", for FsCheck
    /// (<c>[Property]</c> methods return it; FsCheck's <c>Check.One</c> runs it).</summary>
    public Property Check(FrameSpec frames, XdpCheck check)
    {
        ArgumentNullException.ThrowIfNull(frames);
        return Check(frames.ToArbitrary(), check);
    }

    /// <summary>The property over frames from <paramref name="frames"/> (any generator and shrinker).</summary>
    public Property Check(Arbitrary<Frame> frames, XdpCheck check)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(check);
        return Prop.ForAll(frames, frame => Evaluate(frame, check));
    }

    /// <summary>The property "<paramref name="property"/> is true for every frame".</summary>
    public Property Check(FrameSpec frames, Func<XdpCase, bool> property) =>
        Check(frames, XdpCheck.That("the property", property));

    /// <summary>The property given as an FsCheck property per frame (labels, classifications, implications).</summary>
    public Property Check(FrameSpec frames, Func<XdpCase, Property> property)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(property);
        return Prop.ForAll(frames.ToArbitrary(), frame => property(Execute(frame, null)));
    }

    /// <summary>Runs the property for up to <paramref name="maxTest"/> frames and reports, with the shrunk counterexample
    /// when it fails.</summary>
    /// <param name="frames">The frames.</param>
    /// <param name="check">What must hold.</param>
    /// <param name="maxTest">How many frames (FsCheck's MaxTest).</param>
    /// <param name="replay">A seed from an earlier report ("seed,gamma") to run the same frames again; null: a fresh one.</param>
    public XdpCheckReport Report(FrameSpec frames, XdpCheck check, int maxTest = 100, string? replay = null)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(check);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTest);
        var (rnd, size) = replay is null ? (NewSeed(), null) : ParseReplay(replay);
        string replayText = string.Create(CultureInfo.InvariantCulture, $"{rnd.Seed},{rnd.Gamma}");
        var capture = new CapturingRunner();
        var config = Config.Quick
            .WithMaxTest(maxTest)
            .WithQuietOnSuccess(true)
            .WithRunner(capture)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(rnd, size is { } s ? FSharpOption<int>.Some(s) : FSharpOption<int>.None)));
        global::FsCheck.Check.One(config, Check(frames, check));
        return capture.Result switch
        {
            TestResult.Failed f => Failed(check, f, replayText),
            TestResult.Passed p => new XdpCheckReport
            {
                Passed = true,
                Tests = p.Item1.NumberOfTests,
                Replay = replayText,
                Message = string.Create(CultureInfo.InvariantCulture, $"\"{check.Description}\" holds for {Label}: {p.Item1.NumberOfTests} frames"),
            },
            var other => new XdpCheckReport
            {
                Passed = false,
                Tests = 0,
                Replay = replayText,
                Message = $"\"{check.Description}\" for {Label}: FsCheck gave up: {other}",
            },
        };
    }

    /// <summary>Runs the property and throws <see cref="XdpPropertyException"/> when it fails, with the shrunk frame
    /// decoded and in hex in the message.</summary>
    /// <exception cref="XdpPropertyException">The check does not hold for some frame.</exception>
    public void Verify(FrameSpec frames, XdpCheck check, int maxTest = 100, string? replay = null)
    {
        var report = Report(frames, check, maxTest, replay);
        if (!report.Passed)
        {
            throw new XdpPropertyException(report);
        }
    }

    /// <summary>Runs the property "<paramref name="property"/> is true for every frame" and throws when it fails.</summary>
    /// <exception cref="XdpPropertyException">The property is false for some frame.</exception>
    public void Verify(FrameSpec frames, Func<XdpCase, bool> property, int maxTest = 100, string? replay = null) =>
        Verify(frames, XdpCheck.That("the property", property), maxTest, replay);

    /// <summary>Frees the object's maps when this property loaded it.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _runner?.Dispose();
        if (_ownsObject)
        {
            _object.Dispose();
        }
    }

    // ---- internals ----

    private Property Evaluate(Frame frame, XdpCheck check)
    {
        var c = Execute(frame, check);
        string? why = check.Check(in c);
        return why is null ? s_holds : Prop.Label(false, $"{why} [{c.Summary}]");
    }

    private XdpCase Execute(Frame frame, XdpCheck? check)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var runner = Runner;
        int full = frame.FullLength;
        if (_buffer.Length < full)
        {
            _buffer = new byte[Math.Max(full, _buffer.Length * 2)];
        }

        int n = frame.WriteTo(_buffer);
        var input = new ReadOnlyMemory<byte>(_buffer, 0, n);
        check?.Before(frame, input.Span, Maps);
        var result = runner.Run(input.Span);
        return new XdpCase(frame, input, result, runner);
    }

    private XdpCheckReport Failed(XdpCheck check, TestResult.Failed f, string replay)
    {
        var shrunk = First(f.Item3);
        var original = First(f.Item2);
        string? reason = null;
        string? verdict = null;
        if (shrunk is not null)
        {
            try
            {
                var c = Execute(shrunk, check);
                reason = check.Check(in c);
                verdict = c.Summary;
            }
#pragma warning disable CA1031 // the check's own exception is the reason it failed
            catch (Exception e)
#pragma warning restore CA1031
            {
                reason = $"the check threw {e.GetType().Name}: {e.Message}";
            }
        }

        reason ??= f.Item4.ToString();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"\"{check.Description}\" does not hold for {Label}: it failed after {f.Item1.NumberOfTests} frames ({f.Item1.NumberOfShrinks} shrinks).").AppendLine();
        sb.Append("Why: ").AppendLine(reason);
        if (verdict is not null && !reason.Contains(verdict.Replace("fault: ", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal))
        {
            sb.Append("Program: ").AppendLine(verdict);
        }

        if (shrunk is not null)
        {
            sb.AppendLine("Smallest failing frame:").AppendLine(FrameFormatter.Report(shrunk));
        }

        if (original is not null && shrunk is not null && !original.Equals(shrunk))
        {
            sb.Append(CultureInfo.InvariantCulture, $"First failing frame ({original.Length} bytes, before shrinking):").AppendLine()
                .AppendLine(original.Describe(includeHex: false));
        }

        sb.Append("Replay: \"").Append(replay).Append('"');
        return new XdpCheckReport
        {
            Passed = false,
            Tests = f.Item1.NumberOfTests,
            Shrinks = f.Item1.NumberOfShrinks,
            Counterexample = shrunk,
            Original = original,
            Reason = reason,
            Verdict = verdict,
            Replay = replay,
            Message = sb.ToString(),
        };
    }

    private static Frame? First(IEnumerable<object> args)
    {
        foreach (var a in args)
        {
            return a as Frame;
        }

        return null;
    }

    private static Rnd NewSeed()
    {
        Span<byte> b = stackalloc byte[16];
        RandomNumberGenerator.Fill(b);
        return new Rnd(BitConverter.ToUInt64(b), BitConverter.ToUInt64(b[8..]) | 1);
    }

    private static (Rnd Rnd, int? Size) ParseReplay(string replay)
    {
        var parts = replay.Trim().Trim('(', ')', '"').Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length is < 2 or > 3
            || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong gamma))
        {
            throw new ArgumentException($"replay \"{replay}\": expected \"seed,gamma\" or \"seed,gamma,size\"", nameof(replay));
        }

        int? size = parts.Length == 3 && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int s) ? s : null;
        return (new Rnd(seed, gamma), size);
    }
}
