namespace VethXdp.Vm.Isa;

// The bpf_conformance syntax (../shared/conformance/README.md): "ldxh %r0, [%r1+2]".
public static partial class Assembler
{
    private static readonly char[] s_separators = [' ', '\t', ','];

    private static readonly Dictionary<string, (AluOp Op, short Off)> s_aluMnemonics = new(StringComparer.Ordinal)
    {
        ["add"] = (AluOp.Add, 0), ["sub"] = (AluOp.Sub, 0), ["mul"] = (AluOp.Mul, 0), ["div"] = (AluOp.Div, 0),
        ["sdiv"] = (AluOp.Div, 1), ["mod"] = (AluOp.Mod, 0), ["smod"] = (AluOp.Mod, 1), ["or"] = (AluOp.Or, 0),
        ["and"] = (AluOp.And, 0), ["xor"] = (AluOp.Xor, 0), ["lsh"] = (AluOp.Lsh, 0), ["rsh"] = (AluOp.Rsh, 0),
        ["arsh"] = (AluOp.Arsh, 0), ["mov"] = (AluOp.Mov, 0),
    };

    private static readonly Dictionary<string, JmpOp> s_jmpMnemonics = new(StringComparer.Ordinal)
    {
        ["jeq"] = JmpOp.Jeq, ["jgt"] = JmpOp.Jgt, ["jge"] = JmpOp.Jge, ["jset"] = JmpOp.Jset, ["jne"] = JmpOp.Jne,
        ["jsgt"] = JmpOp.Jsgt, ["jsge"] = JmpOp.Jsge, ["jlt"] = JmpOp.Jlt, ["jle"] = JmpOp.Jle,
        ["jslt"] = JmpOp.Jslt, ["jsle"] = JmpOp.Jsle,
    };

    // Mnemonics with a fixed opcode and their own operand shapes.
    private static readonly Dictionary<string, byte> s_fixedMnemonics = new(StringComparer.Ordinal)
    {
        ["ldxb"] = Op.LdxB, ["ldxh"] = Op.LdxH, ["ldxw"] = Op.LdxW, ["ldxdw"] = Op.LdxDw,
        ["ldxsb"] = Op.LdxSB, ["ldxsh"] = Op.LdxSH, ["ldxsw"] = Op.LdxSW,
        ["stb"] = Op.StB, ["sth"] = Op.StH, ["stw"] = Op.StW, ["stdw"] = Op.StDw,
        ["stxb"] = Op.StxB, ["stxh"] = Op.StxH, ["stxw"] = Op.StxW, ["stxdw"] = Op.StxDw,
        ["ldabsb"] = Op.LdAbsB, ["ldabsh"] = Op.LdAbsH, ["ldabsw"] = Op.LdAbsW, ["ldabsdw"] = 0x38,
        ["ldindb"] = Op.LdIndB, ["ldindh"] = Op.LdIndH, ["ldindw"] = Op.LdIndW, ["ldinddw"] = 0x58,
        ["le16"] = Op.Le, ["le32"] = Op.Le, ["le64"] = Op.Le, ["be16"] = Op.Be, ["be32"] = Op.Be, ["be64"] = Op.Be,
        ["bswap16"] = Op.Bswap, ["bswap32"] = Op.Bswap, ["bswap64"] = Op.Bswap,
        ["swap16"] = Op.Bswap, ["swap32"] = Op.Bswap, ["swap64"] = Op.Bswap,
        ["neg"] = Op.Neg64, ["neg32"] = Op.Neg32, ["lddw"] = Op.LdDw, ["ja"] = Op.Ja, ["ja32"] = Op.Ja32,
        ["exit"] = Op.Exit, ["call"] = Op.Call, ["lock"] = Op.AtomicDw,
        ["movsx864"] = Op.Mov64Reg, ["movsx1664"] = Op.Mov64Reg, ["movsx3264"] = Op.Mov64Reg,
        ["movsx832"] = Op.Mov32Reg, ["movsx1632"] = Op.Mov32Reg,
    };

    private static bool IsConformanceMnemonic(string word)
    {
        if (s_fixedMnemonics.ContainsKey(word))
        {
            return true;
        }

        string root = word.EndsWith("32", StringComparison.Ordinal) ? word[..^2] : word;
        return s_aluMnemonics.ContainsKey(root) || s_jmpMnemonics.ContainsKey(root);
    }

