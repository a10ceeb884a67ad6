using System.CommandLine;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp verify</c> (being built).</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var cmd = new Command("verify", "(being built)");
        cmd.SetAction((Func<ParseResult, int>)(_ => throw new CliError("verify: not built yet")));
        return cmd;
    }
}
