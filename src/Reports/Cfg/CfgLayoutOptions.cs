namespace VethXdp.Reports.Cfg;

/// <summary>Sizes and effort of <see cref="CfgLayout"/>: text metrics (monospace), gaps, and the number of ordering
/// and positioning passes.</summary>
public sealed record CfgLayoutOptions
{
    /// <summary>The defaults: 12 px monospace text.</summary>
    public static CfgLayoutOptions Default { get; } = new();

    /// <summary>Font size in px.</summary>
    public double FontSize { get; init; } = 12;

    /// <summary>Advance of one character in px (DejaVu Sans Mono, Menlo and Consolas advance about 0.6 em).</summary>
    public double CharWidth { get; init; } = 7.25;

    /// <summary>Distance between text baselines in px.</summary>
    public double LineHeight { get; init; } = 16;

    /// <summary>Horizontal padding inside a block's box.</summary>
    public double PaddingX { get; init; } = 8;

    /// <summary>Vertical padding inside a block's box.</summary>
    public double PaddingY { get; init; } = 6;

    /// <summary>Horizontal gap between two boxes of a rank.</summary>
    public double NodeGap { get; init; } = 28;

    /// <summary>Vertical gap between ranks (room for curves, labels and back edges).</summary>
    public double RankGap { get; init; } = 64;

    /// <summary>Padding inside a function's cluster.</summary>
    public double ClusterPadding { get; init; } = 16;

    /// <summary>Height of a cluster's title.</summary>
    public double ClusterTitle { get; init; } = 22;

    /// <summary>Horizontal gap between clusters.</summary>
    public double ClusterGap { get; init; } = 72;

    /// <summary>Margin around the picture.</summary>
    public double Margin { get; init; } = 16;

    /// <summary>Lines longer than this are cut with '…'.</summary>
    public int MaxLineChars { get; init; } = 72;

    /// <summary>Barycentre sweeps that order the blocks of each rank (alternately downwards and upwards).</summary>
    public int OrderingPasses { get; init; } = 16;

    /// <summary>Sweeps that move blocks towards their neighbours' positions.</summary>
    public int PositionPasses { get; init; } = 10;
}
