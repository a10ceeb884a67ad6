using System.Globalization;
using VethXdp.Verifier;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Reports.Explain;

/// <summary>What a hint may name about a rejection: the program, the failing instruction and its source line, the
/// registers before it, the path that led there.</summary>
internal sealed class HintFacts(ProgramSpec spec, VerifierError error, string?[] texts, SourceLines source,
    IReadOnlyDictionary<string, string> state, IReadOnlyList<int> path, int processed)
{
    public ProgramSpec Spec { get; } = spec;

    public VerifierError Error { get; } = error;

    public Instruction[] Slots { get; } = [.. spec.Slots];

    public IReadOnlyList<int> Path { get; } = path;

    public int Processed { get; } = processed;

    /// <summary>The failing instruction, or -1.</summary>
    public int Insn => Error.InsnIndex;

    public Instruction InsnOrDefault => (uint)Insn < (uint)Slots.Length ? Slots[Insn] : default;

    /// <summary>"line 42 of file.c (`text`)" or "instruction N".</summary>
    public string LineWords => Insn >= 0 && source.LineAt(Insn) is { } l
        ? $"line {l.Line} of {System.IO.Path.GetFileName(l.File)} (`{l.Text.Trim()}`)"
        : $"instruction {Insn}";

    public string? Text(int insn) => (uint)insn < (uint)texts.Length ? texts[insn] : null;

    /// <summary>" (line 42 of file.c: `text`)" or "".</summary>
    public string LineSuffix(int insn) => source.LineAt(insn) is { } l
        ? $" (line {l.Line} of {System.IO.Path.GetFileName(l.File)}: `{l.Text.Trim()}`)"
        : string.Empty;

    /// <summary>What the verifier knew about Rn before the failing instruction, or null.</summary>
    public string? Register(int n) => state.TryGetValue("R" + n.ToString(CultureInfo.InvariantCulture), out var v) ? v : null;

    /// <summary>What the verifier knew about the stack slot at fp+off, or null.</summary>
    public string? StackSlot(long off)
    {
        long slot = off >= 0 ? off : -(((-off) + 7) / 8 * 8);
        return state.TryGetValue("fp" + slot.ToString(CultureInfo.InvariantCulture), out var v) ? v : null;
    }

    /// <summary>"reads", "writes" or "accesses" for the failing instruction.</summary>
    public string AccessVerb() => InsnOrDefault.Class switch
    {
        OpClass.Ldx => "reads",
        OpClass.St or OpClass.Stx => "writes",
        _ => "accesses",
    };

    /// <summary>The register a load or store of the failing instruction goes through.</summary>
    public int MemoryRegister() => InsnOrDefault.Class == OpClass.Ldx ? InsnOrDefault.SrcReg : InsnOrDefault.DstReg;

    /// <summary>The last call on the path before the failing instruction: (instruction, text), or (-1, "").</summary>
    public (int Insn, string Text) LastCallOnPath()
    {
        for (int i = Path.Count - 1; i >= 0; i--)
        {
            int p = Path[i];
            if (p != Insn && (uint)p < (uint)Slots.Length && Slots[p].Opcode == Op.Call)
            {
                return (p, Text(p) ?? "call");
            }
        }

        return (-1, string.Empty);
    }

    public ExplainHint Hint(RejectionClass cls, string title, string what, string why, string fix, string? code, int? register, long? offset)
    {
        LineInfo? line = Insn >= 0 ? source.LineAt(Insn) : null;
        string where = Insn < 0
            ? "The verifier names no single instruction for this rejection."
            : $"Instruction {Insn}: `{Text(Insn) ?? "?"}`"
              + (line is not null
                  ? $", compiled from line {line.Line} of {System.IO.Path.GetFileName(line.File)}: `{line.Text.Trim()}`."
                  : " (the program carries no source line information).");
        return new ExplainHint(cls, title, where, what, why, fix, code, Insn, register, offset, line);
    }
}
