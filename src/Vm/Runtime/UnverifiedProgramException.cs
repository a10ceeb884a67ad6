namespace VethXdp.Vm.Runtime;

/// <summary>An engine that runs only verified programs (the unchecked JIT, <c>jit</c>) was given one the verifier did
/// not accept: "program X was not verified: use --engine jit-checked (or interp)".</summary>
public sealed class UnverifiedProgramException : Exception
{
    /// <summary>Creates the refusal for program <paramref name="programName"/>.</summary>
    public UnverifiedProgramException(string programName)
        : base(MessageFor(programName))
    {
        ProgramName = programName;
    }

    /// <summary>Creates the refusal with a message of its own.</summary>
    public UnverifiedProgramException()
        : base("the program was not verified: use --engine jit-checked (or interp)")
    {
        ProgramName = string.Empty;
    }

    /// <summary>Creates the refusal with a message of its own.</summary>
    public UnverifiedProgramException(string message, Exception innerException)
        : base(message, innerException)
    {
        ProgramName = string.Empty;
    }

    /// <summary>The program that was refused.</summary>
    public string ProgramName { get; }

    /// <summary>The message for program <paramref name="programName"/>.</summary>
    public static string MessageFor(string programName) =>
        $"program {programName} was not verified: use --engine jit-checked (or interp)";
}
