using System.CommandLine;
using VethXdp.Jit;
using VethXdp.Verifier;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Cli;

/// <summary>The execution engines a command can choose (interp, jit-checked, jit) and the rule for the default: <c>jit</c>
/// for a program the verifier accepts, <c>interp</c> for an <c>--unverified</c> one (or one that cannot be verified).</summary>
internal static class Engines
{
    public const string Interpreter = InterpreterEngine.Name;
    public const string JitChecked = JitEngineFactory.CheckedName;
    public const string Jit = JitEngineFactory.UncheckedName;

    /// <summary>--engine, null when not given (the command then takes the default of Choose).</summary>
    public static Option<string?> Option() => new("--engine")
    {
        Description = "Execution engine: interp (the checked reference interpreter), jit-checked (the IL JIT, every access checked) or jit (the unchecked JIT, verified programs only). Default: jit when the verifier accepts the program, else interp.",
    };

    /// <summary>--unverified: skip the verifier; the default engine is then interp and jit is refused.</summary>
    public static Option<bool> UnverifiedOption() => new("--unverified")
    {
        Description = "Do not verify the program: run it on the interpreter by default (jit needs a verified program; jit-checked runs anything).",
    };

    public static void Check(string? engine)
    {
        if (engine is not (null or Interpreter or JitChecked or Jit))
        {
            throw new CliError($"unknown engine '{engine}' (available: {Interpreter}, {JitChecked}, {Jit})");
        }
    }

    /// <summary>The factory for <paramref name="engine"/> on a program that was not verified: <c>jit</c> refuses it,
    /// naming jit-checked (exit 2).</summary>
    public static IBpfEngineFactory Factory(string engine, string program, JitOptions? jit = null)
    {
        Check(engine);
        return engine switch
        {
            JitChecked => jit is null ? JitEngineFactory.Checked : JitEngineFactory.CheckedWith(jit),
            Jit => throw new CliError(UnverifiedProgramException.MessageFor(program)),
            _ => InterpreterEngineFactory.Instance,
        };
    }

    /// <summary>The engine for program <paramref name="program"/> of <paramref name="loaded"/>: <paramref name="engine"/>
    /// when given, else <c>jit</c> when the verifier accepts the program and <c>interp</c> otherwise. <c>jit</c> (given
    /// or chosen) runs the program the verifier sealed; given for a program that is not verified it stops (exit 2).</summary>
    public static EngineChoice Choose(LoadedObject loaded, string program, string? engine, bool unverified, JitOptions? jit = null)
    {
        Check(engine);
        if (unverified && engine is Interpreter or JitChecked or null)
        {
            return new(Factory(engine ?? Interpreter, program, jit), null);
        }

        if (unverified)
        {
            throw new CliError(UnverifiedProgramException.MessageFor(program) + " (--unverified)");
        }

        VerifiedProgram? token;
        VerificationResult? result = null;
        try
        {
            var spec = loaded.GetProgram(program);
            var prepared = loaded.Prepare(spec);
            var maps = new MapSpec[loaded.Maps.Count];
            for (int i = 0; i < maps.Length; i++)
            {
                maps[i] = loaded.Maps[i].Spec;
            }

            token = Sealing.TryVerify(spec, maps, prepared, new VerifierOptions { DeviceBound = loaded.Options.DeviceBound }, out result);
        }
        catch (RuntimeLoadException)
        {
            // The loader refuses the program: the runner reports it with its own message.
            token = null;
        }

        if (token is not null)
        {
            return engine is Interpreter or JitChecked
                ? new(Factory(engine, program, jit), result)
                : new(JitEngineFactory.Unchecked([token], jit), result);
        }

        RefuseIfLinuxWould(program, result);
        return engine is Interpreter or JitChecked ? new(Factory(engine, program, jit), result) : OnRejected(program, engine, result, jit);
    }

    // A program the verifier rejects for a reason Linux shares (an unsafe access, a malformed program, a missing
    // permission) is refused as Linux would refuse to load it: exit 1 with the kernel-style log. Where the rejection is
    // this verifier's own limit (an unmodelled feature, or the complexity limit, which our pruning can hit before
    // Linux's does), the program still runs, checked, with a note.
    private static void RefuseIfLinuxWould(string program, VerificationResult? result)
    {
        if (result?.Error is not { } e)
        {
            return;
        }

        if (e.Kind is RejectKind.NotSupported or RejectKind.TooComplex)
        {
            Console.Error.WriteLine($"vethxdp: note: {program}: the verifier could not decide ({e.Message.Split('\n')[0]}); running it checked");
            return;
        }

        Console.Error.Write(result.Log);
        throw new RefusedError($"{program}: rejected by the verifier, as Linux would refuse to load it (insn {e.InsnIndex}, {e.ErrnoName}): {e.Message.Split('\n')[0]}; --unverified runs it checked anyway");
    }

    /// <summary>The engine for a program with no object around it (exec, plugin): verified as <paramref name="type"/>
    /// when there is one (exec --xdp), else it cannot be verified (a conformance program has no program type).</summary>
    public static EngineChoice Choose(BpfProgram program, ProgramType? type, string? engine, bool unverified, JitOptions? jit = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        Check(engine);
        if (engine is Interpreter or JitChecked || type is null || unverified)
        {
            return new(Factory(engine ?? Interpreter, program.Name, jit), null);
        }

        var spec = new ProgramSpec { Name = program.Name, SectionName = string.Empty, Type = type.Value, Slots = program.Slots.ToArray() };
        var prepared = new Vm.Interpreter.ExecutableProgram(program);
        var token = Sealing.TryVerify(spec, [], prepared, null, out var result);
        return token is not null
            ? new(JitEngineFactory.Unchecked([token], jit), result)
            : OnRejected(program.Name, engine, result, jit);
    }

    // THE place where a rejected program will be refused (the lead's decision, once the verifier no longer
    // false-rejects corpus programs: kfuncs, some loops). Until then a rejected program falls back to the
    // interpreter silently, unless jit was asked for by name: jit never runs a program the verifier did not accept.
    private static EngineChoice OnRejected(string program, string? engine, VerificationResult? result, JitOptions? jit)
    {
        if (engine == Jit)
        {
            string why = result?.Error is { } e ? $"the verifier rejected it ({e.Message})" : "it does not load";
            throw new CliError($"program {program} cannot run on {Jit}: {why}; use --engine {JitChecked} (or {Interpreter})");
        }

        return new(Factory(Interpreter, program, jit), result);
    }
}

/// <summary>What <see cref="Engines.Choose(LoadedObject, string, string?, bool, JitOptions?)"/> picked: the factory
/// and the verification it rests on (null when nothing was verified).</summary>
internal sealed record EngineChoice(IBpfEngineFactory Factory, VerificationResult? Verification);
