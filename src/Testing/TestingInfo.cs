namespace VethXdp.Testing;

/// <summary>FsCheck generators and verdict properties for XDP programs (filled by the testing issue).</summary>
public static class TestingInfo
{
    /// <summary>The library version.</summary>
    public const string Version = "0.1.0";
}
