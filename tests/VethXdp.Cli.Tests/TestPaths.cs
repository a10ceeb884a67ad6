namespace VethXdp.Cli.Tests;

/// <summary>Where the repository, its corpus and ../shared are, seen from the test binaries.</summary>
public static class TestPaths
{
    /// <summary>The folder holding VethXdp.sln.</summary>
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>corpus/ in the repository.</summary>
    public static string CorpusDir => Path.Combine(RepoRoot, "corpus");

    /// <summary>../shared/conformance/tests beside the repository, or null when ../shared is absent.</summary>
    public static string? ConformanceDir
    {
        get
        {
            var d = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "conformance", "tests"));
            return Directory.Exists(d) ? d : null;
        }
    }

    /// <summary>Why conformance cases are skipped where ../shared is absent.</summary>
    public static string ConformanceAbsentReason =>
        $"bpf_conformance data not found at {Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "conformance", "tests"))} (../shared is absent)";

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "VethXdp.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException($"VethXdp.sln not found above {AppContext.BaseDirectory}");
    }
}
