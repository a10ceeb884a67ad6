using System.Collections.Immutable;

namespace VethXdp.Verifier;

/// <summary>The abstract state one path had when the verifier reached an instruction, before checking it (recorded
/// with <see cref="VerifierOptions.RecordStates"/>; read with <see cref="VerificationResult.StatesAt"/>).</summary>
/// <remarks>
/// The soundness promise this makes testable: whenever the program runs, at every instruction it executes, the
/// concrete registers and stack of the running frame lie inside at least one state recorded at that instruction for the same
/// frame (<see cref="Frame"/> = the interpreter's call depth). That holds for every executed instruction only when
/// the verifier explored every path, so record with <see cref="VerifierOptions.DisablePruning"/>: with pruning, a
/// path cut at a prune point is covered by an older state's <em>future</em>, not its registers (see there).
/// Equality is by value: two paths that reached an instruction in the same state are recorded once.
/// </remarks>
/// <param name="Insn">The instruction (slot index).</param>
/// <param name="Frame">The innermost frame's depth (<c>curframe</c>): 0 in the main function, one more per
/// BPF-to-BPF call or callback.</param>
/// <param name="CallSite">The call instruction that created the innermost frame (<c>callsite</c>), -1 in frame 0.</param>
/// <param name="Subprog">The subprogram the innermost frame runs (<c>subprogno</c>).</param>
/// <param name="EntryInsn">The first slot of the function frame 0 runs: 0 for the main program; for a global function,
/// which the kernel verifies on its own (from its BTF prototype, in a frame 0 of its own, not at each call), its first
/// slot. A run that enters it at call depth d is at depth d + <see cref="Frame"/>, and its stack pointers'
/// <see cref="RecordedRegister.Frameno"/> count from d as well.</param>
/// <param name="Registers">r0-r10 of the innermost frame.</param>
/// <param name="Stack">The innermost frame's stack slots that hold something (not all <c>?</c>), from <c>fp-8</c>
/// down.</param>
public sealed record RecordedState(int Insn, int Frame, int CallSite, int Subprog, int EntryInsn,
    ImmutableArray<RecordedRegister> Registers, ImmutableArray<RecordedStackSlot> Stack)
{
    /// <summary>Register <paramref name="regno"/> (0-10).</summary>
    /// <param name="regno">The register number.</param>
    public RecordedRegister this[int regno] => Registers[regno];

    /// <inheritdoc/>
    public bool Equals(RecordedState? other) =>
        other is not null && Insn == other.Insn && Frame == other.Frame && CallSite == other.CallSite &&
        Subprog == other.Subprog && EntryInsn == other.EntryInsn && Registers.AsSpan().SequenceEqual(other.Registers.AsSpan()) &&
        Stack.AsSpan().SequenceEqual(other.Stack.AsSpan());

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Insn);
        h.Add(Frame);
        h.Add(CallSite);
        foreach (var r in Registers)
        {
            h.Add(r);
        }

        h.Add(Stack.Length);

        return h.ToHashCode();
    }
}
