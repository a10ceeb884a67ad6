namespace VethXdp.Reports;

/// <summary>Renderers of listings, graphs and reports (filled by the issues that need them).</summary>
public static class ReportsInfo
{
    /// <summary>The output formats.</summary>
    public static readonly string[] Formats = ["svg", "dot", "html"];
}