    private static Item ParseConformance(string text, int line)
    {
        string[] t = text.Split(s_separators, StringSplitOptions.RemoveEmptyEntries);
        string m = t[0];
        if (s_fixedMnemonics.TryGetValue(m, out byte opcode))
        {
            return ParseFixed(m, opcode, t, line);
        }

        bool is32 = m.EndsWith("32", StringComparison.Ordinal);
        string root = is32 ? m[..^2] : m;
        if (s_aluMnemonics.TryGetValue(root, out var alu))
        {
            Operands(t, 3, line);
            int dst = CReg(t[1], line);
            int op = (int)alu.Op | (int)(is32 ? OpClass.Alu : OpClass.Alu64);
            return t[2].StartsWith('%')
                ? new Item(Make(op | 0x08, dst, CReg(t[2], line), alu.Off, 0), line)
                : new Item(Make(op, dst, 0, alu.Off, CImm32(t[2], line)), line);
        }

        if (s_jmpMnemonics.TryGetValue(root, out var jmp))
        {
            Operands(t, 4, line);
            int dst = CReg(t[1], line);
            int op = (int)jmp | (int)(is32 ? OpClass.Jmp32 : OpClass.Jmp);
            var item = t[2].StartsWith('%')
                ? new Item(Make(op | 0x08, dst, CReg(t[2], line), 0, 0), line)
                : new Item(Make(op, dst, 0, 0, CImm32(t[2], line)), line);
            CTarget(t[3], line, ref item, Fixup.Offset);
            return item;
        }

        throw new AssemblerException(line, $"unknown mnemonic '{m}'");
    }

    private static Item ParseFixed(string m, byte opcode, string[] t, int line)
    {
        switch (m)
        {
            case "exit":
                Operands(t, 1, line);
                return new Item(Make(opcode, 0, 0, 0, 0), line);
            case "call":
                return CCall(t, line);
            case "lock":
                return CLock(t, line);
            case "ja" or "ja32":
            {
                Operands(t, 2, line);
                var item = new Item(Make(opcode, 0, 0, 0, 0), line);
                CTarget(t[1], line, ref item, m == "ja" ? Fixup.Offset : Fixup.Imm);
                return item;
            }

            case "lddw":
            {
                Operands(t, 3, line);
                ulong value = CNumber(t[2], line).ToImm64(line);
                return new Item(Make(opcode, CReg(t[1], line), 0, 0, unchecked((int)(uint)value)), line)
                {
                    Wide = true,
                    Hi = unchecked((int)(uint)(value >> 32)),
                };
            }

            case "neg" or "neg32":
                Operands(t, 2, line);
                return new Item(Make(opcode, CReg(t[1], line), 0, 0, 0), line);
        }

        if (m.StartsWith("movsx", StringComparison.Ordinal))
        {
            // movsx864: from 8 bits to 64; the offset holds the source width.
            Operands(t, 3, line);
            int bits = m.Length == 8 ? m[5] - '0' : int.Parse(m.AsSpan(5, 2), System.Globalization.CultureInfo.InvariantCulture);
            return new Item(Make(opcode, CReg(t[1], line), CReg(t[2], line), bits, 0), line);
        }

        if (opcode is Op.Le or Op.Be or Op.Bswap)
        {
            Operands(t, 2, line);
            int width = int.Parse(m.AsSpan(m.Length - 2), System.Globalization.CultureInfo.InvariantCulture);
            return new Item(Make(opcode, CReg(t[1], line), 0, 0, width), line);
        }

        switch ((OpClass)(opcode & 0x07))
        {
            case OpClass.Ldx:
            {
                Operands(t, 3, line);
                int dst = CReg(t[1], line);
                int src = CMem(t[2], line, out short off);
                return new Item(Make(opcode, dst, src, off, 0), line);
            }

            case OpClass.St:
            {
                Operands(t, 3, line);
                int dst = CMem(t[1], line, out short off);
                return new Item(Make(opcode, dst, 0, off, CImm32(t[2], line)), line);
            }

            case OpClass.Stx:
            {
                Operands(t, 3, line);
                int dst = CMem(t[1], line, out short off);
                return new Item(Make(opcode, dst, CReg(t[2], line), off, 0), line);
            }

            default:
                // Legacy packet loads (extension): ldabsw imm, ldindw %rS, imm.
                if ((opcode & 0xe0) == (int)MemMode.Abs)
                {
                    Operands(t, 2, line);
                    return new Item(Make(opcode, 0, 0, 0, CImm32(t[1], line)), line);
                }

                Operands(t, 3, line);
                return new Item(Make(opcode, 0, CReg(t[1], line), 0, CImm32(t[2], line)), line);
        }
    }

    // call N | call helper N | call %rN | call helper %rN | call local label|+N | call runtime N
    private static Item CCall(string[] t, int line)
    {
        if (t.Length < 2)
        {
            throw new AssemblerException(line, "missing operand: call target");
        }

        string kind = t[1];
        if (kind is "local" or "runtime" or "helper")
        {
            Operands(t, 3, line);
            if (kind == "local")
            {
                var item = new Item(Make(Op.Call, 0, (int)CallKind.Local, 0, 0), line);
                CTarget(t[2], line, ref item, Fixup.Imm);
                return item;
            }

            return kind == "runtime"
                ? new Item(Make(Op.Call, 0, (int)CallKind.Kfunc, 0, CImm32(t[2], line)), line)
                : CCallTarget(t[2], line);
        }

        Operands(t, 2, line);
        return CCallTarget(kind, line);
    }

