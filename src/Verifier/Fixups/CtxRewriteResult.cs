namespace VethXdp.Verifier.Fixups;

/// <summary>The outcome of <see cref="CtxAccessRewriter.Rewrite"/>.</summary>
public sealed class CtxRewriteResult
{
    internal CtxRewriteResult(VethXdp.Vm.Isa.Instruction[] slots, int[] newIndex, int prologueLength, int failedInsn)
    {
        Slots = slots;
        NewIndex = newIndex;
        PrologueLength = prologueLength;
        FailedInsn = failedInsn;
    }

    /// <summary>The rewritten slots, as the kernel's translated program has them at this point (after
    /// convert_ctx_accesses, before do_misc_fixups: helper calls still carry their helper ids).</summary>
    public VethXdp.Vm.Isa.Instruction[] Slots { get; }

    /// <summary>For each original slot, the index of the first slot of what it became (a jump to the original slot
    /// lands there). Original slot 0 maps past the prologue.</summary>
    public int[] NewIndex { get; }

    /// <summary>Slots the program type's prologue put before original slot 0 (tc with direct packet writes: 10).</summary>
    public int PrologueLength { get; }

    /// <summary>-1 on success; else the original slot whose rewrite pushed a jump out of its 16-bit range (the kernel
    /// logs <see cref="Context.CtxMessages.CannotBePatched"/> and the load fails with ENOMEM).</summary>
    public int FailedInsn { get; }

    /// <summary>True when the rewrite succeeded.</summary>
    public bool Succeeded => FailedInsn < 0;
}
