namespace VethXdp.Vm.Isa;

// The kernel's syntax (kernel/bpf/disasm.c), plus llvm-objdump-19's spellings of the same instructions.
public static partial class Assembler
{
    private static readonly string[] s_assignOps =
        ["s>>=", "s/=", "s%=", "<<=", ">>=", "+=", "-=", "*=", "/=", "|=", "&=", "%=", "^=", "="];

    private static readonly string[] s_compareOps = ["s>=", "s<=", "s>", "s<", "==", "!=", ">=", "<=", ">", "<", "&"];

    private static readonly string[] s_lockOps = ["+=", "|=", "&=", "^="];

    private static Item ParseKernel(string text, int line, bool llvm)
    {
        var c = new Cursor(text, line);
        Item item;
        if (c.TryWord("exit"))
        {
            item = new Item(new Instruction(Op.Exit, 0, 0, 0), line);
        }
        else if (c.TryWord("goto"))
        {
            item = KJump(ref c, Op.Ja, Fixup.Offset);
        }
        else if (c.TryWord("gotol"))
        {
            item = KJump(ref c, Op.Ja32, Fixup.Imm);
        }
        else if (c.TryWord("may_goto"))
        {
            item = KJump(ref c, 0xe5, Fixup.Offset);
        }
        else if (c.TryWord("callx"))
        {
            int reg = c.ExpectReg(out _);
            item = new Item(new Instruction(Op.CallX, (byte)reg, 0, 0), line);
        }
        else if (c.TryWord("call"))
        {
            item = KCall(ref c);
        }
        else if (c.TryWord("lock"))
        {
            item = KLock(ref c);
        }
        else if (c.TryWord("if"))
        {
            item = KCond(ref c);
        }
        else if (c.TryWord("ld_pseudo"))
        {
            item = KLdPseudo(ref c);
        }
        else if (c.TryWord("store_release"))
        {
            item = KStoreRelease(ref c);
        }
        else if (c.Peek() == '*')
        {
            item = KStore(ref c);
        }
        else if (c.TryReg(out int dst, out bool w))
        {
            item = KAssign(ref c, dst, w, llvm);
        }
        else
        {
            int sp = text.IndexOfAny([' ', '\t']);
            throw new AssemblerException(line, $"unknown mnemonic '{(sp < 0 ? text : text[..sp])}'");
        }

        c.ExpectEnd();
        return item;
    }

    private static Instruction Make(int opcode, int dst, int src, int off, int imm) =>
        new((byte)opcode, (byte)((src << 4) | (dst & 0x0f)), (short)off, imm);

    private static int LdSt(OpClass cls, MemMode mode, MemSize size) => (int)cls | (int)mode | (int)size;

    private static void CheckWidth(ref Cursor c, bool w, bool w2)
    {
        if (w != w2)
        {
            throw c.Error("mixes 32-bit (wN) and 64-bit (rN) registers");
        }
    }

    private static Item KJump(ref Cursor c, int opcode, Fixup fixup)
    {
        var item = new Item(Make(opcode, 0, 0, 0, 0), c.Line);
        KTarget(ref c, ref item, fixup);
        return item;
    }

    // pc+N, pc-N, +N, -0x2, or a label; then an optional llvm annotation "<f+0x10>".
    private static void KTarget(ref Cursor c, ref Item item, Fixup fixup)
    {
        bool pc = c.TryWord("pc");
        if (c.TryNumber(out var n))
        {
            item.Insn = fixup == Fixup.Offset
                ? new Instruction(item.Insn.Opcode, item.Insn.Regs, n.ToOff16(c.Line, "jump offset"), item.Insn.Imm)
                : new Instruction(item.Insn.Opcode, item.Insn.Regs, item.Insn.Offset, n.ToImm32(c.Line, unsignedDecimal: false));
        }
        else if (pc)
        {
            throw c.Error("expected +N or -N after 'pc'");
        }
        else
        {
            item.Label = c.TryIdent() ?? throw c.Error(c.AtEnd ? "missing jump target" : $"expected a jump target at '{c.Rest}'");
            item.Fixup = fixup;
        }

        if (c.TryLit("<"))
        {
            while (!c.AtEnd && !c.TryLit(">"))
            {
                c.Pos++;
            }
        }
    }

