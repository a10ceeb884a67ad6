namespace VethXdp.Vm.Isa;

/// <summary>Bad assembly source: names the 1-based source line ("line 3: unknown mnemonic 'foo'").</summary>
public sealed class AssemblerException : Exception
{
    /// <summary>Creates the exception for source line <paramref name="line"/> (1-based; 0 when not about one line).</summary>
    public AssemblerException(int line, string reason)
        : base(line > 0 ? $"line {line}: {reason}" : reason)
    {
        Line = line;
        Reason = reason;
    }

    /// <summary>Creates the exception without a line.</summary>
    public AssemblerException()
        : this(0, "invalid assembly")
    {
    }

    /// <summary>Creates the exception without a line.</summary>
    public AssemblerException(string message)
        : this(0, message)
    {
    }

    /// <summary>Creates the exception without a line.</summary>
    public AssemblerException(string message, Exception inner)
        : base(message, inner)
    {
        Reason = message;
    }

    /// <summary>The 1-based source line, or 0 when the error is not about one line.</summary>
    public int Line { get; }

    /// <summary>The reason without the line prefix.</summary>
    public string Reason { get; }
}
