using VethXdp.Vm.Btf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Elf;

public static partial class ElfObjectReader
{
    private static Instruction WithSrc(Instruction insn, PseudoSrc src, int imm) =>
        new(insn.Opcode, (byte)(((int)src << 4) | insn.DstReg), insn.Offset, imm);

    // Working copies of every code section; CO-RE and data relocations patch these, linking copies from them.
    private static void EnsureWork(LoadContext ctx)
    {
        if (ctx.Work.Count != 0)
        {
            return;
        }

        foreach (var (index, section) in ctx.Code)
        {
            ctx.Work[index] = section.SlotSpan.ToArray();
        }
    }

    // kernel: libbpf.c bpf_object__relocate_core(): each CO-RE relocation of .BTF.ext patches its instruction.
    private static void ApplyCoreRelocations(LoadContext ctx)
    {
        EnsureWork(ctx);
        if (ctx.Ext is null || ctx.Btf is null)
        {
            return;
        }

        var btf = ctx.Btf;
        foreach (var (sectionName, relos) in ctx.Ext.CoreRelos)
        {
            int index = ctx.Code.FirstOrDefault(kv => kv.Value.Name == sectionName).Key;
            if (index == 0)
            {
                throw ctx.Error(".BTF.ext", $"CO-RE relocations for section \"{sectionName}\", which has no code");
            }

            var work = ctx.Work[index];
            for (int i = 0; i < relos.Count; i++)
            {
                var relo = relos[i];
                if (relo.Slot >= work.Length)
                {
                    throw ctx.InsnError(index, relo.Slot, $"CO-RE relocation #{i} is beyond the end of the section ({work.Length} slots)");
                }

                var err = CoreRelocator.Calculate(btf, relo, out var res, out var desc, out bool noTarget);
                if (err is not null)
                {
                    if (noTarget)
                    {
                        var local = btf[relo.TypeId];
                        err += $" ({BtfType.KindName(local.Kind).ToLowerInvariant()} {local.Name[..CoreRelocator.EssentialNameLength(local.Name)]} is not in the object's BTF)";
                    }

                    throw ctx.InsnError(index, relo.Slot, $"CO-RE relocation #{i} {desc}: {err}");
                }

                err = CoreRelocator.Patch(work, relo.Slot, res);
                if (err is not null)
                {
                    throw ctx.InsnError(index, relo.Slot, $"CO-RE relocation #{i} {desc}: {err}");
                }
            }
        }
    }

    // kernel: libbpf.c bpf_program__record_reloc() and bpf_object__relocate_data(): map references become
    // lddw src=5 (map index), global data lddw src=6 (map index, offset), kconfig externs lddw src=6 into the
    // .kconfig map, kfunc calls src=2 with a KfuncId; calls and function addresses are kept for linking.
    private static void ApplyDataRelocations(LoadContext ctx)
    {
        EnsureWork(ctx);
        foreach (var rel in ctx.Relocations)
        {
            int s = rel.TargetIndex;
            if (!ctx.Code.ContainsKey(s))
            {
                continue;
            }

            var work = ctx.Work[s];
            for (int r = 0; r < rel.Entries.Length; r++)
            {
                var e = rel.Entries[r];
                if (e.Type == 0)
                {
                    continue; // R_BPF_NONE
                }

                if (e.Offset % Instruction.Size != 0 || e.Offset >= (ulong)work.Length * Instruction.Size)
                {
                    throw ctx.Error(rel.Name, r * 16, $"invalid offset 0x{e.Offset:x} for relocation #{r} (section \"{ctx.SectionName(s)}\" has {work.Length * Instruction.Size} bytes)");
                }

                ApplyDataRelocation(ctx, s, work, (int)(e.Offset / Instruction.Size), r, e);
            }
        }

        foreach (var ext in ctx.Externs)
        {
            if (ext.Error is not null && !ext.Used)
            {
                throw ctx.Error(null, ext.Error);
            }
        }
    }

