using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using VethXdp.Vm.Btf;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Elf;

public static partial class ElfObjectReader
{
    private const string KconfigSection = ".kconfig";
    private const string KsymsSection = ".ksyms";

    // kernel: libbpf.c bpf_object__collect_externs(). Every undefined global NOTYPE symbol is an extern that BTF
    // places in .kconfig (a variable the loader fills in) or .ksyms (a kernel function or variable). Problems with a
    // single extern are reported at its first use, where the message can name the instruction.
    private static void CollectExterns(LoadContext ctx)
    {
        foreach (var sym in ctx.Symbols)
        {
            if (sym.SectionIndex != ElfSymbol.UndefinedSection || sym.Type != ElfSymbolType.NoType
                || sym.Binding is not (ElfSymbolBinding.Global or ElfSymbolBinding.Weak) || sym.Name.Length == 0)
            {
                continue;
            }

            ctx.Externs.Add(DescribeExtern(ctx, sym));
        }

        LayoutKconfig(ctx);
    }

    private static ExternDesc DescribeExtern(LoadContext ctx, ElfSymbol sym)
    {
        string name = sym.Name;
        bool weak = sym.Binding == ElfSymbolBinding.Weak;
        ExternDesc Refused(string why) => new() { Name = name, SymbolIndex = sym.Index, IsWeak = weak, Error = why };

        var btf = ctx.Btf;
        if (btf is null)
        {
            return Refused($"extern \"{name}\": the object has no BTF, which libbpf needs to place externs");
        }

        BtfType? t = null;
        foreach (uint id in btf.FindAllByName(name))
        {
            if (btf[id] is BtfVar or BtfFunc)
            {
                t = btf[id];
                break;
            }
        }

        if (t is null)
        {
            return Refused($"extern \"{name}\": no BTF VAR or FUNC describes it");
        }

        if ((t is BtfVar v && v.Linkage != BtfVarLinkage.GlobalExtern) || (t is BtfFunc f && f.Linkage != BtfFuncLinkage.Extern))
        {
            return Refused($"extern \"{name}\": its BTF [{t.Id}] has linkage other than extern");
        }

        string? secName = null;
        foreach (var st in btf.Types)
        {
            if (st is BtfDatasec d && d.Vars.Any(x => x.TypeId == t.Id))
            {
                secName = d.Name;
                break;
            }
        }

        if (secName == KconfigSection)
        {
            if (t is not BtfVar kv)
            {
                return Refused($"extern (kcfg) \"{name}\": is not a variable");
            }

            var type = KcfgTypeOf(btf, kv.TypeId, out bool signed);
            if (type == KcfgType.Unknown)
            {
                return Refused($"extern (kcfg) \"{name}\": type {btf.Describe(kv.TypeId)} is unsupported (bool, tristate, char, integer or char array)");
            }

            long size = btf.ResolveSize(kv.TypeId);
            int align = btf.AlignOf(kv.TypeId);
            if (size <= 0 || size > 4096 || align <= 0)
            {
                return Refused($"extern (kcfg) \"{name}\": cannot determine the size and alignment of {btf.Describe(kv.TypeId)}");
            }

            return new ExternDesc
            {
                Name = name,
                SymbolIndex = sym.Index,
                IsWeak = weak,
                IsKconfig = true,
                BtfId = t.Id,
                KcfgType = type,
                IsSigned = signed,
                Size = (int)size,
                Align = align,
            };
        }

        if (secName == KsymsSection)
        {
            if (t is BtfVar)
            {
                return Refused($"ksym \"{name}\": kernel variables (.ksyms) are not provided by the VM");
            }

            var id = Kfuncs.IdOf(name);
            return id == KfuncId.None
                ? Refused($"kfunc \"{name}\" is not provided by the VM (XDP programs may call bpf_dynptr_from_xdp, bpf_dynptr_slice, bpf_dynptr_slice_rdwr, the bpf_xdp_metadata_rx_* kfuncs, bpf_obj_new_impl, bpf_obj_drop_impl, bpf_percpu_obj_new_impl and bpf_percpu_obj_drop_impl)")
                : new ExternDesc { Name = name, SymbolIndex = sym.Index, IsWeak = weak, BtfId = t.Id, Kfunc = id };
        }

        return Refused($"extern \"{name}\": is in neither .kconfig nor .ksyms");
    }

