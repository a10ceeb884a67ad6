using System.Globalization;
using System.Text;
using VethXdp.Vm.Elf;

namespace VethXdp.Vm.Isa;

/// <summary>Produces exactly what <c>llvm-objdump-19 -d</c> prints for a BPF object, or the same listing for bare bytecode.</summary>
/// <remarks>
/// Follows llvm-objdump's <c>disassembleObject</c>: every non-empty executable section in header order; the section's
/// named symbols (any type but STT_SECTION/STT_FILE) sorted by address, name and type, with a dummy symbol named
/// after the section when none sits at its start; one <c>&lt;name&gt;:</c> header per address (the last non-data symbol
/// there); data-only addresses dumped as bytes; runs of eight or more zero bytes shown as <c>...</c>; branch targets
/// labelled with the nearest preceding symbol. Lines carry the slot number (address / 8), the raw bytes and the
/// <see cref="LlvmFormatter"/> text. The listing is built from the decoded slots, re-encoded little-endian, which are
/// the section's bytes.
/// </remarks>
public static class Disassembler
{
    /// <summary>The full text of <c>llvm-objdump-19 -d</c> for the object.</summary>
    /// <param name="obj">An object read by <see cref="ElfObjectReader"/>.</param>
    public static string DisassembleObject(BpfObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var sb = new StringBuilder();
        sb.Append('\n').Append(obj.FileName).Append(":\tfile format elf64-bpf\n");

        // Symbols outside any section are llvm's last resort for a branch target with no symbol before it.
        var absolute = new List<Sym>();
        foreach (var s in obj.Symbols)
        {
            if (IsListed(s) && !s.IsInSection)
            {
                absolute.Add(new Sym(s.Value, s.Name, (byte)s.Type));
            }
        }

        absolute.Sort();
        foreach (var section in obj.Sections)
        {
            if (section.SlotCount > 0)
            {
                AppendSection(sb, obj, section, absolute);
            }
        }

        return sb.ToString();
    }

    /// <summary>One llvm-style line per instruction for bare bytecode (no file or symbol headers, no branch labels).</summary>
    /// <param name="slots">The bytecode.</param>
    /// <remarks>As llvm-objdump would list the same bytes in a section: slot numbers from 0, zero runs as <c>...</c>.</remarks>
    public static string DisassembleRaw(ReadOnlySpan<Instruction> slots)
    {
        var sb = new StringBuilder();
        var bytes = BpfProgram.EncodeSlots(slots);
        AppendRange(sb, bytes, 0, bytes.Length, 0, null, null);
        return sb.ToString();
    }

    /// <summary>A symbol as llvm-objdump keeps it: address, name, ELF type; ordered by (address, name, type).</summary>
    private readonly record struct Sym(ulong Addr, string Name, byte Type) : IComparable<Sym>
    {
        public int CompareTo(Sym other)
        {
            int c = Addr.CompareTo(other.Addr);
            if (c == 0)
            {
                c = string.CompareOrdinal(Name, other.Name);
            }

            return c != 0 ? c : Type.CompareTo(other.Type);
        }
    }

    // llvm-objdump skips unnamed symbols and the "format specific" ones (STT_SECTION, STT_FILE).
    private static bool IsListed(ElfSymbol s) =>
        s.Name.Length > 0 && s.Type != ElfSymbolType.Section && s.Type != ElfSymbolType.File;

    private static bool IsData(byte type) => type is (byte)ElfSymbolType.Object or (byte)ElfSymbolType.Common;

    private static void AppendSection(StringBuilder sb, BpfObject obj, ElfCodeSection section, List<Sym> absolute)
    {
        ulong sectionAddr = section.Address;
        var bytes = BpfProgram.EncodeSlots(section.SlotSpan);
        var syms = new List<Sym>();
        foreach (var s in obj.Symbols)
        {
            if (IsListed(s) && s.SectionIndex == section.Index)
            {
                syms.Add(new Sym(unchecked(s.Value + sectionAddr), s.Name, (byte)s.Type));
            }
        }

        syms.Sort();
        if (syms.Count == 0 || syms[0].Addr != sectionAddr)
        {
            var dummy = new Sym(sectionAddr, section.Name, (byte)ElfSymbolType.Func);
            int at = syms.BinarySearch(dummy);
            syms.Insert(at < 0 ? ~at : at, dummy);
        }

        bool printedSection = false;
        ulong sectionEnd = sectionAddr + (ulong)bytes.Length;
        for (int si = 0; si < syms.Count;)
        {
            int first = si;
            ulong start = syms[si].Addr;
            while (si < syms.Count && syms[si].Addr == start)
            {
                si++;
            }

            // llvm: the header shows the last symbol here that is not data; if all are data, bytes are dumped.
            bool asData = true;
            int display = si - 1;
            for (int i = first; i < si; i++)
            {
                if (!IsData(syms[i].Type))
                {
                    asData = false;
                    display = i;
                }
            }

            if (start < sectionAddr)
            {
                continue;
            }

            ulong end = si < syms.Count ? Math.Min(sectionEnd, syms[si].Addr) : sectionEnd;
            if (start >= end)
            {
                continue;
            }

            if (!printedSection)
            {
                printedSection = true;
                sb.Append("\nDisassembly of section ").Append(section.Name).Append(":\n");
            }

            sb.Append('\n').Append(start.ToString("x16", CultureInfo.InvariantCulture))
                .Append(" <").Append(syms[display].Name).Append(">:\n");
            int from = (int)(start - sectionAddr), to = (int)(end - sectionAddr);
            if (asData)
            {
                AppendData(sb, bytes, from, to, sectionAddr);
            }
            else
            {
                AppendRange(sb, bytes, from, to, sectionAddr, syms, absolute);
            }
        }
    }

