namespace VethXdp.Reports.Cfg;

/// <summary>A basic block: slots [<see cref="Start"/>, <see cref="End"/>) of the linked program.</summary>
/// <param name="Index">Its index in <see cref="ControlFlowGraph.Blocks"/> (blocks are in slot order).</param>
/// <param name="Start">Its first slot (a leader: 0, a jump target, a function entry, or the slot after a jump or exit).</param>
/// <param name="End">One past its last slot (a 64-bit load's second slot included).</param>
/// <param name="Function">The index of the function it belongs to in <see cref="ControlFlowGraph.Functions"/>.</param>
public sealed record BasicBlock(int Index, int Start, int End, int Function)
{
    /// <summary>Slots in the block.</summary>
    public int Length => End - Start;
}