    private static Item KCall(ref Cursor c)
    {
        int line = c.Line;
        if (c.TryWord("pc"))
        {
            var rel = c.ExpectNumber("call offset");
            return new Item(Make(Op.Call, 0, (int)CallKind.Local, 0, rel.ToImm32(line, unsignedDecimal: false)), line);
        }

        if (c.TryLit("kernel-function"))
        {
            c.Expect("#");
            int id = c.ExpectNumber("kfunc id").ToImm32(line, unsignedDecimal: true);
            short off = 0;
            if (c.TryWord("off"))
            {
                c.Expect("=");
                off = c.ExpectNumber("offset").ToOff16(line, "kfunc offset");
            }

            return new Item(Make(Op.Call, 0, (int)CallKind.Kfunc, off, id), line);
        }

        if (c.TryNumber(out var num))
        {
            return new Item(Make(Op.Call, 0, 0, 0, num.ToImm32(line, unsignedDecimal: false)), line);
        }

        string name = c.TryIdent() ?? throw c.Error(c.AtEnd ? "missing call target" : $"expected a call target at '{c.Rest}'");
        int? known = HelperNames.Id(name);
        if (c.TryLit("#"))
        {
            int id = c.ExpectNumber("helper id").ToImm32(line, unsignedDecimal: false);
            if (name == "unknown")
            {
                return new Item(Make(Op.Call, 0, 0, 0, id), line);
            }

            if (known is int k)
            {
                return k == id
                    ? new Item(Make(Op.Call, 0, 0, 0, id), line)
                    : throw c.Error($"helper '{name}' has id {k}, not {id}");
            }

            // The verifier prints kfuncs by their BTF name: "call bpf_obj_new_impl#12345".
            return new Item(Make(Op.Call, 0, (int)CallKind.Kfunc, 0, id), line);
        }

        if (known is int helper)
        {
            return new Item(Make(Op.Call, 0, 0, 0, helper), line);
        }

        return new Item(Make(Op.Call, 0, (int)CallKind.Local, 0, 0), line) { Label = name, Fixup = Fixup.Imm };
    }

    // "(u32 *)": the access type of a load, store or atomic.
    private static MemSize KSizeCast(ref Cursor c, out bool signed)
    {
        c.Expect("(");
        string type = c.TryIdent() ?? throw c.Error(c.AtEnd ? "missing access type" : $"expected an access type at '{c.Rest}'");
        signed = type[0] == 's';
        var size = type switch
        {
            "u8" or "s8" => MemSize.B,
            "u16" or "s16" => MemSize.H,
            "u32" or "s32" => MemSize.W,
            "u64" => MemSize.DW,
            _ => throw c.Error($"unknown access type '{type}'"),
        };
        c.Expect("*");
        c.Expect(")");
        return size;
    }

    // "(r1 +4)", "(r1 -4)", "(r1 + 0x4)", "(r1)".
    private static int KMem(ref Cursor c, out short off)
    {
        c.Expect("(");
        int reg = KAddress(ref c, out off);
        c.Expect(")");
        return reg;
    }

    // "r1 +4" inside parentheses (also llvm's "xchg_64(r1 + 0x0, r2)").
    private static int KAddress(ref Cursor c, out short off)
    {
        int reg = c.ExpectReg(out bool w);
        if (w)
        {
            throw c.Error("an address register is written rN");
        }

        off = 0;
        bool plus = c.TryLit("+");
        if (plus || c.TryLit("-"))
        {
            var n = c.ExpectNumber("offset");
            var signedN = plus ? n : n with { Negative = !n.Negative, Text = "-" + n.Text };
            off = signedN.ToOff16(c.Line, "offset");
        }

        return reg;
    }

