namespace VethXdp.Vm.Runtime;

/// <summary>An object, map or program the runtime refuses to load, naming what and why:
/// <c>program xdp_prog: insn 12: unknown helper id 999</c>, <c>map "flows": max_entries is 0: ...</c>.</summary>
public sealed class RuntimeLoadException : Exception
{
    /// <summary>Creates the exception for program <paramref name="program"/> at instruction <paramref name="insn"/> (or none).</summary>
    public RuntimeLoadException(string? program, int? insn, string reason)
        : this(program, insn, reason, null)
    {
    }

    /// <summary>Creates the exception for program <paramref name="program"/> at instruction <paramref name="insn"/> (or none), with a cause.</summary>
    public RuntimeLoadException(string? program, int? insn, string reason, Exception? inner)
        : base(Compose(program, insn, reason), inner)
    {
        ProgramName = program;
        Insn = insn;
        Reason = reason ?? string.Empty;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public RuntimeLoadException()
        : this(null, null, "the object cannot be loaded")
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    public RuntimeLoadException(string message)
        : this(null, null, message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public RuntimeLoadException(string message, Exception innerException)
        : this(null, null, message, innerException)
    {
    }

    /// <summary>The program concerned, or null.</summary>
    public string? ProgramName { get; }

    /// <summary>The instruction (slot index) concerned, or null.</summary>
    public int? Insn { get; }

    /// <summary>The reason, without the program and instruction prefix ("insn 12: unknown helper id 999" has reason
    /// "unknown helper id 999").</summary>
    public string Reason { get; }

    private static string Compose(string? program, int? insn, string reason)
    {
        string text = insn is { } pc ? $"insn {pc}: {reason}" : reason;
        return program is null ? text : $"program {program}: {text}";
    }
}
