namespace VethXdp.Cli;

/// <summary>A usage or input error the command reports in one line and exits 2 for.</summary>
internal sealed class CliError : Exception
{
    public CliError(string message)
        : base(message)
    {
    }

    public CliError()
    {
    }

    public CliError(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>Exit codes shared by every command.</summary>
internal static class ExitCode
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>A negative answer: a mismatch, a rejection, a disagreement.</summary>
    public const int Negative = 1;

    /// <summary>Bad input or usage.</summary>
    public const int BadInput = 2;
}
