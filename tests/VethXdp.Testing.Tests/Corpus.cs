namespace VethXdp.Testing.Tests;

/// <summary>Paths of corpus objects.</summary>
internal static class Corpus
{
    public static string Xdp(string name, string version = "v4") => Path.Combine(TestPaths.CorpusDir, "xdp", $"{name}.{version}.o");

    public static string Buggy(string name, string version = "v4") => Path.Combine(TestPaths.CorpusDir, "buggy", $"{name}.{version}.o");
}
