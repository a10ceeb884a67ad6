namespace VethXdp.Reports.Cfg;

/// <summary>Why control goes from one block to another.</summary>
public enum CfgEdgeKind
{
    /// <summary>A conditional jump that jumps.</summary>
    Taken,
    /// <summary>A conditional jump that does not jump: the next instruction.</summary>
    FallThrough,
    /// <summary>An unconditional jump (<c>goto</c>, <c>gotol</c>).</summary>
    Jump,
    /// <summary>The block ends because the next instruction is a jump target: control runs on into it.</summary>
    Next,
    /// <summary>A BPF-to-BPF call (the caller's block continues after it).</summary>
    Call,
    /// <summary>A function's address loaded for a helper to call back (bpf_loop, timers, for_each_map_elem).</summary>
    Callback,
}
