using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Fixups;

/// <summary>Replaces slots of a program by sequences of slots and fixes every jump, call and function address
/// across them, with the result the kernel gets from one bpf_patch_insn_data per patch, in slot order
/// (kernel/bpf/core.c: bpf_patch_insn_single, bpf_adj_branches; kernel/bpf/verifier.c: adjust_jmp_off for the
/// prologue), computed in a single pass.</summary>
/// <remarks>
/// The kernel's rule, per patch of slot p into n slots: a jump whose target lies after p grows by n - 1 if it starts
/// before p; a jump starting after the patch and landing on or before p shrinks by n - 1; a jump that lands exactly
/// on p lands on the first slot of the patch; the patch's own jumps are relative and are left alone. Applied to every
/// patch this is: new displacement = entry(target) - new position(jump) - 1, where entry(t) is the first slot of
/// what original slot t became. A prologue is a patch of slot 0 whose last slot is slot 0 itself, followed by
/// adjust_jmp_off(prog, 0, delta), so that jumps to slot 0 skip the prologue; calls and function addresses are not
/// moved by adjust_jmp_off and land on the prologue's start.
/// </remarks>
public sealed class InsnPatcher
{
    private const int PseudoCall = 1;   // BPF_PSEUDO_CALL (src of a bpf-to-bpf call)
    private const int PseudoFunc = 4;   // BPF_PSEUDO_FUNC (src of ld_imm64 with a function address)

    private readonly Instruction[] _orig;
    private readonly Instruction[]?[] _patches;
    private Instruction[] _prologue = [];

    /// <summary>Starts from <paramref name="slots"/>.</summary>
    /// <param name="slots">The program's slots.</param>
    public InsnPatcher(ReadOnlySpan<Instruction> slots)
    {
        _orig = slots.ToArray();
        _patches = new Instruction[]?[_orig.Length];
    }

    /// <summary>Number of original slots.</summary>
    public int Length => _orig.Length;

    /// <summary>Puts <paramref name="prologue"/> before slot 0 (gen_prologue's output without its final copy of
    /// slot 0). Jumps to slot 0 then land after it.</summary>
    /// <param name="prologue">The slots to run first.</param>
    public void SetPrologue(ReadOnlySpan<Instruction> prologue) => _prologue = prologue.ToArray();

    /// <summary>Replaces original slot <paramref name="index"/> by <paramref name="patch"/> (at least one slot). Jumps
    /// inside the patch are relative to the patch and are not adjusted.</summary>
    /// <param name="index">The original slot.</param>
    /// <param name="patch">What it becomes.</param>
    public void Replace(int index, ReadOnlySpan<Instruction> patch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _orig.Length);
        if (patch.IsEmpty)
        {
            throw new ArgumentException("a patch has at least one slot", nameof(patch));
        }

        _patches[index] = patch.ToArray();
    }

    /// <summary>Builds the patched program.</summary>
    /// <param name="slots">The patched slots.</param>
    /// <param name="newIndex">For each original slot, the first slot of what it became.</param>
    /// <param name="failedInsn">-1, or the original slot whose patch pushed a jump out of range (the kernel's
    /// "insn %d cannot be patched due to 16-bit range").</param>
    /// <returns>False when a displacement no longer fits (s16 offsets, s32 for gotol, calls and function
    /// addresses).</returns>
    public bool TryBuild(out Instruction[] slots, out int[] newIndex, out int failedInsn)
    {
        int n = _orig.Length;
        newIndex = new int[n + 1];
        int pos = _prologue.Length;
        for (int i = 0; i < n; i++)
        {
            newIndex[i] = pos;
            pos += _patches[i]?.Length ?? 1;
        }

        newIndex[n] = pos;
        slots = new Instruction[pos];
        _prologue.CopyTo(slots, 0);
        failedInsn = -1;
        for (int i = 0; i < n; i++)
        {
            if (_patches[i] is { } patch)
            {
                patch.CopyTo(slots, newIndex[i]);
                continue;
            }

            Instruction insn = _orig[i];
            slots[newIndex[i]] = insn;
            if (!TryGetDisplacement(insn, out long disp, out bool inImm, out bool isCall))
            {
                continue;
            }

            long target = i + disp + 1;
            if (target < 0 || target > n)
            {
                continue;   // the verifier refuses such jumps before any rewrite
            }

            // adjust_jmp_off moves only jumps onto slot 0 past the prologue; calls keep landing on its start.
            long entry = isCall && target == 0 ? 0 : newIndex[target];
            long moved = entry - newIndex[i] - 1;
            bool fits = inImm ? moved is >= int.MinValue and <= int.MaxValue : moved is >= short.MinValue and <= short.MaxValue;
            if (!fits)
            {
                int culprit = FirstOverflowingPatch(i, (int)target, disp, inImm);
                failedInsn = failedInsn < 0 ? culprit : Math.Min(failedInsn, culprit);
                continue;
            }

            slots[newIndex[i]] = inImm
                ? new Instruction(insn.Opcode, insn.Regs, insn.Offset, (int)moved)
                : new Instruction(insn.Opcode, insn.Regs, (short)moved, insn.Imm);
        }

        Array.Resize(ref newIndex, n);
        return failedInsn < 0;
    }

    // Which slots' displacements move with patches (bpf_adj_branches): jumps (not exit, not helper or kfunc calls),
    // bpf-to-bpf calls and ld_imm64 function addresses; gotol, calls and function addresses keep theirs in imm.
    private static bool TryGetDisplacement(in Instruction insn, out long disp, out bool inImm, out bool isCall)
    {
        disp = 0;
        inImm = false;
        isCall = false;
        if (insn.Opcode == Op.LdDw)
        {
            if (insn.SrcReg != PseudoFunc)
            {
                return false;
            }

            disp = insn.Imm;
            inImm = isCall = true;
            return true;
        }

        if (insn.Class is not (OpClass.Jmp or OpClass.Jmp32) || insn.JmpOp == JmpOp.Exit)
        {
            return false;
        }

        if (insn.JmpOp == JmpOp.Call)
        {
            if (insn.Class != OpClass.Jmp || insn.SrcReg != PseudoCall)
            {
                return false;
            }

            disp = insn.Imm;
            inImm = isCall = true;
            return true;
        }

        if (insn.Opcode == Op.Ja32)
        {
            disp = insn.Imm;
            inImm = true;
            return true;
        }

        disp = insn.Offset;
        return true;
    }

    // The kernel applies the patches one by one in slot order and fails on the first that pushes a displacement out of
    // range; replay that for one jump to name the patch (cold path).
    private int FirstOverflowingPatch(int from, int target, long disp, bool inImm)
    {
        long limitLo = inImm ? int.MinValue : short.MinValue, limitHi = inImm ? int.MaxValue : short.MaxValue;
        int lo = Math.Min(from + 1, target), hi = Math.Max(from, target);   // forward: (from, target); backward: [target, from)
        for (int p = lo; p < hi; p++)
        {
            if (_patches[p] is not { } patch)
            {
                continue;
            }

            disp += target > from ? patch.Length - 1 : -(patch.Length - 1);
            if (disp < limitLo || disp > limitHi)
            {
                return p;
            }
        }

        return hi;
    }
}
