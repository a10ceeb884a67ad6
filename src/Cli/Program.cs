namespace VethXdp.Cli;

/// <summary>The vethxdp command.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args) => args.Length == 0 ? 2 : 0;
}
