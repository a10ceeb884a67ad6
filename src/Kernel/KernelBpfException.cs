namespace VethXdp.Kernel;

/// <summary>A bpf() command that the running kernel refused: the command, the errno and, for
/// BPF_PROG_LOAD, the verifier's log.</summary>
/// <remarks>The message follows cilium/ebpf: the command, the errno, and for a refused program the line
/// of the log that says why (the full log is in <see cref="VerifierLog"/>).</remarks>
public sealed class KernelBpfException : Exception
{
    /// <summary>Creates the exception for <paramref name="command"/> failing with <paramref name="errno"/>.</summary>
    /// <param name="command">The bpf() command.</param>
    /// <param name="errno">The positive errno value.</param>
    /// <param name="verifierLog">The verifier log (BPF_PROG_LOAD), or null.</param>
    /// <param name="context">What was being done ("map \"flows\""), or null.</param>
    public KernelBpfException(BpfCommand command, int errno, string? verifierLog = null, string? context = null)
        : base(Compose(command, errno, verifierLog, context))
    {
        Command = command;
        Errno = errno;
        VerifierLog = verifierLog;
        Context = context;
    }

    /// <summary>Creates the exception without a command.</summary>
    public KernelBpfException()
        : this("bpf() failed")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public KernelBpfException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public KernelBpfException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The command that failed.</summary>
    public BpfCommand Command { get; }

    /// <summary>The positive errno value.</summary>
    public int Errno { get; }

    /// <summary>The errno's name ("EACCES").</summary>
    public string ErrnoName => ErrnoNames.Name(Errno);

    /// <summary>The verifier's log for a refused program, or null.</summary>
    public string? VerifierLog { get; }

    /// <summary>What was being done, or null.</summary>
    public string? Context { get; }

    /// <summary>The verifier's reason: the last line of the log before its statistics, or null.</summary>
    public string? VerifierMessage => VerifierLog is null ? null : KernelLog.Reason(VerifierLog);

    private static string Compose(BpfCommand command, int errno, string? log, string? context)
    {
        string where = context is null ? string.Empty : context + ": ";
        string text = $"{where}{BpfCommandNames.Name(command)}: {ErrnoNames.Name(errno)} ({ErrnoNames.Describe(errno)})";
        if (log is not null && KernelLog.Reason(log) is { } reason)
        {
            int lines = KernelLog.LineCount(log);
            text += $": {reason}" + (lines > 1 ? $" ({lines - 1} line(s) omitted)" : string.Empty);
        }

        return text;
    }
}
