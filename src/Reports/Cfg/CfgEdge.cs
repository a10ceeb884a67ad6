namespace VethXdp.Reports.Cfg;

/// <summary>An edge between two blocks.</summary>
/// <param name="From">The source block's index.</param>
/// <param name="To">The target block's index.</param>
/// <param name="Kind">Why control goes there.</param>
/// <param name="Slot">The instruction that makes the edge (the jump, call or function load; the block's last
/// instruction for <see cref="CfgEdgeKind.Next"/>).</param>
public readonly record struct CfgEdge(int From, int To, CfgEdgeKind Kind, int Slot)
{
    /// <summary>True for call and callback edges, which leave the caller's block without ending it.</summary>
    public bool IsCall => Kind is CfgEdgeKind.Call or CfgEdgeKind.Callback;

    /// <summary>The label a picture gives the edge: "taken", "fall-through", "call", "callback", or null.</summary>
    public string? Label => Kind switch
    {
        CfgEdgeKind.Taken => "taken",
        CfgEdgeKind.FallThrough => "fall-through",
        CfgEdgeKind.Call => "call",
        CfgEdgeKind.Callback => "callback",
        _ => null,
    };
}
