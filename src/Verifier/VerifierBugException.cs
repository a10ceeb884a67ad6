namespace VethXdp.Verifier;

/// <summary>An internal verifier bug: a broken invariant or an unreachable case (the kernel's <c>verifier_bug()</c>).
/// Never turned into a rejection of the program (STYLE C4).</summary>
public sealed class VerifierBugException : Exception
{
    /// <summary>Creates the exception.</summary>
    public VerifierBugException()
        : base("verifier bug")
    {
    }

    /// <summary>Creates the exception with the kernel's wording of the bug.</summary>
    /// <param name="message">What is wrong.</param>
    public VerifierBugException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with an inner cause.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="inner">The cause.</param>
    public VerifierBugException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
