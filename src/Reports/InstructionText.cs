using System.Globalization;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Reports;

/// <summary>Instruction text for reports: the kernel's syntax (<see cref="KernelFormatter"/>), except that map and
/// function references of a linked program are shown by name (<c>r1 = map[flows]</c>, <c>r1 = map[.rodata][0]+8</c>,
/// <c>r2 = func add_word</c>) where the kernel prints an address.</summary>
public static class InstructionText
{
    /// <summary>The text of the instruction at <paramref name="pc"/>.</summary>
    /// <param name="slots">The linked program's slots (map references by index, as <see cref="ProgramSpec.Slots"/>).</param>
    /// <param name="pc">The slot.</param>
    /// <param name="mapName">The name of map index i, or null when unknown.</param>
    /// <param name="functionName">The name of the function that starts at a slot, or null.</param>
    public static string Format(ReadOnlySpan<Instruction> slots, int pc, Func<int, string?>? mapName = null, Func<int, string?>? functionName = null)
    {
        var insn = slots[pc];
        if (insn.Opcode == Op.LdDw && pc + 1 < slots.Length)
        {
            int hi = slots[pc + 1].Imm;
            string? name = mapName?.Invoke(insn.Imm);
            switch ((PseudoSrc)insn.SrcReg)
            {
                case PseudoSrc.MapIdx when name is not null:
                case PseudoSrc.MapFd when name is not null:
                    return string.Create(CultureInfo.InvariantCulture, $"r{insn.DstReg} = map[{name}]");
                case PseudoSrc.MapIdxValue when name is not null:
                case PseudoSrc.MapValue when name is not null:
                    return string.Create(CultureInfo.InvariantCulture, $"r{insn.DstReg} = map[{name}][0]+{(uint)hi}");
                case PseudoSrc.Func:
                {
                    int target = pc + 1 + insn.Imm;
                    string? f = functionName?.Invoke(target);
                    return f is not null
                        ? string.Create(CultureInfo.InvariantCulture, $"r{insn.DstReg} = func {f}")
                        : string.Create(CultureInfo.InvariantCulture, $"r{insn.DstReg} = func pc{(insn.Imm >= 0 ? "+" : string.Empty)}{insn.Imm}");
                }

                default:
                    break;
            }
        }

        return KernelFormatter.Format(slots, pc);
    }

    /// <summary>The text of every instruction of <paramref name="spec"/> (null for the second slot of a 64-bit load).</summary>
    /// <param name="spec">The linked program.</param>
    /// <param name="mapName">The name of map index i, or null when unknown.</param>
    public static string?[] FormatAll(ProgramSpec spec, Func<int, string?>? mapName = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var slots = spec.Slots.ToArray();
        var starts = new Dictionary<int, string>();
        foreach (var f in spec.Functions)
        {
            starts.TryAdd(f.StartSlot, f.Name);
        }

        return FormatAll(slots, mapName, s => starts.GetValueOrDefault(s));
    }

    /// <summary>The text of every instruction of <paramref name="slots"/> (null for the second slot of a 64-bit load).</summary>
    /// <param name="slots">The slots.</param>
    /// <param name="mapName">The name of map index i, or null when unknown.</param>
    /// <param name="functionName">The name of the function that starts at a slot, or null.</param>
    public static string?[] FormatAll(ReadOnlySpan<Instruction> slots, Func<int, string?>? mapName = null, Func<int, string?>? functionName = null)
    {
        var text = new string?[slots.Length];
        for (int pc = 0; pc < slots.Length; pc++)
        {
            text[pc] = Format(slots, pc, mapName, functionName);
            if (slots[pc].Opcode == Op.LdDw)
            {
                pc++;
            }
        }

        return text;
    }
}