    // kernel: libbpf.c find_kcfg_type()
    private static KcfgType KcfgTypeOf(BtfSpec btf, uint id, out bool signed)
    {
        signed = false;
        var t = btf.SkipModsAndTypedefs(id, out _);
        switch (t)
        {
            case BtfInt i:
                if ((i.Encoding & BtfIntEncoding.Bool) != 0)
                {
                    return i.Size == 1 ? KcfgType.Bool : KcfgType.Unknown;
                }

                signed = i.IsSigned;
                if (i.Size == 1)
                {
                    return KcfgType.Char;
                }

                return i.Size is 2 or 4 or 8 ? KcfgType.Int : KcfgType.Unknown;
            case BtfEnum e:
                return e.Name == "libbpf_tristate" && (e.Kind == BtfKind.Enum64 || e.Size == 4) ? KcfgType.Tristate : KcfgType.Unknown;
            case BtfArray a:
                return a.Count > 0 && KcfgTypeOf(btf, a.ElementTypeId, out _) == KcfgType.Char ? KcfgType.CharArray : KcfgType.Unknown;
            default:
                return KcfgType.Unknown;
        }
    }

    // kernel: libbpf.c cmp_externs() and the offsets assigned after it: by alignment (largest first), then size
    // (smallest first), then name; each at the next multiple of its alignment.
    private static void LayoutKconfig(LoadContext ctx)
    {
        var kcfg = ctx.Externs.Where(e => e.IsKconfig).ToList();
        kcfg.Sort(static (a, b) =>
        {
            if (a.Align != b.Align)
            {
                return b.Align.CompareTo(a.Align);
            }

            return a.Size != b.Size ? a.Size.CompareTo(b.Size) : string.CompareOrdinal(a.Name, b.Name);
        });
        int off = 0;
        foreach (var e in kcfg)
        {
            int align = Math.Max(1, e.Align);
            e.DataOffset = (off + align - 1) / align * align;
            off = e.DataOffset + e.Size;
        }
    }

    // kernel: libbpf.c bpf_object__resolve_externs() for kcfg externs: the LINUX_* virtual externs, then CONFIG_*
    // from the kconfig table; a strong extern without a value is refused, a weak one stays 0.
    private static byte[] KconfigValues(LoadContext ctx, List<ExternDesc> kcfg, int size)
    {
        var data = new byte[size];
        foreach (var e in kcfg)
        {
            var slot = data.AsSpan(e.DataOffset, e.Size);
            bool set;
            if (e.Name.StartsWith("LINUX_", StringComparison.Ordinal))
            {
                ulong? value = e.Name switch
                {
                    "LINUX_KERNEL_VERSION" => ctx.Options.KernelVersion ?? ElfLoadOptions.RunningKernelVersion(),
                    "LINUX_HAS_BPF_COOKIE" => 1,
                    "LINUX_HAS_SYSCALL_WRAPPER" => 1,
                    _ => null,
                };
                if (value is null && !e.IsWeak)
                {
                    throw ctx.Error(null, $"extern (kcfg) \"{e.Name}\": unrecognized virtual extern");
                }

                set = value is not null && SetKcfgNumber(ctx, e, slot, value.Value);
            }
            else if (e.Name.StartsWith("CONFIG_", StringComparison.Ordinal))
            {
                var text = ctx.Options.Kconfig[e.Name];
                set = text is not null && SetKcfgValue(ctx, e, slot, text);
            }
            else
            {
                throw ctx.Error(null, $"extern (kcfg) \"{e.Name}\": only CONFIG_* and LINUX_* externs can be in .kconfig");
            }

            if (!set && !e.IsWeak)
            {
                throw ctx.Error(null, $"extern \"{e.Name}\" (strong): not resolved: the kconfig table has no value for it (declare it __weak to default to 0)");
            }
        }

        return data;
    }

