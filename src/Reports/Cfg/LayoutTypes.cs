namespace VethXdp.Reports.Cfg;

/// <summary>A point of a layout, in px from the picture's top left.</summary>
/// <param name="X">Right.</param>
/// <param name="Y">Down.</param>
public readonly record struct LayoutPoint(double X, double Y);

/// <summary>Where a label's point is on the label's text.</summary>
public enum LabelAnchor
{
    /// <summary>The text starts at the point.</summary>
    Start,
    /// <summary>The text is centred on the point.</summary>
    Middle,
    /// <summary>The text ends at the point.</summary>
    End,
}

/// <summary>How an edge is drawn.</summary>
public enum EdgeRoute
{
    /// <summary>Down from the source's bottom to the target's top, through the ranks between (curves between ranks,
    /// straight through them).</summary>
    Forward,
    /// <summary>A back edge (a loop): out of the source's bottom, along a lane right of the blocks it passes, into the
    /// target's top (straight segments).</summary>
    Back,
    /// <summary>A forward edge too long for the layers (when a graph would need too many dummy nodes): drawn like a
    /// back edge, in a lane it shares with the other long edges into the same block.</summary>
    Bus,
    /// <summary>A call or callback: a dashed curve from the calling instruction's line to the callee's entry block.</summary>
    Call,
}

/// <summary>A block's box.</summary>
/// <param name="Block">The block's index.</param>
/// <param name="X">Left.</param>
/// <param name="Y">Top.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
/// <param name="Lines">Its text.</param>
public sealed record LayoutNode(int Block, double X, double Y, double Width, double Height, IReadOnlyList<CfgTextLine> Lines)
{
    /// <summary>Right edge.</summary>
    public double Right => X + Width;

    /// <summary>Bottom edge.</summary>
    public double Bottom => Y + Height;

    /// <summary>True when the box's outline passes within <paramref name="tolerance"/> of <paramref name="p"/>.</summary>
    public bool IsOnBoundary(LayoutPoint p, double tolerance = 0.5)
    {
        bool insideX = p.X >= X - tolerance && p.X <= Right + tolerance;
        bool insideY = p.Y >= Y - tolerance && p.Y <= Bottom + tolerance;
        bool onVertical = insideY && (Math.Abs(p.X - X) <= tolerance || Math.Abs(p.X - Right) <= tolerance);
        bool onHorizontal = insideX && (Math.Abs(p.Y - Y) <= tolerance || Math.Abs(p.Y - Bottom) <= tolerance);
        return onVertical || onHorizontal;
    }
}

/// <summary>An edge's route.</summary>
/// <param name="Edge">The edge.</param>
/// <param name="Route">How it is drawn.</param>
/// <param name="Points">Its points, from the source box's outline to the target box's outline.</param>
/// <param name="Label">Its label, or null.</param>
/// <param name="LabelAt">Where the label goes.</param>
/// <param name="Anchor">Where <paramref name="LabelAt"/> is on the label's text.</param>
public sealed record LayoutEdge(CfgEdge Edge, EdgeRoute Route, IReadOnlyList<LayoutPoint> Points, string? Label, LayoutPoint LabelAt, LabelAnchor Anchor);

/// <summary>A function's frame.</summary>
/// <param name="Function">The function's index.</param>
/// <param name="Title">Its name.</param>
/// <param name="X">Left.</param>
/// <param name="Y">Top.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
public sealed record LayoutCluster(int Function, string Title, double X, double Y, double Width, double Height);
