namespace VethXdp.Vm.Isa;

/// <summary>Writes instructions in the kernel's syntax, the text of verifier logs (Linux 6.18 kernel/bpf/disasm.c,
/// <c>print_bpf_insn</c>): <c>r2 = *(u32 *)(r1 +4)</c>, <c>if r1 &gt; r2 goto pc+21</c>, <c>call bpf_map_lookup_elem#1</c>.</summary>
/// <remarks>
/// The text is what the kernel prints after the <c>"N: (op) "</c> prefix, as the verifier does with
/// <c>allow_ptr_leaks</c> set (root) and without the <c>cb_imm</c> callback. Deliberate differences:
/// <list type="bullet">
/// <item><c>callx</c> (0x8d): the kernel has no case for it and prints <c>call bpf_unspec#0</c>, dropping the
/// register; we print llvm's <c>callx r2</c>.</item>
/// <item>kfunc calls: the verifier names the BTF function; without BTF we print disasm.c's own fallback,
/// <c>call kernel-function#ID</c>.</item>
/// <item>With <c>lossless</c> set, two forms the kernel prints ambiguously get a symbolic text that
/// <see cref="Assembler"/> reads back: 64-bit loads with a pseudo source (<c>r1 = map[fd:5]</c>,
/// <c>r1 = map[fd:5][0]+16</c>, <c>r1 = map[idx:0]</c>, <c>r1 = map[idx:0][0]+8</c>, otherwise
/// <c>ld_pseudo r1, 3, 123, 0</c>), and kfunc calls with a non-zero offset (<c>call kernel-function#7 off=2</c>).
/// Without it, a pseudo load prints its combined 64-bit immediate as hex, like the kernel
/// (which shows the map address there).</item>
/// </list>
/// Invalid encodings print what disasm.c prints (<c>BUG_ld_38</c>, or <c>(null)</c> for a missing table entry).
/// </remarks>
public static class KernelFormatter
{
    // kernel: bpf_alu_string[], indexed by BPF_OP >> 4; "(null)" is what the kernel's vsnprintf prints for a hole.
    private static readonly string[] s_alu =
    [
        "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian", "(null)", "(null)",
    ];

    // kernel: bpf_jmp_string[], indexed by BPF_OP >> 4.
    private static readonly string[] s_jmp =
    [
        "jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=", "(null)", "(null)",
    ];

    /// <summary>The kernel's text for the instruction at <paramref name="pc"/>, without the <c>"N: (op) "</c> prefix.</summary>
    /// <param name="slots">The program's slots (a 64-bit load reads its second slot at <paramref name="pc"/> + 1).</param>
    /// <param name="pc">The slot index.</param>
    public static string Format(ReadOnlySpan<Instruction> slots, int pc) => Format(slots, pc, lossless: false);

    /// <summary>The kernel's text for the instruction at <paramref name="pc"/>; with <paramref name="lossless"/> set,
    /// pseudo 64-bit loads and kfunc offsets print in a form the <see cref="Assembler"/> reads back exactly.</summary>
    /// <param name="slots">The program's slots.</param>
    /// <param name="pc">The slot index.</param>
    /// <param name="lossless">Print symbolic forms where the kernel's text loses fields.</param>
    public static string Format(ReadOnlySpan<Instruction> slots, int pc, bool lossless)
    {
        // kernel: print_bpf_insn()
        var insn = slots[pc];
        return insn.Class switch
        {
            OpClass.Alu or OpClass.Alu64 => FormatAlu(insn),
            OpClass.Stx => FormatStx(insn),
            OpClass.St => FormatSt(insn),
            OpClass.Ldx => FormatLdx(insn),
            OpClass.Ld => FormatLd(slots, pc, lossless),
            _ => FormatJmp(insn, lossless),
        };
    }

    /// <summary>The verifier log line <c>"{pc}: ({opcode:x2}) {text}"</c>.</summary>
    /// <param name="slots">The program's slots.</param>
    /// <param name="pc">The slot index.</param>
    public static string FormatLine(ReadOnlySpan<Instruction> slots, int pc) =>
        FormattableString.Invariant($"{pc}: ({slots[pc].Opcode:x2}) {Format(slots, pc)}");

    /// <summary>The kernel's name of a load/store size (<c>bpf_ldst_string</c>).</summary>
    private static string Size(MemSize size) => size switch
    {
        MemSize.W => "u32",
        MemSize.H => "u16",
        MemSize.B => "u8",
        _ => "u64",
    };

    /// <summary>A signed offset as the kernel's <c>%+d</c> writes it.</summary>
    private static string Signed(int value) => value.ToString("+0;-0", System.Globalization.CultureInfo.InvariantCulture);

