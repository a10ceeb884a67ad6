using System.CommandLine;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp sim</c> (being built).</summary>
internal static class SimCommand
{
    public static Command Create()
    {
        var cmd = new Command("sim", "(being built)");
        cmd.SetAction((Func<ParseResult, int>)(_ => throw new CliError("sim: not built yet")));
        return cmd;
    }
}
