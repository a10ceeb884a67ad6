using System.Buffers.Binary;
using VethXdp.Vm.Btf;

namespace VethXdp.Vm.Elf;

public static partial class ElfObjectReader
{
    private static int FindSectionIndex(LoadContext ctx, string name)
    {
        for (int i = 1; i < ctx.Raw.Length; i++)
        {
            if (ctx.Raw[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }

    // .BTF, then .BTF.ext (ignored without .BTF, as libbpf does), then the DATASEC fixup.
    private static void LoadBtf(LoadContext ctx)
    {
        int btfIndex = FindSectionIndex(ctx, ".BTF");
        if (btfIndex < 0)
        {
            return;
        }

        var data = ctx.Contents(btfIndex);
        if (data.Length == 0)
        {
            throw ctx.Error(".BTF", "the section is empty");
        }

        try
        {
            ctx.Btf = BtfSpec.Parse(data);
        }
        catch (BtfFormatException ex)
        {
            throw new ElfLoadException(ctx.File, ".BTF", ex.Offset, "bad BTF: " + ex.Message, ex);
        }

        FixupDatasecs(ctx, ctx.Btf);
        int extIndex = FindSectionIndex(ctx, ".BTF.ext");
        if (extIndex < 0)
        {
            return;
        }

        data = ctx.Contents(extIndex);
        if (data.Length == 0)
        {
            throw ctx.Error(".BTF.ext", "the section is empty");
        }

        try
        {
            ctx.Ext = BtfExt.Parse(data, ctx.Btf);
        }
        catch (BtfFormatException ex)
        {
            throw new ElfLoadException(ctx.File, ".BTF.ext", ex.Offset, "bad BTF.ext: " + ex.Message, ex);
        }
    }

    // kernel: libbpf.c btf_fixup_datasec(). clang leaves DATASEC sizes and variable offsets zero: take the size
    // from the ELF section and each global variable's offset from its symbol, then sort the variables by offset.
    // .kconfig and .ksyms are laid out later, from the externs.
    private static void FixupDatasecs(LoadContext ctx, BtfSpec btf)
    {
        foreach (var t in btf.Types)
        {
            if (t is not BtfDatasec d || d.Name is ".kconfig" or ".ksyms")
            {
                continue;
            }

            int index = FindSectionIndex(ctx, d.Name);
            bool fixOffsets = false;
            if (d.Size == 0 && index > 0 && ctx.Raw[index].Size > 0 && ctx.Raw[index].Size <= uint.MaxValue)
            {
                d.Size = (uint)ctx.Raw[index].Size;
                fixOffsets = true;
            }

            var vars = d.Vars.ToArray();
            for (int i = 0; i < vars.Length; i++)
            {
                if (btf.TryGet(vars[i].TypeId) is not BtfVar v)
                {
                    throw ctx.Error(".BTF", $"DATASEC '{d.Name}': member #{i} [{vars[i].TypeId}] is not a VAR");
                }

                if (v.Linkage is BtfVarLinkage.Static or BtfVarLinkage.GlobalExtern)
                {
                    continue;
                }

                var sym = FindVarSymbol(ctx, v.Name)
                    ?? throw ctx.Error(".BTF", $"DATASEC '{d.Name}': no ELF symbol for variable '{v.Name}'");
                if (fixOffsets)
                {
                    if (sym.Value > uint.MaxValue)
                    {
                        throw ctx.Error(".BTF", $"DATASEC '{d.Name}': variable '{v.Name}' is at offset 0x{sym.Value:x}");
                    }

                    vars[i] = vars[i] with { Offset = (uint)sym.Value };
                }
            }

            // A stable sort keeps clang's order among equal offsets (static variables stay at 0).
            d.SetVars([.. vars.OrderBy(v => v.Offset)]);
        }
    }

    // kernel: libbpf.c find_elf_var_sym(): a global or weak STT_OBJECT with this name.
    private static ElfSymbol? FindVarSymbol(LoadContext ctx, string name)
    {
        foreach (var s in ctx.Symbols)
        {
            if (s.Type == ElfSymbolType.Object && s.Binding is ElfSymbolBinding.Global or ElfSymbolBinding.Weak && s.Name == name)
            {
                return s;
            }
        }

        return null;
    }

    // Every SHT_REL section that patches code or .maps; others (debug info, .BTF) are skipped, as libbpf does.
    private static void ReadRelocations(LoadContext ctx)
    {
        for (int i = 1; i < ctx.Raw.Length; i++)
        {
            var s = ctx.Raw[i];
            if (s.Type != ShtRel && s.Type != ShtRela)
            {
                continue;
            }

            if (s.Info == 0 || s.Info >= (uint)ctx.Raw.Length)
            {
                throw ctx.Error(s.Name, $"relocates section {s.Info}, which does not exist");
            }

            int target = (int)s.Info;
            if (!ctx.Code.ContainsKey(target) && target != ctx.BtfMapsIndex)
            {
                continue;
            }

            if (s.Type == ShtRela)
            {
                throw ctx.Error(s.Name, $"SHT_RELA relocations (for section \"{ctx.SectionName(target)}\") are not used by BPF objects");
            }

            if (ctx.SymtabIndex < 0 || s.Link != (uint)ctx.SymtabIndex)
            {
                throw ctx.Error(s.Name, $"sh_link {s.Link} is not the symbol table");
            }

            if (s.Size % 16 != 0 || (s.EntrySize != 16 && s.EntrySize != 0))
            {
                throw ctx.Error(s.Name, 0, $"size {s.Size} with entry size {s.EntrySize} is not a whole number of 16-byte Elf64_Rel entries");
            }

            var data = ctx.Contents(i);
            var entries = new RelEntry[data.Length / 16];
            for (int e = 0; e < entries.Length; e++)
            {
                ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(data[(e * 16)..]);
                ulong info = BinaryPrimitives.ReadUInt64LittleEndian(data[((e * 16) + 8)..]);
                ulong sym = info >> 32;
                if (sym >= (ulong)ctx.SymbolsByIndex.Length)
                {
                    throw ctx.Error(s.Name, e * 16, $"relocation #{e}: symbol #{sym} not found (the symbol table has {ctx.SymbolsByIndex.Length} entries)");
                }

                entries[e] = new RelEntry(offset, (int)sym, (uint)info);
            }

            ctx.Relocations.Add(new RelSection(s.Name, i, target, entries));
        }
    }
}
