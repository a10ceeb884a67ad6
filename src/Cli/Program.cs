using System.CommandLine;
using System.Globalization;
using VethXdp.Cli.Commands;

namespace VethXdp.Cli;

/// <summary>The <c>vethxdp</c> command: parses, calls the library, prints. Exit codes: 0 done, 1 negative answer, 2 bad input or usage.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

        var verbose = new Option<bool>("--verbose") { Description = "Print stack traces with errors.", Recursive = true };
        var root = new RootCommand("vethxdp: run, verify and study XDP programs without a kernel.");
        root.Options.Add(verbose);
        root.Subcommands.Add(AsmCommand.Create());
        root.Subcommands.Add(DisasmCommand.Create());
        root.Subcommands.Add(ExecCommand.Create());
        root.Subcommands.Add(PluginCommand.Create());
        root.Subcommands.Add(ProgsCommand.Create());
        root.Subcommands.Add(MapsCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(DiffCommand.Create());
        root.Subcommands.Add(TraceCommand.Create());
        root.Subcommands.Add(CfgCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(SimCommand.Create());
        root.Subcommands.Add(ExplainCommand.Create());

        var parse = root.Parse(PluginCommand.NormalizeArguments(args));
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                Console.Error.WriteLine($"vethxdp: {e.Message}");
            }

            Console.Error.WriteLine("Try 'vethxdp --help'.");
            return ExitCode.BadInput;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
#pragma warning disable CA1031 // the command's contract: no stack trace escapes, one line and exit 2
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Errors.Report(ex, parse.GetValue(verbose));
        }
    }
}
