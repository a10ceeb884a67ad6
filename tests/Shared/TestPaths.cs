namespace VethXdp.Tests.Shared;

/// <summary>Locates the repository and the shared test data next to it.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> s_repoRoot = new(FindRepoRoot);

    /// <summary>The folder holding VethXdp.sln (found by walking up from the test assembly).</summary>
    public static string RepoRoot => s_repoRoot.Value;

    /// <summary>../shared/conformance/tests next to the repository, or null when it is absent.</summary>
    public static string? ConformanceDir
    {
        get
        {
            string dir = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "conformance", "tests"));
            return Directory.Exists(dir) ? dir : null;
        }
    }

    /// <summary>Why conformance cases are skipped where ../shared is absent.</summary>
    public static string ConformanceAbsentReason =>
        $"bpf_conformance data not found at {Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "conformance", "tests"))} (../shared is absent)";

    /// <summary>../shared/reference next to the repository, or null when it is absent.</summary>
    public static string? ReferenceDir
    {
        get
        {
            string dir = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "reference"));
            return Directory.Exists(dir) ? dir : null;
        }
    }

    /// <summary>The repository's corpus/ folder.</summary>
    public static string CorpusDir => Path.Combine(RepoRoot, "corpus");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VethXdp.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"VethXdp.sln not found above {AppContext.BaseDirectory}");
    }
}
