namespace VethXdp.Reports.Cfg;

/// <summary>Colours and strokes of edge kinds, shared by the SVG and DOT writers.</summary>
internal static class CfgStyle
{
    public static string Color(CfgEdgeKind kind) => kind switch
    {
        CfgEdgeKind.Taken => "#1b873f",
        CfgEdgeKind.FallThrough => "#c62828",
        CfgEdgeKind.Call => "#1565c0",
        CfgEdgeKind.Callback => "#7b1fa2",
        _ => "#37474f",
    };

    public static bool Dashed(CfgEdgeKind kind) => kind is CfgEdgeKind.Call or CfgEdgeKind.Callback;

    public static string Id(CfgEdgeKind kind) => kind switch
    {
        CfgEdgeKind.Taken => "taken",
        CfgEdgeKind.FallThrough => "fall",
        CfgEdgeKind.Jump => "jump",
        CfgEdgeKind.Next => "next",
        CfgEdgeKind.Call => "call",
        _ => "callback",
    };
}
