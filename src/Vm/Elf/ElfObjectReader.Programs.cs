using VethXdp.Vm.Btf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Elf;

public static partial class ElfObjectReader
{
    /// <summary>BPF_COMPLEXITY_LIMIT_INSNS: no linked program may be longer.</summary>
    private const int MaxLinkedSlots = 1_000_000;

    // kernel: libbpf.c bpf_object__add_programs(): every STT_FUNC symbol in an executable section other than .text
    // is a program; .text functions are subprograms. Ordered by section, then offset (libbpf's cmp_progs).
    private static void FindPrograms(LoadContext ctx)
    {
        var funcSymbols = new HashSet<(int, string)>();
        foreach (var sym in ctx.Symbols)
        {
            if (sym.Type == ElfSymbolType.Func && ctx.Code.ContainsKey(sym.SectionIndex))
            {
                funcSymbols.Add((sym.SectionIndex, sym.Name));
            }
        }

        foreach (var f in ctx.Functions)
        {
            if (f.SectionIndex == ctx.TextIndex || !funcSymbols.Contains((f.SectionIndex, f.Name)))
            {
                continue;
            }

            if (f.SlotCount == 0)
            {
                throw ctx.Error(f.SectionName, (long)f.StartSlot * Instruction.Size, $"corrupted program \"{f.Name}\": it has no instructions");
            }

            ctx.ProgramFunctions.Add(f);
        }
    }

    private static List<ProgramSpec> LinkPrograms(LoadContext ctx)
    {
        var programs = new List<ProgramSpec>(ctx.ProgramFunctions.Count);
        foreach (var f in ctx.ProgramFunctions)
        {
            programs.Add(LinkProgram(ctx, f));
        }

        return programs;
    }

    private static bool IsSubprogCall(Instruction insn) =>
        insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Local && insn.DstReg == 0 && insn.Offset == 0;

    private static bool IsPseudoFunc(Instruction insn) => insn.IsLdImm64 && insn.SrcReg == (int)PseudoSrc.Func;

    // kernel: libbpf.c bpf_object__reloc_code(). The program's own slots come first; each subprogram it calls
    // (or takes the address of, for bpf_loop and friends) is appended the first time it is met, and processed
    // before the caller goes on (depth first, as libbpf's recursion), so every program gets its own copy of the
    // subprograms in the order it reaches them. Call and function-address immediates are then relative to the
    // appended copies.
    private static ProgramSpec LinkProgram(LoadContext ctx, BpfFunction main)
    {
        var output = new List<Instruction>(main.SlotCount);
        var placed = new Dictionary<BpfFunction, int>();
        var units = new List<(BpfFunction F, int Start)>();

        int Place(BpfFunction f)
        {
            int start = output.Count;
            if ((long)start + f.SlotCount > MaxLinkedSlots)
            {
                throw ctx.InsnError(main.SectionIndex, main.StartSlot, $"program \"{main.Name}\" would exceed {MaxLinkedSlots} instructions once linked");
            }

            placed.Add(f, start);
            units.Add((f, start));
            output.AddRange(ctx.Work[f.SectionIndex].AsSpan(f.StartSlot, f.SlotCount));
            return start;
        }

        Place(main);
        var stack = new Stack<(BpfFunction F, int Start, int Next)>();
        stack.Push((main, 0, 0));
        while (stack.Count > 0)
        {
            var (f, start, i) = stack.Pop();
            for (; i < f.SlotCount; i++)
            {
                var insn = output[start + i];
                bool call = IsSubprogCall(insn);
                if (!call && !IsPseudoFunc(insn))
                {
                    continue;
                }

                int sectionSlot = f.StartSlot + i;
                int targetSection = f.SectionIndex;
                long target;
                if (ctx.CodeRelocs.TryGetValue(f.SectionIndex, out var relocs) && relocs.TryGetValue(sectionSlot, out var relo))
                {
                    if ((relo.Kind == CodeRelocKind.Call) != call)
                    {
                        throw ctx.InsnError(f.SectionIndex, sectionSlot, $"unexpected relocation against \"{relo.SymbolName}\" for this instruction");
                    }

                    targetSection = relo.TargetSection;
                    target = call
                        ? (long)(relo.SymbolOffset / Instruction.Size) + insn.Imm + 1
                        : ((long)relo.SymbolOffset + insn.Imm) / Instruction.Size;
                }
                else
                {
                    // A call without a relocation stays in its own section: imm is relative to the next slot. A
                    // function address without one is read the same way (libbpf refuses it; the kernel reads it so).
                    target = (long)sectionSlot + insn.Imm + 1;
                }

                if (targetSection == f.SectionIndex && target >= f.StartSlot && target < f.StartSlot + f.SlotCount)
                {
                    output[start + i] = SetImm(insn, (int)(target - f.StartSlot - i - 1));
                    continue;
                }

                var g = FunctionAt(ctx, targetSection, target)
                    ?? throw ctx.InsnError(f.SectionIndex, sectionSlot,
                        $"{(call ? "call" : "function address")} targets insn {target} of section \"{ctx.SectionName(targetSection)}\", which is in no function");
                bool first = !placed.TryGetValue(g, out int gStart);
                if (first)
                {
                    gStart = Place(g);
                }

                output[start + i] = SetImm(insn, (int)(gStart + (target - g.StartSlot) - (start + i) - 1));
                if (first)
                {
                    stack.Push((f, start, i + 1));
                    stack.Push((g, gStart, 0));
                    break;
                }
            }
        }

        var info = ProgramSections.Parse(main.SectionName);
        return new ProgramSpec
        {
            Name = main.Name,
            SectionName = info.SectionName,
            Type = info.Type,
            ExpectedAttachType = (uint)info.ExpectedAttachType,
            Frags = info.Frags,
            AutoLoad = info.AutoLoad,
            Slots = output.ToArray(),
            License = ctx.License,
            Functions = FunctionInfos(ctx, units),
            Lines = LineInfos(ctx, units),
            Kfuncs = KfuncCalls(ctx, units),
        };
    }