    private static Item CCallTarget(string operand, int line) =>
        operand.StartsWith('%')
            ? new Item(Make(Op.CallX, CReg(operand, line), 0, 0, 0), line)
            : new Item(Make(Op.Call, 0, 0, 0, CImm32(operand, line)), line);

    // lock [fetch] add|and|or|xor[32] [%rD+off], %rS ; lock xchg|cmpxchg[32] [%rD+off], %rS
    private static Item CLock(string[] t, int line)
    {
        int i = 1;
        bool fetch = t.Length > i && t[i] == "fetch";
        if (fetch)
        {
            i++;
        }

        if (t.Length <= i)
        {
            throw new AssemblerException(line, "missing operand: atomic operation");
        }

        string op = t[i];
        bool is32 = op.EndsWith("32", StringComparison.Ordinal);
        int imm = (is32 ? op[..^2] : op) switch
        {
            "add" => (int)AtomicOp.Add,
            "or" => (int)AtomicOp.Or,
            "and" => (int)AtomicOp.And,
            "xor" => (int)AtomicOp.Xor,
            "xchg" => (int)AtomicOp.Xchg,
            "cmpxchg" => (int)AtomicOp.CmpXchg,
            _ => throw new AssemblerException(line, $"unknown atomic operation '{op}'"),
        };
        if (fetch)
        {
            imm |= (int)AtomicOp.Fetch;
        }

        if (t.Length < i + 3)
        {
            throw new AssemblerException(line, "missing operand");
        }

        if (t.Length > i + 3)
        {
            throw new AssemblerException(line, $"unexpected operand '{t[i + 3]}'");
        }

        int dst = CMem(t[i + 1], line, out short off);
        int src = CReg(t[i + 2], line);
        return new Item(Make(is32 ? Op.AtomicW : Op.AtomicDw, dst, src, off, imm), line);
    }

    private static void Operands(string[] t, int count, int line)
    {
        if (t.Length < count)
        {
            throw new AssemblerException(line, $"missing operand: '{t[0]}' takes {count - 1}");
        }

        if (t.Length > count)
        {
            throw new AssemblerException(line, $"unexpected operand '{t[count]}'");
        }
    }

    // %r0-%r10; %r11-%r15 are accepted (they fit the 4-bit field) so that negative tests can be written.
    private static int CReg(string token, int line)
    {
        if (token.Length is >= 3 and <= 4 && token.StartsWith("%r", StringComparison.Ordinal) &&
            int.TryParse(token.AsSpan(2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int reg) &&
            reg <= 15)
        {
            return reg;
        }

        throw new AssemblerException(line, $"invalid register '{token}'");
    }

    private static Num CNumber(string token, int line)
    {
        var c = new Cursor(token, line);
        if (!c.TryNumber(out var n) || !c.AtEnd)
        {
            throw new AssemblerException(line, $"invalid number '{token}'");
        }

        return n;
    }

    private static int CImm32(string token, int line)
    {
        if (token.StartsWith('%'))
        {
            throw new AssemblerException(line, $"expected an immediate, not the register '{token}'");
        }

        return CNumber(token, line).ToImm32(line, unsignedDecimal: true);
    }

    // [%rN], [%rN+off], [%rN-off]
    private static int CMem(string token, int line, out short off)
    {
        if (token.Length < 2 || token[0] != '[' || token[^1] != ']')
        {
            throw new AssemblerException(line, $"invalid memory operand '{token}' (expected [%rN+off])");
        }

        string inner = token[1..^1];
        int sign = inner.IndexOfAny(['+', '-']);
        int reg = CReg(sign < 0 ? inner : inner[..sign], line);
        off = sign < 0 ? (short)0 : CNumber(inner[sign..], line).ToOff16(line, "offset");
        return reg;
    }

    // +N / -N (relative slot count) or a label.
    private static void CTarget(string token, int line, ref Item item, Fixup fixup)
    {
        if (token[0] is '+' or '-')
        {
            var n = CNumber(token, line);
            item.Insn = fixup == Fixup.Offset
                ? new Instruction(item.Insn.Opcode, item.Insn.Regs, n.ToOff16(line, "jump offset"), item.Insn.Imm)
                : new Instruction(item.Insn.Opcode, item.Insn.Regs, item.Insn.Offset, n.ToImm32(line, unsignedDecimal: false));
            return;
        }

        if (!(char.IsAsciiLetter(token[0]) || token[0] is '_' or '.'))
        {
            throw new AssemblerException(line, $"invalid jump target '{token}' (expected a label, +N or -N)");
        }

        item.Label = token;
        item.Fixup = fixup;
    }
}