    // llvm: the instruction loop of disassembleObject, for [from, to) of the section.
    private static void AppendRange(StringBuilder sb, byte[] bytes, int from, int to, ulong sectionAddr, List<Sym>? syms, List<Sym>? absolute)
    {
        int index = from;
        var text = new StringBuilder(48);
        while (index < to)
        {
            // countSkippableZeroBytes: eight or more zeros are skipped, in multiples of four.
            int zeros = 0;
            while (index + zeros < to && bytes[index + zeros] == 0)
            {
                zeros++;
            }

            if (zeros >= 8)
            {
                sb.Append("\t\t...\n");
                index += zeros & ~3;
                continue;
            }

            int remaining = bytes.Length - index;
            ulong address = sectionAddr + (ulong)index;
            LlvmFormatter.DecodeResult d;
            text.Clear();
            if (remaining < Instruction.Size)
            {
                d = new LlvmFormatter.DecodeResult(false, 0, false, 0);
            }
            else
            {
                var insn = Instruction.Read(bytes.AsSpan(index, Instruction.Size));
                bool hasNext = remaining >= 2 * Instruction.Size;
                var next = hasNext ? Instruction.Read(bytes.AsSpan(index + Instruction.Size, Instruction.Size)) : default;
                d = LlvmFormatter.Append(text, insn, hasNext, next);
            }

            // A failed decode that consumed nothing makes llvm move on by one byte.
            int size = d.Size == 0 ? 1 : d.Size;

            // BPFPrettyPrinter: "%8d:" of the slot number, a tab, the bytes, a tab, the text.
            sb.Append((address / Instruction.Size).ToString(CultureInfo.InvariantCulture).PadLeft(8)).Append(":\t");
            for (int i = 0; i < size; i++)
            {
                if (i > 0)
                {
                    sb.Append(' ');
                }

                sb.Append(bytes[index + i].ToString("x2", CultureInfo.InvariantCulture));
            }

            sb.Append('\t');
            if (d.Decoded)
            {
                sb.Append(text);
                if (d.IsBranch && syms is not null)
                {
                    // BPFMCInstrAnalysis::evaluateBranch: Addr + Size + Imm * Size, in 64-bit wrap-around arithmetic.
                    ulong target = unchecked(address + (ulong)size + ((ulong)d.Displacement * (ulong)size));
                    AppendTarget(sb, target, syms, absolute);
                }
            }
            else
            {
                sb.Append(LlvmFormatter.UnknownText);
            }

            sb.Append('\n');
            index += size;
        }
    }

    // The nearest symbol at or before the target, in this section, else among the absolute symbols.
    private static void AppendTarget(StringBuilder sb, ulong target, List<Sym> syms, List<Sym>? absolute)
    {
        var found = LastAtOrBefore(syms, target) ?? (absolute is null ? null : LastAtOrBefore(absolute, target));
        if (found is not { } sym)
        {
            return;
        }

        sb.Append(" <").Append(sym.Name);
        ulong disp = target - sym.Addr;
        if (disp != 0)
        {
            sb.Append("+0x").Append(disp.ToString("x", CultureInfo.InvariantCulture));
        }

        sb.Append('>');
    }

    private static Sym? LastAtOrBefore(List<Sym> sorted, ulong address)
    {
        int lo = 0, hi = sorted.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid].Addr <= address)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo == 0 ? null : sorted[lo - 1];
    }

    // llvm: dumpELFData, eight bytes a line: "%8x:", " %02x" each, padding, nine spaces, the printable characters.
    private static void AppendData(StringBuilder sb, byte[] bytes, int from, int to, ulong sectionAddr)
    {
        var ascii = new StringBuilder(8);
        int count = 0;
        for (int index = from; index < to; index++)
        {
            if (count == 0)
            {
                sb.Append((sectionAddr + (ulong)index).ToString("x", CultureInfo.InvariantCulture).PadLeft(8)).Append(':');
                ascii.Clear();
            }

            byte b = bytes[index];
            sb.Append(' ').Append(b.ToString("x2", CultureInfo.InvariantCulture));
            ascii.Append(b is >= 0x20 and <= 0x7e ? (char)b : '.');
            count++;
            int indent = 0;
            if (index == to - 1)
            {
                indent = 3 * (8 - count);
                count = 8;
            }

            if (count == 8)
            {
                sb.Append(' ', indent).Append("         ").Append(ascii).Append('\n');
                count = 0;
            }
        }
    }
}
