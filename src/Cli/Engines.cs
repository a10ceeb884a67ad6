using System.CommandLine;

namespace VethXdp.Cli;

/// <summary>The execution engines a command can choose; the JIT issue adds its own.</summary>
internal static class Engines
{
    public const string Interpreter = "interp";

    public static Option<string> Option() => new("--engine")
    {
        Description = "Execution engine: interp (the checked reference interpreter).",
        DefaultValueFactory = _ => Interpreter,
    };

    public static void Check(string engine)
    {
        if (engine != Interpreter)
        {
            throw new CliError($"unknown engine '{engine}' (available: {Interpreter})");
        }
    }
}