    private static MemSize AtomicSize(ref Cursor c, MemSize size)
    {
        return size is MemSize.W or MemSize.DW ? size : throw c.Error("atomic operations take u32 or u64");
    }

    private static Item KLock(ref Cursor c)
    {
        c.Expect("*");
        var size = KSizeCast(ref c, out _);
        size = AtomicSize(ref c, size);
        int dst = KMem(ref c, out short off);
        string op = c.TryAny(s_lockOps) ?? throw c.Error("expected +=, |=, &= or ^= after the lock operand");
        int src = c.ExpectReg(out _);
        int imm = op switch
        {
            "+=" => (int)AtomicOp.Add,
            "|=" => (int)AtomicOp.Or,
            "&=" => (int)AtomicOp.And,
            _ => (int)AtomicOp.Xor,
        };
        return new Item(Make(LdSt(OpClass.Stx, MemMode.Atomic, size), dst, src, off, imm), c.Line);
    }

    private static Item KCond(ref Cursor c)
    {
        int dst = c.ExpectReg(out bool w);
        string op = c.TryAny(s_compareOps) ?? throw c.Error(c.AtEnd ? "missing comparison" : $"expected a comparison operator at '{c.Rest}'");
        var jop = op switch
        {
            "==" => JmpOp.Jeq,
            "!=" => JmpOp.Jne,
            ">" => JmpOp.Jgt,
            ">=" => JmpOp.Jge,
            "<" => JmpOp.Jlt,
            "<=" => JmpOp.Jle,
            "s>" => JmpOp.Jsgt,
            "s>=" => JmpOp.Jsge,
            "s<" => JmpOp.Jslt,
            "s<=" => JmpOp.Jsle,
            _ => JmpOp.Jset,
        };
        int opcode = (int)jop | (int)(w ? OpClass.Jmp32 : OpClass.Jmp);
        Item item;
        if (c.TryReg(out int src, out bool w2))
        {
            CheckWidth(ref c, w, w2);
            item = new Item(Make(opcode | 0x08, dst, src, 0, 0), c.Line);
        }
        else
        {
            int imm = c.ExpectNumber("register or immediate").ToImm32(c.Line, unsignedDecimal: false);
            item = new Item(Make(opcode, dst, 0, 0, imm), c.Line);
        }

        c.ExpectWord("goto");
        KTarget(ref c, ref item, Fixup.Offset);
        return item;
    }

    private static Item KStore(ref Cursor c)
    {
        c.Expect("*");
        var size = KSizeCast(ref c, out bool signed);
        if (signed)
        {
            throw c.Error("a store takes an unsigned access type");
        }

        int dst = KMem(ref c, out short off);
        c.Expect("=");
        if (c.TryReg(out int src, out _))
        {
            return new Item(Make(LdSt(OpClass.Stx, MemMode.Mem, size), dst, src, off, 0), c.Line);
        }

        int imm = c.ExpectNumber("register or immediate").ToImm32(c.Line, unsignedDecimal: false);
        return new Item(Make(LdSt(OpClass.St, MemMode.Mem, size), dst, 0, off, imm), c.Line);
    }

    private static Item KAssign(ref Cursor c, int dst, bool w, bool llvm)
    {
        string op = c.TryAny(s_assignOps) ?? throw c.Error(c.AtEnd ? "missing operator" : $"expected an assignment operator at '{c.Rest}'");
        var cls = w ? OpClass.Alu : OpClass.Alu64;
        if (op == "=")
        {
            return KMove(ref c, dst, w, llvm);
        }

        (AluOp aop, int off) = op switch
        {
            "+=" => (AluOp.Add, 0),
            "-=" => (AluOp.Sub, 0),
            "*=" => (AluOp.Mul, 0),
            "/=" => (AluOp.Div, 0),
            "s/=" => (AluOp.Div, 1),
            "%=" => (AluOp.Mod, 0),
            "s%=" => (AluOp.Mod, 1),
            "|=" => (AluOp.Or, 0),
            "&=" => (AluOp.And, 0),
            "^=" => (AluOp.Xor, 0),
            "<<=" => (AluOp.Lsh, 0),
            ">>=" => (AluOp.Rsh, 0),
            _ => (AluOp.Arsh, 0),
        };
        int opcode = (int)aop | (int)cls;
        if (c.TryReg(out int src, out bool w2))
        {
            CheckWidth(ref c, w, w2);
            return new Item(Make(opcode | 0x08, dst, src, off, 0), c.Line);
        }

        int imm = c.ExpectNumber("register or immediate").ToImm32(c.Line, unsignedDecimal: false);
        return new Item(Make(opcode, dst, 0, off, imm), c.Line);
    }

