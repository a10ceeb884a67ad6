using System.CommandLine;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp bench</c> (being built).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var cmd = new Command("bench", "(being built)");
        cmd.SetAction((Func<ParseResult, int>)(_ => throw new CliError("bench: not built yet")));
        return cmd;
    }
}
