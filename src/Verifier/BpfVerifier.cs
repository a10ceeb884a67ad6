using System.Diagnostics;
using VethXdp.Verifier.Cfg;
using VethXdp.Verifier.Checks;
using VethXdp.Verifier.Context;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier;

/// <summary>How to verify: the program type (when the object does not say), the attach variant, the log level.</summary>
public sealed record VerifierOptions
{
    /// <summary>The program type; null takes the program's own (from its section name).</summary>
    public ProgramType? Type { get; init; }

    /// <summary>expected_attach_type (BPF_XDP_DEVMAP = 33, BPF_XDP_CPUMAP = 34); null takes the program's own.</summary>
    public uint? ExpectedAttachType { get; init; }

    /// <summary>Loaded bound to a device (prog_ifindex with BPF_F_XDP_DEV_BOUND_ONLY).</summary>
    public bool DeviceBound { get; init; }

    /// <summary>BPF_F_STRICT_ALIGNMENT: check the alignment of every access as a strict-alignment architecture
    /// would.</summary>
    public bool StrictAlignment { get; init; }

    /// <summary>The log level bits; level 1 by default (the kernel's default for a failed load's log).</summary>
    public VerifierLogLevel LogLevel { get; init; } = VerifierLogLevel.Level1;

    /// <summary>Keep, for every instruction, the distinct abstract states paths reached it in (read them with
    /// <see cref="VerificationResult.StatesAt"/>). Off by default; off, it costs one null test per instruction.
    /// Not a kernel feature: for soundness tests and for students. Combine with <see cref="DisablePruning"/> to have
    /// a state for every path.</summary>
    public bool RecordStates { get; init; }

    /// <summary>Never prune: explore every path to its exit or rejection, even where an explored state already covers
    /// it (this includes the convergence check of callbacks). Not a kernel feature: verdicts agree with the kernel's
    /// except that a program with loops, callbacks or many branches may now exceed the 1,000,000-instruction limit
    /// (-E2BIG) where the kernel prunes its way through. With pruning, a path cut at a
    /// prune point continues, at run time, under an older state whose imprecise scalars need not contain its
    /// values; without it, every executed instruction has a recorded state that contains the run's registers.</summary>
    public bool DisablePruning { get; init; }
}

/// <summary>The outcome of <see cref="BpfVerifier.Verify(ProgramSpec, IReadOnlyList{MapSpec}, VerifierOptions?)"/>:
/// accepted or the rejection, the log at the requested level, and the counters.</summary>
public sealed class VerificationResult
{
    internal VerificationResult(VerifierError? error, string log, VerifierStats stats, ProgramType type)
    {
        Error = error;
        Log = log;
        Stats = stats;
        Type = type;
    }

    /// <summary>True when the program would load.</summary>
    public bool Accepted => Error is null;

    /// <summary>The rejection, or null.</summary>
    public VerifierError? Error { get; }

    /// <summary>The log text.</summary>
    public string Log { get; }

    /// <summary>The counters of the closing line.</summary>
    public VerifierStats Stats { get; }

    /// <summary>The program type verified.</summary>
    public ProgramType Type { get; }

    /// <summary>True when the states were recorded (<see cref="VerifierOptions.RecordStates"/>, and the program got
    /// past the instruction and control-flow checks, which run before any state exists).</summary>
    public bool HasRecordedStates => Recorder is not null;

    /// <summary>The number of distinct states recorded over all instructions (0 when not recording).</summary>
    public int RecordedStateCount => Recorder?.Count ?? 0;

    /// <summary>The distinct abstract states paths reached instruction <paramref name="insn"/> in, before checking it,
    /// in the order they reached it (<see cref="VerifierOptions.RecordStates"/>). Empty when not recording, for an
    /// instruction no path reached, and for the second slot of a 64-bit immediate load. For a rejected program, the
    /// states of the paths explored up to the rejection.</summary>
    /// <param name="insn">The slot index.</param>
    public IReadOnlyList<RecordedState> StatesAt(int insn) => Recorder is { } r ? r.StatesAt(insn) : [];

    internal StateRecorder? Recorder { get; init; }
}