    private static string FormatAlu(Instruction insn)
    {
        char r = insn.Class == OpClass.Alu ? 'w' : 'r';
        int dst = insn.DstReg, src = insn.SrcReg;
        var op = insn.AluOp;
        if (op == AluOp.End)
        {
            // kernel: print_bpf_bswap_insn() for ALU64, print_bpf_end_insn() for ALU (always 'r').
            string kind = insn.Class == OpClass.Alu64 ? "bswap" : insn.SrcIsReg ? "be" : "le";
            return FormattableString.Invariant($"r{dst} = {kind}{insn.Imm} r{dst}");
        }

        if (op == AluOp.Neg)
        {
            return FormattableString.Invariant($"{r}{dst} = -{r}{dst}");
        }

        if (insn.Opcode == Op.Mov64Reg && insn.Offset == 1)
        {
            // BPF_ADDR_SPACE_CAST (arena pointers).
            return FormattableString.Invariant($"r{dst} = addr_space_cast(r{src}, {(uint)insn.Imm >> 16}, {(ushort)insn.Imm})");
        }

        if (insn.Opcode == Op.Mov64Reg && insn.Offset == -1)
        {
            // BPF_ADDR_PERCPU: internal-only per-CPU address resolution.
            return FormattableString.Invariant($"r{dst} = &(void __percpu *)(r{src})");
        }

        bool signedDivMod = op is AluOp.Div or AluOp.Mod && insn.Offset == 1;
        string opText = signedDivMod ? (op == AluOp.Div ? "s/=" : "s%=") : s_alu[(int)op >> 4];
        if (insn.SrcIsReg)
        {
            string cast = op == AluOp.Mov ? insn.Offset switch
            {
                8 => "(s8)",
                16 => "(s16)",
                32 => "(s32)",
                _ => string.Empty,
            } : string.Empty;
            return FormattableString.Invariant($"{r}{dst} {opText} {cast}{r}{src}");
        }

        return FormattableString.Invariant($"{r}{dst} {opText} {insn.Imm}");
    }

    private static string FormatStx(Instruction insn)
    {
        int dst = insn.DstReg, src = insn.SrcReg;
        string size = Size(insn.MemSize);
        string off = Signed(insn.Offset);
        if (insn.Mode == MemMode.Mem)
        {
            return FormattableString.Invariant($"*({size} *)(r{dst} {off}) = r{src}");
        }

        if (insn.Mode != MemMode.Atomic)
        {
            return FormattableString.Invariant($"BUG_{insn.Opcode:x2}");
        }

        string width = insn.MemSize == MemSize.DW ? "64" : string.Empty;
        switch (insn.Imm)
        {
            case 0x00 or 0x40 or 0x50 or 0xa0:
                return FormattableString.Invariant($"lock *({size} *)(r{dst} {off}) {s_alu[insn.Imm >> 4]} r{src}");
            case 0x01 or 0x41 or 0x51 or 0xa1:
                string name = (insn.Imm & 0xf0) switch
                {
                    0x00 => "add",
                    0x40 => "or",
                    0x50 => "and",
                    _ => "xor",
                };
                return FormattableString.Invariant($"r{src} = atomic{width}_fetch_{name}(({size} *)(r{dst} {off}), r{src})");
            case 0xf1:
                return FormattableString.Invariant($"r0 = atomic{width}_cmpxchg(({size} *)(r{dst} {off}), r0, r{src})");
            case 0xe1:
                return FormattableString.Invariant($"r{src} = atomic{width}_xchg(({size} *)(r{dst} {off}), r{src})");
            case 0x100:
                // BPF_LOAD_ACQ: dst is loaded from src + off.
                return FormattableString.Invariant($"r{dst} = load_acquire(({size} *)(r{src} {off}))");
            case 0x110:
                // BPF_STORE_REL
                return FormattableString.Invariant($"store_release(({size} *)(r{dst} {off}), r{src})");
            default:
                return FormattableString.Invariant($"BUG_{insn.Opcode:x2}");
        }
    }

    private static string FormatSt(Instruction insn)
    {
        if (insn.Mode == MemMode.Mem)
        {
            return FormattableString.Invariant($"*({Size(insn.MemSize)} *)(r{insn.DstReg} {Signed(insn.Offset)}) = {insn.Imm}");
        }

        // 0xc0 is BPF_NOSPEC, which only the verifier inserts.
        return insn.Mode == (MemMode)0xc0 ? "nospec" : FormattableString.Invariant($"BUG_st_{insn.Opcode:x2}");
    }