    // kernel: libbpf.c bpf_object__process_kconfig_line(): y/n/m, a quoted string, or a number.
    private static bool SetKcfgValue(LoadContext ctx, ExternDesc e, Span<byte> slot, string text)
    {
        if (text is "y" or "n" or "m")
        {
            char c = text[0];
            switch (e.KcfgType)
            {
                case KcfgType.Bool when c == 'm':
                    throw ctx.Error(null, $"extern (kcfg) \"{e.Name}\": value '{c}' implies tristate or char type");
                case KcfgType.Bool:
                    slot[0] = c == 'y' ? (byte)1 : (byte)0;
                    return true;
                case KcfgType.Tristate:
                    BinaryPrimitives.WriteUInt32LittleEndian(slot, c switch { 'y' => 1u, 'm' => 2u, _ => 0u });
                    return true;
                case KcfgType.Char:
                    slot[0] = (byte)c;
                    return true;
                default:
                    throw ctx.Error(null, $"extern (kcfg) \"{e.Name}\": value '{c}' implies bool, tristate, or char type");
            }
        }

        if (text.StartsWith('"'))
        {
            if (e.KcfgType != KcfgType.CharArray)
            {
                throw ctx.Error(null, $"extern (kcfg) \"{e.Name}\": value '{text}' implies char array type");
            }

            if (text.Length < 2 || text[^1] != '"')
            {
                throw ctx.Error(null, $"extern (kcfg) \"{e.Name}\": invalid string config '{text}'");
            }

            var bytes = Encoding.UTF8.GetBytes(text[1..^1]);
            int len = Math.Min(bytes.Length, slot.Length - 1);
            bytes.AsSpan(0, len).CopyTo(slot);
            slot[len] = 0;
            return true;
        }

        if (!TryParseC(text, out ulong number))
        {
            throw ctx.Error(null, $"extern (kcfg) \"{e.Name}\": failed to parse value '{text}'");
        }

        if (e.KcfgType == KcfgType.CharArray)
        {
            throw ctx.Error(null, $"extern (kcfg) \"{e.Name}\": value '{text}' implies integer type");
        }

        return SetKcfgNumber(ctx, e, slot, number);
    }

    // kernel: libbpf.c set_kcfg_value_num()
    private static bool SetKcfgNumber(LoadContext ctx, ExternDesc e, Span<byte> slot, ulong value)
    {
        if (e.KcfgType is not (KcfgType.Int or KcfgType.Char or KcfgType.Bool))
        {
            throw ctx.Error(null, $"extern (kcfg) \"{e.Name}\": value '{value}' implies integer, char, or boolean type");
        }

        if (e.KcfgType == KcfgType.Bool && value > 1)
        {
            throw ctx.Error(null, $"extern (kcfg) \"{e.Name}\": value '{value}' isn't boolean compatible");
        }

        if (e.KcfgType != KcfgType.Bool && !InRange(e, value))
        {
            throw ctx.Error(null, $"extern (kcfg) \"{e.Name}\": value '{value}' doesn't fit in {e.Size} bytes");
        }

        switch (e.Size)
        {
            case 1: slot[0] = (byte)value; break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(slot, (ushort)value); break;
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(slot, (uint)value); break;
            case 8: BinaryPrimitives.WriteUInt64LittleEndian(slot, value); break;
            default: throw ctx.Error(null, $"extern (kcfg) \"{e.Name}\": size {e.Size} cannot hold a number");
        }

        return true;
    }

    // kernel: libbpf.c is_kcfg_value_in_range()
    private static bool InRange(ExternDesc e, ulong v)
    {
        int bits = e.Size * 8;
        if (e.Size == 8)
        {
            return true;
        }

        return e.IsSigned ? v + (1UL << (bits - 1)) < (1UL << bits) : (v >> bits) == 0;
    }

    // strtoull(value, &end, 0): decimal, 0x hex, 0 octal, with an optional leading minus (two's complement).
    private static bool TryParseC(string text, out ulong value)
    {
        value = 0;
        var s = text.AsSpan().Trim();
        bool negative = s.StartsWith("-");
        if (negative || s.StartsWith("+"))
        {
            s = s[1..];
        }

        bool ok;
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            ok = ulong.TryParse(s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }
        else if (s.Length > 1 && s[0] == '0')
        {
            ok = true;
            foreach (char c in s[1..])
            {
                if (c is < '0' or > '7' || value > ulong.MaxValue >> 3)
                {
                    ok = false;
                    break;
                }

                value = (value << 3) | (uint)(c - '0');
            }
        }
        else
        {
            ok = ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        }

        if (ok && negative)
        {
            value = unchecked(0 - value);
        }

        return ok;
    }
}