    private static void ApplyDataRelocation(LoadContext ctx, int s, Instruction[] work, int slot, int r, RelEntry e)
    {
        var insn = work[slot];
        var sym = ctx.SymbolsByIndex[e.Symbol] ?? throw ctx.InsnError(s, slot, $"relocation #{r} is against the null symbol");
        string name = ctx.SymbolName(sym);
        var ext = ctx.Externs.FirstOrDefault(x => x.SymbolIndex == e.Symbol);
        if (ext is not null)
        {
            ext.Used = true;
            if (ext.Error is not null)
            {
                throw ctx.InsnError(s, slot, ext.Error);
            }

            if (insn.Opcode == Op.Call)
            {
                if (ext.Kfunc == KfuncId.None)
                {
                    throw ctx.InsnError(s, slot, $"extern \"{name}\" is called, but it is a variable");
                }

                work[slot] = new Instruction(Op.Call, (byte)((int)CallKind.Kfunc << 4), 0, (int)ext.Kfunc);
                if (!ctx.KfuncSites.TryGetValue(s, out var sites))
                {
                    sites = [];
                    ctx.KfuncSites.Add(s, sites);
                }

                sites[slot] = ext;
                return;
            }

            if (!insn.IsLdImm64 || slot + 1 >= work.Length)
            {
                throw ctx.InsnError(s, slot, $"invalid relocation against extern \"{name}\" for insn code 0x{insn.Opcode:x2}");
            }

            if (!ext.IsKconfig)
            {
                throw ctx.InsnError(s, slot, $"kfunc \"{name}\": taking its address is not supported");
            }

            work[slot] = WithSrc(insn, PseudoSrc.MapIdxValue, ctx.KconfigMapIndex);
            work[slot + 1] = new Instruction(0, 0, 0, ext.DataOffset);
            return;
        }

        if (sym.SectionIndex == ElfSymbol.UndefinedSection)
        {
            throw ctx.InsnError(s, slot, $"relocation against unknown symbol \"{name}\"");
        }

        if (!sym.IsInSection)
        {
            throw ctx.InsnError(s, slot, $"relocation against \"{name}\", which is not in a section (st_shndx 0x{sym.SectionIndex:x})");
        }

        if (insn.Opcode == Op.Call)
        {
            if (insn.SrcReg != (int)CallKind.Local)
            {
                throw ctx.InsnError(s, slot, $"incorrect bpf_call opcode: relocation against \"{name}\" on a call with src {insn.SrcReg}");
            }

            if (sym.SectionIndex != ctx.TextIndex)
            {
                throw ctx.InsnError(s, slot, $"bad call relo against \"{name}\" in section \"{ctx.SectionName(sym.SectionIndex)}\"");
            }

            if (sym.Value % Instruction.Size != 0)
            {
                throw ctx.InsnError(s, slot, $"bad call relo against \"{name}\" at offset {sym.Value}");
            }

            AddCodeReloc(ctx, s, slot, new CodeReloc(CodeRelocKind.Call, sym.SectionIndex, sym.Value, name));
            return;
        }

        if (!insn.IsLdImm64)
        {
            throw ctx.InsnError(s, slot, $"invalid relo against \"{name}\" for insns[{slot}].code 0x{insn.Opcode:x2}");
        }

        if (slot + 1 >= work.Length)
        {
            throw ctx.InsnError(s, slot, "64-bit immediate load is missing its second slot");
        }

        if (ctx.Code.ContainsKey(sym.SectionIndex))
        {
            if (sym.SectionIndex != ctx.TextIndex)
            {
                throw ctx.InsnError(s, slot, $"bad subprog addr relo against \"{name}\" in section \"{ctx.SectionName(sym.SectionIndex)}\": functions used as values must be in .text");
            }

            if (sym.Value % Instruction.Size != 0 || insn.Imm % Instruction.Size != 0)
            {
                throw ctx.InsnError(s, slot, $"bad subprog addr relo against \"{name}\" at offset {sym.Value}+{insn.Imm}");
            }

            work[slot] = WithSrc(insn, PseudoSrc.Func, insn.Imm);
            AddCodeReloc(ctx, s, slot, new CodeReloc(CodeRelocKind.SubprogAddr, sym.SectionIndex, sym.Value, name));
            return;
        }

        if (sym.SectionIndex == ctx.MapsIndex || sym.SectionIndex == ctx.BtfMapsIndex)
        {
            // A legacy definition can be reached through the section symbol plus the lddw's imm.
            ulong offset = sym.Type == ElfSymbolType.Section ? sym.Value + (ulong)(uint)insn.Imm : sym.Value;
            int j = ctx.MapOrigins.FindIndex(o => o.Kind is MapOriginKind.Legacy or MapOriginKind.Btf
                && o.SectionIndex == sym.SectionIndex && o.Offset == offset);
            if (j < 0)
            {
                throw ctx.InsnError(s, slot, $"map relo failed to find map for section \"{ctx.SectionName(sym.SectionIndex)}\", off {offset} (symbol \"{name}\")");
            }

            work[slot] = WithSrc(insn, PseudoSrc.MapIdx, j);
            return;
        }

        int d = ctx.MapOrigins.FindIndex(o => o.Kind == MapOriginKind.GlobalData && o.SectionIndex == sym.SectionIndex);
        if (d < 0)
        {
            throw ctx.InsnError(s, slot, $"relocation against \"{name}\" in section \"{ctx.SectionName(sym.SectionIndex)}\", which holds neither maps nor global data");
        }

        long valueOffset = (long)insn.Imm + (long)sym.Value;
        if (valueOffset < 0 || (ulong)valueOffset > ctx.MapOrigins[d].Size)
        {
            throw ctx.InsnError(s, slot, $"relocation against \"{name}\": offset {valueOffset} is outside section \"{ctx.SectionName(sym.SectionIndex)}\" ({ctx.MapOrigins[d].Size} bytes)");
        }

        work[slot] = WithSrc(insn, PseudoSrc.MapIdxValue, d);
        work[slot + 1] = new Instruction(work[slot + 1].Opcode, work[slot + 1].Regs, work[slot + 1].Offset, (int)valueOffset);
    }

    private static void AddCodeReloc(LoadContext ctx, int section, int slot, CodeReloc reloc)
    {
        if (!ctx.CodeRelocs.TryGetValue(section, out var map))
        {
            map = [];
            ctx.CodeRelocs.Add(section, map);
        }

        map[slot] = reloc;
    }
}
