namespace VethXdp.Verifier.Checks;

// State recording and the switch that turns pruning off: tools for tests and students, not part of the kernel.
//
// Why recording wants pruning off. The verifier's promise is about programs, not about each instruction: it proves
// that every execution is safe, and with pruning it proves it for a path P reaching insn i in state C by showing that
// an explored state O at i is at least as general *for everything below i*. "As general" is judged only on what O's
// exploration used: dead registers are not compared, imprecise scalars of O match any scalar of C (their values never
// decided anything below i), ids are matched up to renaming. So the concrete run following P continues below i
// covered by O's exploration, whose recorded states describe O's registers — and those need not contain P's concrete
// values (an imprecise O.r3 = 5 covers a concrete r3 = 7). The per-instruction property "every concrete register lies
// in some recorded state" therefore holds only when every path is explored to its end: DisablePruning.
// With pruning off, a checkpoint is still taken at prune points (it bounds the jump history and detects infinite
// loops, which remain rejections); it just never stops a path, and neither does the convergence check of callbacks
// (bpf_loop, for_each_map_elem: RANGE_WITHIN), which is pruning too. A program with loops, callbacks or many branches
// may then hit the 1,000,000-instruction limit (-E2BIG) where the kernel would not: acceptance is only comparable with
// pruning on.
internal sealed partial class VerifierEnv
{
    /// <summary>Records the state of every path at every instruction; null (the default) records nothing.</summary>
    public StateRecorder? Recorder { get; init; }

    /// <summary>Never prune: every path is explored to its exit or rejection (<see cref="VerifierOptions.DisablePruning"/>).</summary>
    public bool PruningDisabled { get; init; }
}