    private static Item KMove(ref Cursor c, int dst, bool w, bool llvm)
    {
        int line = c.Line;
        var cls = w ? OpClass.Alu : OpClass.Alu64;
        int mov = (int)AluOp.Mov | (int)cls;
        char next = c.Peek();
        if (next == '*')
        {
            return KLoad(ref c, dst, w);
        }

        if (next == '(')
        {
            // movsx: "r1 = (s8)r2"
            c.Expect("(");
            int bits = c.TryIdent() switch
            {
                "s8" => 8,
                "s16" => 16,
                "s32" => 32,
                _ => throw c.Error("expected (s8), (s16) or (s32)"),
            };
            c.Expect(")");
            int from = c.ExpectReg(out bool wf);
            CheckWidth(ref c, w, wf);
            return new Item(Make(mov | 0x08, dst, from, bits, 0), line);
        }

        if (next == '-')
        {
            int save = c.Pos;
            c.Expect("-");
            if (c.TryReg(out int negReg, out bool wn))
            {
                CheckWidth(ref c, w, wn);
                return negReg == dst
                    ? new Item(Make((int)AluOp.Neg | (int)cls, dst, 0, 0, 0), line)
                    : throw c.Error("negation is written rN = -rN with the same register");
            }

            c.Pos = save;
        }

        if (c.TryReg(out int src, out bool w2))
        {
            CheckWidth(ref c, w, w2);
            return new Item(Make(mov | 0x08, dst, src, 0, 0), line);
        }

        string? ident = c.TryIdent();
        if (ident is not null)
        {
            return ident switch
            {
                "be16" or "be32" or "be64" or "le16" or "le32" or "le64" or "bswap16" or "bswap32" or "bswap64" =>
                    KEndian(ref c, ident, dst),
                "load_acquire" => KLoadAcquire(ref c, dst),
                "map" => KMap(ref c, dst, w),
                _ when ident.StartsWith("atomic", StringComparison.Ordinal) || ident.Contains("xchg", StringComparison.Ordinal) =>
                    KAtomicAssign(ref c, ident, dst),
                _ => throw c.Error($"unknown operand '{ident}'"),
            };
        }

        var n = c.ExpectNumber("value");
        bool ll = c.TryWord("ll");
        if (ll || (!w && !llvm && n.Hex && !n.Negative))
        {
            if (w)
            {
                throw c.Error("a 64-bit immediate load writes rN, not wN");
            }

            ulong value = n.ToImm64(line);
            return new Item(Make(Op.LdDw, dst, 0, 0, unchecked((int)(uint)value)), line)
            {
                Wide = true,
                Hi = unchecked((int)(uint)(value >> 32)),
            };
        }

        return new Item(Make(mov, dst, 0, 0, n.ToImm32(line, unsignedDecimal: false)), line);
    }

    private static Item KEndian(ref Cursor c, string ident, int dst)
    {
        int opcode = ident[0] switch
        {
            'b' when ident[1] == 'e' => Op.Be,
            'l' => Op.Le,
            _ => Op.Bswap,
        };
        int width = int.Parse(ident.AsSpan(ident.Length - 2), System.Globalization.CultureInfo.InvariantCulture);
        int reg = c.ExpectReg(out _);
        return reg == dst
            ? new Item(Make(opcode, dst, 0, 0, width), c.Line)
            : throw c.Error($"{ident} works in place: write r{dst} = {ident} r{dst}");
    }

