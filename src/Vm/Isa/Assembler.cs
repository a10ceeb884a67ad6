namespace VethXdp.Vm.Isa;

/// <summary>Assembles eBPF source into instruction slots. Each line is read in one of two syntaxes, detected per line:
/// the bpf_conformance syntax (<c>ldxh %r0, [%r1+2]</c>) and the kernel's (<c>r0 = *(u16 *)(r1 +2)</c>,
/// what <see cref="KernelFormatter"/> prints, also with llvm-objdump-19's spellings).</summary>
/// <remarks>
/// <para>Common rules: one instruction per line; comments start at <c>#</c> (except in <c>name#12</c>, the kernel's
/// helper spelling), <c>;</c> or <c>//</c>; a label is <c>name:</c> at the start of a line. Unlike upstream
/// bpf_conformance, which ignores anything after a label on the same line, an instruction after a label is
/// assembled. The label <c>exit</c> is predefined as the first <c>exit</c> instruction unless the source defines it.
/// Jump and call offsets count slots from the next instruction; a 64-bit immediate load takes two slots.</para>
/// <para>Conformance syntax: exactly the mnemonics of bpf_conformance (see ../shared/conformance/README.md).
/// Registers <c>%r11</c>-<c>%r15</c> are accepted, as upstream does, so that negative tests can encode them
/// (<see cref="InstructionValidator"/> rejects them). Extensions: <c>ldabs{b,h,w,dw} imm</c> and
/// <c>ldind{b,h,w,dw} %rS, imm</c> for the legacy packet loads, and <c>call local +N</c>.
/// A decimal immediate may be written as a signed or an unsigned 32-bit value; a hex one is a 32-bit bit pattern.</para>
/// <para>Kernel syntax: the forms of <see cref="KernelFormatter"/>, optionally behind a verifier log prefix
/// (<c>12: (15) </c>, whose opcode is then checked) or an llvm-objdump prefix (<c>12:	15 00 03 00 00 00 00 00	</c>).
/// Registers are <c>r0</c>-<c>r10</c> (<c>w</c> for 32-bit operations). Immediates are decimal (signed 32-bit)
/// or hex (a 32-bit bit pattern, as the kernel prints jump immediates). Jump targets are <c>pc+N</c>, <c>+N</c>,
/// <c>+0x15</c> or a label; a trailing llvm annotation <c>&lt;f+0x10&gt;</c> is ignored. <c>call name</c> calls a
/// helper by name, or a label (BPF-to-BPF) when the name is not a helper; <c>call name#N</c> with a name that is
/// not a helper is a kfunc, as the verifier prints them.</para>
/// <para>One ambiguity is settled in the kernel's favour: the kernel prints a 64-bit immediate load as
/// <c>r1 = 0x2a</c> and a 64-bit move as <c>r1 = 42</c>, so <c>rN = &lt;hex&gt;</c> is a 64-bit load and
/// <c>rN = &lt;decimal&gt;</c> (or a negative hex, as llvm prints) is a move. llvm marks its loads with <c>ll</c>
/// instead; on lines carrying llvm-objdump's byte dump, a plain hex value is a move as llvm means it.</para>
/// </remarks>
public static partial class Assembler
{
    /// <summary>Assembles <paramref name="source"/> into slots; throws <see cref="AssemblerException"/> naming the line.</summary>
    /// <param name="source">The program text, one instruction or label per line.</param>
    public static Instruction[] Assemble(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var items = new List<Item>();
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        int slot = 0;
        int firstExit = -1;
        string[] lines = source.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int line = i + 1;
            string text = StripComment(lines[i]).Trim();
            text = StripPrefix(text, line, out int expectedOpcode, out bool llvm);
            while (TrySplitLabel(text, out string name, out string rest))
            {
                if (!labels.TryAdd(name, slot))
                {
                    throw new AssemblerException(line, $"duplicate label '{name}'");
                }

                text = rest;
            }

            if (text.Length == 0 || IsLlvmSymbolHeader(text))
            {
                continue;
            }

            var item = IsConformanceLine(text) ? ParseConformance(text, line) : ParseKernel(text, line, llvm);
            if (expectedOpcode >= 0 && item.Insn.Opcode != expectedOpcode)
            {
                throw new AssemblerException(
                    line, $"opcode prefix ({expectedOpcode:x2}) does not match the instruction, which encodes as ({item.Insn.Opcode:x2})");
            }

            if (item.Insn.Opcode == Op.Exit && firstExit < 0)
            {
                firstExit = slot;
            }

            items.Add(item);
            slot += item.Wide ? 2 : 1;
        }