    private static string FormatLdx(Instruction insn)
    {
        string? size = insn.Mode switch
        {
            MemMode.Mem => Size(insn.MemSize),
            MemMode.MemSx => insn.MemSize switch
            {
                MemSize.W => "s32",
                MemSize.H => "s16",
                MemSize.B => "s8",
                _ => null,
            },
            _ => null,
        };
        return size is null
            ? FormattableString.Invariant($"BUG_ldx_{insn.Opcode:x2}")
            : FormattableString.Invariant($"r{insn.DstReg} = *({size} *)(r{insn.SrcReg} {Signed(insn.Offset)})");
    }

    private static string FormatLd(ReadOnlySpan<Instruction> slots, int pc, bool lossless)
    {
        var insn = slots[pc];
        string size = Size(insn.MemSize);
        switch (insn.Mode)
        {
            case MemMode.Abs:
                return FormattableString.Invariant($"r0 = *({size} *)skb[{insn.Imm}]");
            case MemMode.Ind:
                return FormattableString.Invariant($"r0 = *({size} *)skb[r{insn.SrcReg} + {insn.Imm}]");
            case MemMode.Imm when insn.MemSize == MemSize.DW:
                // A missing second slot reads as zero: the validator reports it, the printer must not throw.
                int hi = pc + 1 < slots.Length ? slots[pc + 1].Imm : 0;
                return FormatLdImm64(insn, hi, lossless);
            default:
                return FormattableString.Invariant($"BUG_ld_{insn.Opcode:x2}");
        }
    }

    private static string FormatLdImm64(Instruction insn, int hi, bool lossless)
    {
        int dst = insn.DstReg, lo = insn.Imm;
        if (lossless)
        {
            switch ((PseudoSrc)insn.SrcReg)
            {
                case PseudoSrc.Imm64:
                    break;
                case PseudoSrc.MapFd when hi == 0:
                    return FormattableString.Invariant($"r{dst} = map[fd:{lo}]");
                case PseudoSrc.MapValue:
                    return FormattableString.Invariant($"r{dst} = map[fd:{lo}][0]+{(uint)hi}");
                case PseudoSrc.MapIdx when hi == 0:
                    return FormattableString.Invariant($"r{dst} = map[idx:{lo}]");
                case PseudoSrc.MapIdxValue:
                    return FormattableString.Invariant($"r{dst} = map[idx:{lo}][0]+{(uint)hi}");
                default:
                    return FormattableString.Invariant($"ld_pseudo r{dst}, {insn.SrcReg}, {lo}, {hi}");
            }
        }

        ulong imm = (uint)lo | ((ulong)(uint)hi << 32);
        return FormattableString.Invariant($"r{dst} = 0x{imm:x}");
    }

    private static string FormatJmp(Instruction insn, bool lossless)
    {
        char r = insn.Class == OpClass.Jmp32 ? 'w' : 'r';
        int dst = insn.DstReg, src = insn.SrcReg;
        var op = insn.JmpOp;
        if (op == JmpOp.Call)
        {
            return FormatCall(insn, lossless);
        }

        switch (insn.Opcode)
        {
            case Op.Ja:
                return "goto pc" + Signed(insn.Offset);
            case 0xe5 when src == 0:
                // BPF_JMP | BPF_JCOND with BPF_MAY_GOTO.
                return "may_goto pc" + Signed(insn.Offset);
            case Op.Ja32:
                return "gotol pc" + Signed(insn.Imm);
            case Op.Exit:
                return "exit";
        }

        string cmp = s_jmp[(int)op >> 4];
        return insn.SrcIsReg
            ? FormattableString.Invariant($"if {r}{dst} {cmp} {r}{src} goto pc{Signed(insn.Offset)}")
            : FormattableString.Invariant($"if {r}{dst} {cmp} 0x{(uint)insn.Imm:x} goto pc{Signed(insn.Offset)}");
    }

    private static string FormatCall(Instruction insn, bool lossless)
    {
        if (insn.Opcode == Op.CallX)
        {
            return FormattableString.Invariant($"callx r{insn.DstReg}");
        }

        switch ((CallKind)insn.SrcReg)
        {
            case CallKind.Local:
                return "call pc" + Signed(insn.Imm);
            case CallKind.Helper:
                return FormattableString.Invariant($"call {HelperNames.Name(insn.Imm) ?? "unknown"}#{insn.Imm}");
            case CallKind.Kfunc:
                return lossless && insn.Offset != 0
                    ? FormattableString.Invariant($"call kernel-function#{insn.Imm} off={insn.Offset}")
                    : FormattableString.Invariant($"call kernel-function#{insn.Imm}");
            default:
                return FormattableString.Invariant($"call unknown#{insn.Imm}");
        }
    }
}