    private static Item KLoad(ref Cursor c, int dst, bool w)
    {
        c.Expect("*");
        var size = KSizeCast(ref c, out bool signed);
        if (c.TryWord("skb"))
        {
            // Legacy packet loads: r0 = *(u8 *)skb[12], r0 = *(u16 *)skb[r3 + 0] (llvm: skb[r3]).
            if (dst != 0 || signed)
            {
                throw c.Error("a packet load is written r0 = *(uN *)skb[...]");
            }

            c.Expect("[");
            Item item;
            if (c.TryReg(out int src, out _))
            {
                int imm = 0;
                bool plus = c.TryLit("+");
                if (plus || c.TryLit("-"))
                {
                    var n = c.ExpectNumber("offset");
                    imm = (plus ? n : n with { Negative = !n.Negative, Text = "-" + n.Text }).ToImm32(c.Line, unsignedDecimal: false);
                }

                item = new Item(Make(LdSt(OpClass.Ld, MemMode.Ind, size), 0, src, 0, imm), c.Line);
            }
            else
            {
                int imm = c.ExpectNumber("packet offset").ToImm32(c.Line, unsignedDecimal: false);
                item = new Item(Make(LdSt(OpClass.Ld, MemMode.Abs, size), 0, 0, 0, imm), c.Line);
            }

            c.Expect("]");
            return item;
        }

        if (signed && size == MemSize.DW)
        {
            throw c.Error("there is no s64 load");
        }

        _ = w; // llvm writes 32-bit loads as "w1 = *(u32 *)(r2 + 0x0)": same encoding.
        int addr = KMem(ref c, out short off);
        return new Item(Make(LdSt(OpClass.Ldx, signed ? MemMode.MemSx : MemMode.Mem, size), dst, addr, off, 0), c.Line);
    }

    private static Item KLoadAcquire(ref Cursor c, int dst)
    {
        c.Expect("(");
        var size = KSizeCast(ref c, out _);
        int addr = KMem(ref c, out short off);
        c.Expect(")");
        return new Item(Make(LdSt(OpClass.Stx, MemMode.Atomic, size), dst, addr, off, 0x100), c.Line);
    }

    private static Item KStoreRelease(ref Cursor c)
    {
        c.Expect("(");
        var size = KSizeCast(ref c, out _);
        int dst = KMem(ref c, out short off);
        c.Expect(",");
        int src = c.ExpectReg(out _);
        c.Expect(")");
        return new Item(Make(LdSt(OpClass.Stx, MemMode.Atomic, size), dst, src, off, 0x110), c.Line);
    }

