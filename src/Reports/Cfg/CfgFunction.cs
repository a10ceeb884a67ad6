namespace VethXdp.Reports.Cfg;

/// <summary>A function of the linked program: the main program or a subprogram (a cluster in pictures).</summary>
/// <param name="Index">Its index in <see cref="ControlFlowGraph.Functions"/>.</param>
/// <param name="Name">Its name (BTF func_info or symbol; <c>func@N</c> when unknown).</param>
/// <param name="Start">Its first slot.</param>
/// <param name="End">One past its last slot.</param>
/// <param name="Blocks">Its blocks' indices, in slot order; the first is its entry.</param>
public sealed record CfgFunction(int Index, string Name, int Start, int End, IReadOnlyList<int> Blocks);