/// <summary>The load-time verifier of Linux 6.18, reimplemented: control-flow checks, then the path-sensitive
/// exploration over registers and stack, with the kernel's messages and log format.</summary>
public static class BpfVerifier
{
    /// <summary>Verifies a linked program against the object's maps.</summary>
    /// <param name="spec">The program (from <c>ElfObjectReader</c>, or built from assembly).</param>
    /// <param name="maps">The object's maps, indexed as the program's map loads index them.</param>
    /// <param name="options">Type, attach variant, log level.</param>
    public static VerificationResult Verify(ProgramSpec spec, IReadOnlyList<MapSpec> maps, VerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(maps);
        options ??= new VerifierOptions();
        var type = options.Type ?? spec.Type;
        uint attach = options.ExpectedAttachType ?? spec.ExpectedAttachType;
        var started = Stopwatch.GetTimestamp();
        var log = new VerifierLog(options.LogLevel, spec.Lines);
        var insns = spec.Slots.ToArray();
        var stats = new VerifierStats();

        if (PseudoLdImm64.Check(insns, maps, log) is { } early)
        {
            stats.VerificationTimeUsec = (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            stats.StackDepths = [0];
            log.WriteStats(stats);
            return new VerificationResult(early, log.ToString(), stats, type);
        }

        var cfg = CfgCheck.Check(spec, CfgOptions.Root, log);
        if (!cfg.Ok)
        {
            stats.VerificationTimeUsec = (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            stats.StackDepths = new int[Math.Max(1, cfg.Subprogs.Count)];
            var err = cfg.Error!;
            if (err.Message.Length > 0)
            {
                log.WriteStats(stats);
            }

            return new VerificationResult(err, log.ToString(), stats, type);
        }

        if (log.IsLevel2)
        {
            WriteLiveRegsTable(log, insns, cfg, type);
        }

        var ctx = ContextModel.TryFor(type, attach, options.DeviceBound);
        var prog = new ProgramContext(type, attach, ctx, options.DeviceBound, spec.Frags, options.StrictAlignment);
        var recorder = options.RecordStates ? new StateRecorder(insns.Length, [.. cfg.Subprogs.Select(sp => sp.Start)]) : null;
        var env = new VerifierEnv(insns, prog, maps, cfg, log) { Recorder = recorder, PruningDisabled = options.DisablePruning, Functions = spec.Functions };
        var error = ctx is null
            ? new VerifierError(-1, RejectKind.NotSupported, $"program type {type} is not supported by this verifier")
            : env.Run();
        // do_check_common(): a successful exploration at level 1 leaves no log behind; env.Run() resets the log after
        // each successful pass itself (the main program's, then each global function's, see Verifier.Global.cs)

        if (error is null)
        {
            error = CfgCheck.CheckMaxStackDepth(insns, cfg.Subprogs, env.StackDepth, CfgOptions.Root, log);
        }

        var s = env.Stats;
        s.VerificationTimeUsec = (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        s.StackDepths = env.StackDepth;
        log.WriteStats(s);
        string text = log.ToString();

        recorder?.Freeze();
        return new VerificationResult(error, text, s, type) { Recorder = recorder };
    }

    /// <summary>Verifies assembled instructions as a program of <paramref name="type"/>.</summary>
    /// <param name="program">The instructions.</param>
    /// <param name="type">The program type.</param>
    /// <param name="maps">Maps the instructions' map loads index.</param>
    /// <param name="options">Attach variant and log level.</param>
    public static VerificationResult Verify(BpfProgram program, ProgramType type, IReadOnlyList<MapSpec>? maps = null,
        VerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        var spec = new ProgramSpec
        {
            Name = program.Name,
            SectionName = string.Empty,
            Type = type,
            Slots = program.Slots.ToArray(),
        };
        return Verify(spec, maps ?? [], (options ?? new VerifierOptions()) with { Type = type });
    }

    // Linux 6.18 prints the liveness table at level 2, after the function list.
    private static void WriteLiveRegsTable(VerifierLog log, Instruction[] insns, CfgResult cfg, ProgramType type)
    {
        var live = LiveRegs.Compute(insns, cfg.Subprogs, type);
        var loops = LiveRegs.LoopIds(insns);
        log.WriteLine("Live regs before insn:");
        for (int i = 0; i < insns.Length; i++)
        {
            if (i > 0 && insns[i - 1].IsLdImm64)
            {
                continue;
            }

            string text = VerifierEnv.FormatInsnText(insns, i);
            string loop = loops[i] != 0 ? $"{loops[i],3} " : "    ";
            log.WriteLine($"{loop}{i,3}: {LiveRegs.Format(live[i])} {text}");
        }
    }
}
