using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Emitters;

/// <summary>The 64-bit immediate load (two slots): a constant, or the address of a BPF function (BPF_PSEUDO_FUNC, what
/// bpf_loop and friends are given). The loader has already turned map references into constants
/// (<see cref="Vm.Runtime.ProgramPreparer"/>); one that is still symbolic faults when it runs, as in the interpreter.</summary>
internal static class LdImm64Emitter
{
    public static void Emit(EmitContext cx, in Instruction insn, int pc)
    {
        switch ((PseudoSrc)insn.SrcReg)
        {
            case PseudoSrc.Imm64:
                cx.LdI8((long)BpfProgram.Combine(insn, cx.Slots[pc + 1]));
                cx.StReg(insn.DstReg);
                break;
            case PseudoSrc.Func:
                // The code is pinned for the program's life, so the address is a constant of the compiled method.
                cx.LdI8((long)cx.Program.FunctionAddress(pc + 1 + insn.Imm));
                cx.StReg(insn.DstReg);
                break;
            default:
                cx.LdI4(pc);
                cx.LdI4(insn.SrcReg);
                cx.Throw(JitMethods.FaultPseudoLoad);
                break;
        }
    }
}
