using System.Diagnostics;

namespace VethXdp.Cli.Tests;

/// <summary>The result of one run of the built command.</summary>
public sealed record CliResult(int ExitCode, string StdOut, string StdErr);

/// <summary>Runs the built <c>vethxdp</c> command as a separate process, as users and the conformance runner do.</summary>
public static class CliProcess
{
    /// <summary>The built command's entry assembly, copied beside the tests by the project reference.</summary>
    public static string CommandDll { get; } = Path.Combine(AppContext.BaseDirectory, "vethxdp.dll");

    /// <summary>Runs <c>dotnet vethxdp.dll args...</c> with <paramref name="stdin"/> and a timeout.</summary>
    public static CliResult Run(IEnumerable<string> args, string? stdin = null, int timeoutMs = 60_000)
    {
        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(CommandDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_TieredPGO"] = "0";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the command");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
        }

        p.StandardInput.Close();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"vethxdp {string.Join(' ', args)} did not finish in {timeoutMs} ms");
        }

        p.WaitForExit();
        return new CliResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs with arguments only.</summary>
    public static CliResult Run(params string[] args) => Run((IEnumerable<string>)args);

    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
    }
}
