using System.CommandLine;
using VethXdp.Jit;
using VethXdp.Vm.Runtime;

namespace VethXdp.Cli;

/// <summary>The execution engines a command can choose: interp, jit-checked, jit.</summary>
internal static class Engines
{
    public const string Interpreter = InterpreterEngine.Name;
    public const string JitChecked = JitEngineFactory.CheckedName;
    public const string Jit = JitEngineFactory.UncheckedName;

    public static Option<string> Option() => new("--engine")
    {
        Description = "Execution engine: interp (the checked reference interpreter), jit-checked (the IL JIT, every access checked) or jit (the unchecked JIT, verified programs only).",
        DefaultValueFactory = _ => Interpreter,
    };

    public static void Check(string engine)
    {
        if (engine is not (Interpreter or JitChecked or Jit))
        {
            throw new CliError($"unknown engine '{engine}' (available: {Interpreter}, {JitChecked}, {Jit})");
        }
    }

    /// <summary>The factory for <paramref name="engine"/> running program <paramref name="program"/>. Nothing is
    /// verified yet, so <c>jit</c> refuses every program (exit 2).</summary>
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
}