    // Kernel: rS = atomic64_fetch_add((u64 *)(rD +0), rS), r0 = atomic64_cmpxchg((u64 *)(rD +0), r0, rS).
    // llvm:   rS = atomic_fetch_add((u64 *)(rD + 0x0), rS), rS = xchg_64(rD + 0x0, rS), w0 = cmpxchg32_32(rD + 0x0, w0, wS).
    private static Item KAtomicAssign(ref Cursor c, string ident, int result)
    {
        MemSize size;
        int addr, imm;
        short off;
        if (ident is "xchg_64" or "xchg32_32" or "cmpxchg_64" or "cmpxchg32_32")
        {
            size = ident.EndsWith("_64", StringComparison.Ordinal) ? MemSize.DW : MemSize.W;
            imm = ident[0] == 'c' ? (int)AtomicOp.CmpXchg : (int)AtomicOp.Xchg;
            c.Expect("(");
            addr = KAddress(ref c, out off);
        }
        else
        {
            bool is64 = ident.StartsWith("atomic64_", StringComparison.Ordinal);
            string op = is64 ? ident["atomic64_".Length..]
                : ident.StartsWith("atomic_", StringComparison.Ordinal) ? ident["atomic_".Length..]
                : throw c.Error($"unknown operand '{ident}'");
            imm = op switch
            {
                "fetch_add" => (int)(AtomicOp.Add | AtomicOp.Fetch),
                "fetch_or" => (int)(AtomicOp.Or | AtomicOp.Fetch),
                "fetch_and" => (int)(AtomicOp.And | AtomicOp.Fetch),
                "fetch_xor" => (int)(AtomicOp.Xor | AtomicOp.Fetch),
                "xchg" => (int)AtomicOp.Xchg,
                "cmpxchg" => (int)AtomicOp.CmpXchg,
                _ => throw c.Error($"unknown atomic operation '{ident}'"),
            };
            c.Expect("(");
            size = KSizeCast(ref c, out _);
            if (is64 && size != MemSize.DW)
            {
                throw c.Error($"{ident} takes a u64 operand");
            }

            addr = KMem(ref c, out off);
        }

        size = AtomicSize(ref c, size);
        if (imm == (int)AtomicOp.CmpXchg)
        {
            c.Expect(",");
            if (c.ExpectReg(out _) != 0 || result != 0)
            {
                throw c.Error("cmpxchg compares with r0 and returns in r0");
            }
        }

        c.Expect(",");
        int src = c.ExpectReg(out _);
        c.Expect(")");
        if (imm != (int)AtomicOp.CmpXchg && src != result)
        {
            throw c.Error($"the old value returns in the source register: write r{src} = ...(..., r{src})");
        }

        return new Item(Make(LdSt(OpClass.Stx, MemMode.Atomic, size), addr, src, off, imm), c.Line);
    }

    // map[fd:5], map[fd:5][0]+16, map[idx:0], map[idx:0][0]+8 (BPF_PSEUDO_MAP_* 64-bit loads).
    private static Item KMap(ref Cursor c, int dst, bool w)
    {
        if (w)
        {
            throw c.Error("a 64-bit immediate load writes rN, not wN");
        }

        c.Expect("[");
        string kind = c.TryIdent() ?? string.Empty;
        if (kind is not ("fd" or "idx"))
        {
            throw c.Error("expected map[fd:N] or map[idx:N]");
        }

        c.Expect(":");
        int lo = c.ExpectNumber("map fd or index").ToImm32(c.Line, unsignedDecimal: true);
        c.Expect("]");
        int hi = 0;
        bool value = c.TryLit("[");
        if (value)
        {
            if (c.ExpectNumber("0").Magnitude != 0)
            {
                throw c.Error("a map value reference is written map[...][0]+OFF");
            }

            c.Expect("]");
            c.Expect("+");
            hi = c.ExpectNumber("value offset").ToImm32(c.Line, unsignedDecimal: true);
        }

        var src = kind == "fd"
            ? (value ? PseudoSrc.MapValue : PseudoSrc.MapFd)
            : (value ? PseudoSrc.MapIdxValue : PseudoSrc.MapIdx);
        return new Item(Make(Op.LdDw, dst, (int)src, 0, lo), c.Line) { Wide = true, Hi = hi };
    }

    // llvm: "ld_pseudo r1, 0x1, 0x5"; ours adds the second slot's imm: "ld_pseudo r1, 3, 123, 0".
    private static Item KLdPseudo(ref Cursor c)
    {
        int dst = c.ExpectReg(out bool w);
        if (w)
        {
            throw c.Error("a 64-bit immediate load writes rN, not wN");
        }

        c.Expect(",");
        var srcNum = c.ExpectNumber("pseudo source");
        if (srcNum.Negative || srcNum.Magnitude > 15)
        {
            throw c.Error($"pseudo source {srcNum.Text} does not fit in the 4-bit src field");
        }

        c.Expect(",");
        int lo = c.ExpectNumber("immediate").ToImm32(c.Line, unsignedDecimal: true);
        int hi = c.TryLit(",") ? c.ExpectNumber("immediate").ToImm32(c.Line, unsignedDecimal: true) : 0;
        return new Item(Make(Op.LdDw, dst, (int)srcNum.Magnitude, 0, lo), c.Line) { Wide = true, Hi = hi };
    }
}