    private static Instruction SetImm(Instruction insn, int imm) => new(insn.Opcode, insn.Regs, insn.Offset, imm);

    // The function of a section covering a slot, preferring one that starts there.
    private static BpfFunction? FunctionAt(LoadContext ctx, int section, long slot)
    {
        BpfFunction? covering = null;
        foreach (var f in ctx.Functions)
        {
            if (f.SectionIndex != section || slot < f.StartSlot || slot >= f.StartSlot + f.SlotCount)
            {
                continue;
            }

            if (f.StartSlot == slot)
            {
                return f;
            }

            covering ??= f;
        }

        return covering;
    }

    // BTF.ext func_info of each appended function (libbpf's reloc_prog_func_and_line_info), or its symbol.
    private static List<FunctionInfo> FunctionInfos(LoadContext ctx, List<(BpfFunction F, int Start)> units)
    {
        var result = new List<FunctionInfo>();
        foreach (var (f, start) in units)
        {
            bool atStart = false;
            if (ctx.Ext is not null && ctx.Btf is not null && ctx.Ext.FuncInfos.TryGetValue(f.SectionName, out var infos))
            {
                foreach (var fi in infos)
                {
                    if (fi.Slot < f.StartSlot || fi.Slot >= f.StartSlot + f.SlotCount || ctx.Btf.TryGet(fi.TypeId) is not BtfFunc func)
                    {
                        continue;
                    }

                    atStart |= fi.Slot == f.StartSlot;
                    result.Add(new FunctionInfo(start + fi.Slot - f.StartSlot, func.Name, func.Linkage != BtfFuncLinkage.Static)
                    {
                        Btf = ctx.Btf,
                        BtfFuncId = func.Id,
                    });
                }
            }

            if (!atStart)
            {
                result.Add(new FunctionInfo(start, f.Name, f.IsGlobal));
            }
        }

        result.Sort(static (a, b) => a.StartSlot.CompareTo(b.StartSlot));
        return result;
    }

    private static List<LineInfo> LineInfos(LoadContext ctx, List<(BpfFunction F, int Start)> units)
    {
        var result = new List<LineInfo>();
        if (ctx.Ext is null)
        {
            return result;
        }

        foreach (var (f, start) in units)
        {
            if (!ctx.Ext.LineInfos.TryGetValue(f.SectionName, out var lines))
            {
                continue;
            }

            foreach (var l in lines)
            {
                if (l.Slot >= f.StartSlot && l.Slot < f.StartSlot + f.SlotCount)
                {
                    result.Add(new LineInfo(start + l.Slot - f.StartSlot, l.FileName, l.Line, l.Column, l.LineText));
                }
            }
        }

        // Stable: records at one slot keep their file order.
        return [.. result.OrderBy(l => l.Slot)];
    }

    private static List<KfuncCall> KfuncCalls(LoadContext ctx, List<(BpfFunction F, int Start)> units)
    {
        var result = new List<KfuncCall>();
        foreach (var (f, start) in units)
        {
            if (!ctx.KfuncSites.TryGetValue(f.SectionIndex, out var sites))
            {
                continue;
            }

            foreach (var (slot, ext) in sites)
            {
                if (slot >= f.StartSlot && slot < f.StartSlot + f.SlotCount)
                {
                    result.Add(new KfuncCall(start + slot - f.StartSlot, ext.Name, ext.Kfunc));
                }
            }
        }

        result.Sort(static (a, b) => a.Slot.CompareTo(b.Slot));
        return result;
    }
}
