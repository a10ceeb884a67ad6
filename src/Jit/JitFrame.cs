namespace VethXdp.Jit;

/// <summary>What a BPF-to-BPF call saves for its return (the explicit call stack of compiled code): where to return
/// to, the region count before the callee's stack frame, and the callee-saved registers.</summary>
internal struct JitFrame
{
    /// <summary>The index of the return site in the method's return switch.</summary>
    public int ReturnSite;

    /// <summary>The region count before the callee's stack frame was registered.</summary>
    public int RegionCount;

    /// <summary>Callee-saved r6-r9 and the caller's frame pointer.</summary>
    public ulong R6, R7, R8, R9, R10;
}