        if (firstExit >= 0)
        {
            labels.TryAdd("exit", firstExit);
        }

        return Emit(items, labels, slot);
    }

    private static Instruction[] Emit(List<Item> items, Dictionary<string, int> labels, int slotCount)
    {
        var slots = new Instruction[slotCount];
        int pc = 0;
        foreach (var item in items)
        {
            var insn = item.Insn;
            if (item.Label is { } label)
            {
                if (!labels.TryGetValue(label, out int target))
                {
                    throw new AssemblerException(item.Line, $"undefined label '{label}'");
                }

                long rel = (long)target - (pc + 1);
                if (item.Fixup == Fixup.Offset)
                {
                    if (rel is < short.MinValue or > short.MaxValue)
                    {
                        throw new AssemblerException(item.Line, $"jump to '{label}' is {rel} slots away, out of the 16-bit offset range");
                    }

                    insn = new Instruction(insn.Opcode, insn.Regs, (short)rel, insn.Imm);
                }
                else
                {
                    insn = new Instruction(insn.Opcode, insn.Regs, insn.Offset, (int)rel);
                }
            }

            slots[pc++] = insn;
            if (item.Wide)
            {
                slots[pc++] = new Instruction(0, 0, 0, item.Hi);
            }
        }

        return slots;
    }

    // '#' starts a comment unless it joins a name and a number (the kernel's "bpf_map_lookup_elem#1");
    // ';' (verifier log annotations) and "//" start comments too.
    private static string StripComment(string line)
    {
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (ch == ';' || (ch == '/' && i + 1 < line.Length && line[i + 1] == '/'))
            {
                return line[..i];
            }

            if (ch == '#')
            {
                bool joined = i > 0 && IsIdentChar(line[i - 1]) && i + 1 < line.Length &&
                    (char.IsAsciiDigit(line[i + 1]) || line[i + 1] == '-');
                if (!joined)
                {
                    return line[..i];
                }
            }
        }

        return line;
    }

    // Strips "12: (15) " (verifier log), "12: 0.2...6... (15) " (its liveness table) and
    // "12:\t15 00 03 00 00 00 00 00\t" (llvm-objdump). The opcode shown is returned for a consistency check.
    private static string StripPrefix(string text, int line, out int expectedOpcode, out bool llvm)
    {
        expectedOpcode = -1;
        llvm = false;
        int i = 0;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        if (i == 0 || i >= text.Length || text[i] != ':')
        {
            return text;
        }

        var rest = text.AsSpan(i + 1).TrimStart();

        // llvm-objdump byte dump: 8 or 16 two-digit hex bytes.
        int bytes = 0, p = 0;
        while (p + 2 <= rest.Length && char.IsAsciiHexDigit(rest[p]) && char.IsAsciiHexDigit(rest[p + 1]) &&
               (p + 2 == rest.Length || char.IsWhiteSpace(rest[p + 2])))
        {
            bytes++;
            p += 2;
            while (p < rest.Length && rest[p] == ' ')
            {
                p++;
            }
        }

        if (bytes is 8 or 16)
        {
            llvm = true;
            expectedOpcode = Convert.ToInt32(rest[..2].ToString(), 16);
            return rest[p..].Trim().ToString();
        }

        // Liveness column of the verifier's "Live regs before insn" table.
        int q = 0;
        while (q < rest.Length && (char.IsAsciiDigit(rest[q]) || rest[q] == '.'))
        {
            q++;
        }

        if (q > 0 && q < rest.Length && char.IsWhiteSpace(rest[q]))
        {
            rest = rest[q..].TrimStart();
        }

        if (rest.Length >= 4 && rest[0] == '(' && rest[3] == ')' &&
            char.IsAsciiHexDigit(rest[1]) && char.IsAsciiHexDigit(rest[2]))
        {
            expectedOpcode = Convert.ToInt32(rest[1..3].ToString(), 16);
            rest = rest[4..];
        }
        else if (rest.Length > 0 && rest[0] == '(')
        {
            throw new AssemblerException(line, $"malformed opcode prefix '{rest}'");
        }

        return rest.Trim().ToString();
    }

    private static bool TrySplitLabel(string text, out string name, out string rest)
    {
        name = rest = string.Empty;
        int i = 0;
        if (text.Length == 0 || !(char.IsAsciiLetter(text[0]) || text[0] is '_' or '.'))
        {
            return false;
        }

        while (i < text.Length && (IsIdentChar(text[i]) || text[i] == '.'))
        {
            i++;
        }

        if (i >= text.Length || text[i] != ':')
        {
            return false;
        }

        name = text[..i];
        rest = text[(i + 1)..].Trim();
        return true;
    }

    // "0000000000000000 <xdp_prog>:" in llvm-objdump output.
    private static bool IsLlvmSymbolHeader(string text) =>
        text.EndsWith(">:", StringComparison.Ordinal) && text.Contains(" <", StringComparison.Ordinal);

    private static bool IsIdentChar(char ch) => char.IsAsciiLetterOrDigit(ch) || ch == '_';

    private static bool IsConformanceLine(string text)
    {
        if (text.Contains("%r", StringComparison.Ordinal))
        {
            return true;
        }

        int sp = text.IndexOfAny([' ', '\t']);
        string first = sp < 0 ? text : text[..sp];
        string second = sp < 0 ? string.Empty : text[sp..].TrimStart();
        return first switch
        {
            "exit" => false,
            "call" => second.StartsWith("helper", StringComparison.Ordinal) ||
                      second.StartsWith("local", StringComparison.Ordinal) ||
                      second.StartsWith("runtime", StringComparison.Ordinal),
            "lock" => !second.StartsWith('*'),
            _ => IsConformanceMnemonic(first),
        };
    }

    /// <summary>How the second pass patches a label reference.</summary>
    private enum Fixup : byte
    {
        None,
        Offset,
        Imm,
    }

    /// <summary>One parsed instruction before labels are resolved.</summary>
    private struct Item
    {
        public Instruction Insn;
        public bool Wide;
        public int Hi;
        public string? Label;
        public Fixup Fixup;
        public int Line;

        public Item(Instruction insn, int line)
        {
            Insn = insn;
            Line = line;
        }
    }

    /// <summary>A number as written: magnitude, sign and base (hex values are bit patterns).</summary>
    private readonly record struct Num(ulong Magnitude, bool Negative, bool Hex, string Text)
    {
        public int ToImm32(int line, bool unsignedDecimal)
        {
            if (Negative)
            {
                if (Magnitude <= 0x8000_0000UL)
                {
                    return unchecked((int)(0L - (long)Magnitude));
                }
            }
            else if (Magnitude <= int.MaxValue || ((Hex || unsignedDecimal) && Magnitude <= uint.MaxValue))
            {
                return unchecked((int)(uint)Magnitude);
            }

            throw new AssemblerException(line, $"immediate {Text} does not fit in 32 bits");
        }

        public ulong ToImm64(int line)
        {
            if (Negative && Magnitude > 0x8000_0000_0000_0000UL)
            {
                throw new AssemblerException(line, $"immediate {Text} does not fit in 64 bits");
            }

            return Negative ? unchecked(0UL - Magnitude) : Magnitude;
        }

        public short ToOff16(int line, string what)
        {
            if (Negative ? Magnitude <= 0x8000 : Magnitude <= 0x7fff)
            {
                return unchecked((short)(Negative ? 0L - (long)Magnitude : (long)Magnitude));
            }

            throw new AssemblerException(line, $"{what} {Text} out of the 16-bit range");
        }
    }
}
