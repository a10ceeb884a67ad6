namespace VethXdp.Verifier;

/// <summary>The load-time verifier of Linux 6.18 (issue 4 fills this project).</summary>
public static class VerifierInfo
{
    /// <summary>The kernel whose verifier this mirrors.</summary>
    public const string Kernel = "6.18";
}
