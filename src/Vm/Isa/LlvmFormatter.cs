using System.Globalization;
using System.Text;

namespace VethXdp.Vm.Isa;

/// <summary>Writes instructions exactly as <c>llvm-objdump-19 -d</c> prints them (Debian LLVM 19.1.7):
/// <c>w0 = 0x0</c>, <c>r2 = *(u32 *)(r1 + 0x4)</c>, <c>if r1 &gt; r2 goto +0x15</c>, <c>r1 = 0x0 ll</c>, <c>call 0x1</c>.</summary>
/// <remarks>
/// This mirrors llvm's BPF decoder as llvm-objdump runs it, with the default CPU: the decoder has no ALU32
/// feature, so 32-bit loads, stores and atomics print with <c>r</c> registers (<c>r1 = *(u32 *)(r2 + 0x0)</c>),
/// the 32-bit fetch atomics print as <c>lock ... +=</c> and <c>xchg32</c>/<c>cmpxchg32</c> as <c>&lt;unknown&gt;</c>.
/// The decoder matches only the bits each llvm instruction fixes: unused fields are ignored (an <c>exit</c>
/// with a destination register still prints <c>exit</c>, a store immediate ignores src), registers up to r11
/// are printed, r12-r15 make the instruction <c>&lt;unknown&gt;</c>. Immediates are signed hex
/// (<c>-0x4</c>), memory offsets <c>+ 0x4</c>/<c>- 0x4</c>, jump offsets <c>+0x15</c>/<c>-0x3</c>. Every rule
/// here was checked against llvm-objdump-19 output over all 256 opcodes (see corpus/xdp/odd_encodings.s).
/// </remarks>
public static class LlvmFormatter
{
    /// <summary>What llvm-objdump prints for bytes it cannot decode.</summary>
    public const string UnknownText = "<unknown>";

    /// <summary>What llvm's decoder makes of the bytes at one position.</summary>
    /// <param name="Decoded">False when llvm-objdump prints <c>&lt;unknown&gt;</c>.</param>
    /// <param name="Size">Bytes consumed: 8, 16 for a 64-bit load, or 0 when a 64-bit load lacks its second slot
    /// (llvm-objdump then moves on by a single byte).</param>
    /// <param name="IsBranch">True for the instructions llvm gives a <c>&lt;sym+0xoff&gt;</c> target: conditional
    /// jumps, <c>goto</c>, <c>gotol</c> and <c>may_goto</c> (not calls).</param>
    /// <param name="Displacement">The branch displacement in slots, relative to the next slot.</param>
    internal readonly record struct DecodeResult(bool Decoded, int Size, bool IsBranch, long Displacement)
    {
        /// <summary>An undecodable 8-byte instruction.</summary>
        public static DecodeResult Unknown => new(false, Instruction.Size, false, 0);
    }

    /// <summary>The text llvm-objdump prints for the instruction at <paramref name="pc"/> (after the bytes column).</summary>
    /// <param name="slots">The slots; a 64-bit load reads its second slot at <paramref name="pc"/> + 1.</param>
    /// <param name="pc">The slot index.</param>
    /// <param name="targetLabel">For jumps: maps the target slot index to the <c>&lt;sym+0xoff&gt;</c> text that
    /// llvm appends after a space. Null, or a null/empty result, appends nothing.</param>
    /// <returns>The instruction text, or <see cref="UnknownText"/>.</returns>
    public static string Format(ReadOnlySpan<Instruction> slots, int pc, Func<int, string>? targetLabel = null)
    {
        if ((uint)pc >= (uint)slots.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(pc), pc, $"pc must be within the {slots.Length} slots");
        }

        var sb = new StringBuilder(48);
        bool hasNext = pc + 1 < slots.Length;
        var d = Append(sb, slots[pc], hasNext, hasNext ? slots[pc + 1] : default);
        if (!d.Decoded)
        {
            return UnknownText;
        }

        if (d.IsBranch && targetLabel is not null)
        {
            long target = pc + 1 + d.Displacement;
            if (target is >= int.MinValue and <= int.MaxValue)
            {
                var label = targetLabel((int)target);
                if (!string.IsNullOrEmpty(label))
                {
                    sb.Append(' ').Append(label);
                }
            }
        }

        return sb.ToString();
    }

    /// <summary>Appends the text of one instruction (no label); on failure appends nothing.</summary>
    /// <param name="sb">The output.</param>
    /// <param name="insn">The instruction's (first) slot.</param>
    /// <param name="hasNext">True when a full second slot follows (llvm needs 16 bytes for a 64-bit load).</param>
    /// <param name="next">The following slot, read only by a 64-bit load.</param>
    internal static DecodeResult Append(StringBuilder sb, Instruction insn, bool hasNext, Instruction next)
    {
        int mark = sb.Length;
        var d = insn.Class switch
        {
            OpClass.Alu or OpClass.Alu64 => AppendAlu(sb, insn),
            OpClass.Jmp or OpClass.Jmp32 => AppendJmp(sb, insn),
            OpClass.Ld => AppendLd(sb, insn, hasNext, next),
            OpClass.Ldx => AppendLdx(sb, insn),
            OpClass.St => AppendSt(sb, insn),
            _ => AppendStx(sb, insn),
        };
        if (!d.Decoded)
        {
            sb.Length = mark;
        }

        return d;
    }

    private static DecodeResult Ok => new(true, Instruction.Size, false, 0);

    private static DecodeResult Branch(long displacement) => new(true, Instruction.Size, true, displacement);

    // llvm: DecodeGPRRegisterClass accepts r0-r11 (r11 is llvm's internal stack-adjust register).
    private static bool ValidReg(int reg) => reg <= 11;

    private static DecodeResult AppendAlu(StringBuilder sb, Instruction insn)
    {
        bool is64 = insn.Class == OpClass.Alu64;
        char w = is64 ? 'r' : 'w';
        int dst = insn.DstReg, src = insn.SrcReg;
        short off = insn.Offset;
        bool x = insn.SrcIsReg;
        if (!ValidReg(dst))
        {
            return DecodeResult.Unknown;
        }

        switch (insn.AluOp)
        {
            case AluOp.Neg:
                // NEG_64/NEG_32 fix the source bit to K; offset, imm and src are not looked at.
                if (x)
                {
                    return DecodeResult.Unknown;
                }

                Reg(sb, w, dst).Append(" = -");
                Reg(sb, w, dst);
                return Ok;

            case AluOp.End:
                // d4 le (ALU, K), dc be (ALU, X), d7 bswap (ALU64, K); imm must be exactly the width.
                if ((is64 && x) || (insn.Imm != 16 && insn.Imm != 32 && insn.Imm != 64))
                {
                    return DecodeResult.Unknown;
                }

                Reg(sb, 'r', dst).Append(" = ").Append(is64 ? "bswap" : x ? "be" : "le")
                    .Append(insn.Imm.ToString(CultureInfo.InvariantCulture)).Append(' ');
                Reg(sb, 'r', dst);
                return Ok;

            case AluOp.Mov:
                return AppendMov(sb, insn, is64, w, dst, src, off, x);

            case (AluOp)0xe0:
            case (AluOp)0xf0:
                return DecodeResult.Unknown;
        }

        string op = insn.AluOp switch
        {
            AluOp.Add => "+=",
            AluOp.Sub => "-=",
            AluOp.Mul => "*=",
            AluOp.Div => "/=",
            AluOp.Or => "|=",
            AluOp.And => "&=",
            AluOp.Lsh => "<<=",
            AluOp.Rsh => ">>=",
            AluOp.Mod => "%=",
            AluOp.Xor => "^=",
            _ => "s>>=",
        };
        bool signed = false;
        if (off != 0)
        {
            // SDIV/SMOD are the only arithmetic forms with a non-zero offset (1).
            if (off != 1 || (insn.AluOp != AluOp.Div && insn.AluOp != AluOp.Mod))
            {
                return DecodeResult.Unknown;
            }

            signed = true;
        }

        if (x && !ValidReg(src))
        {
            return DecodeResult.Unknown;
        }

        Reg(sb, w, dst).Append(' ');
        if (signed)
        {
            sb.Append('s');
        }

        sb.Append(op).Append(' ');
        if (x)
        {
            Reg(sb, w, src);
        }
        else
        {
            Imm(sb, insn.Imm);
        }

        return Ok;
    }

    private static DecodeResult AppendMov(StringBuilder sb, Instruction insn, bool is64, char w, int dst, int src, short off, bool x)
    {
        if (!x)
        {
            if (off != 0)
            {
                return DecodeResult.Unknown;
            }

            Reg(sb, w, dst).Append(" = ");
            Imm(sb, insn.Imm);
            return Ok;
        }

        if (!ValidReg(src))
        {
            return DecodeResult.Unknown;
        }

        switch (off)
        {
            case 0:
                Reg(sb, w, dst).Append(" = ");
                Reg(sb, w, src);
                return Ok;
            case 8:
            case 16:
            case 32 when is64:
                Reg(sb, w, dst).Append(" = (s").Append(off.ToString(CultureInfo.InvariantCulture)).Append(')');
                Reg(sb, w, src);
                return Ok;
            case 1 when is64:
                // ADDR_SPACE_CAST: imm holds the destination (high half) and source (low half) address spaces.
                Reg(sb, 'r', dst).Append(" = addr_space_cast(");
                Reg(sb, 'r', src).Append(", ");
                Imm(sb, (insn.Imm >> 16) & 0xffff).Append(", ");
                Imm(sb, insn.Imm & 0xffff).Append(')');
                return Ok;
            default:
                return DecodeResult.Unknown;
        }
    }

    private static DecodeResult AppendJmp(StringBuilder sb, Instruction insn)
    {
        bool j32 = insn.Class == OpClass.Jmp32;
        bool x = insn.SrcIsReg;
        int dst = insn.DstReg, src = insn.SrcReg;
        switch ((int)insn.JmpOp)
        {
            case (int)JmpOp.Ja:
                if (x)
                {
                    return DecodeResult.Unknown;
                }

                // JMP (16-bit offset) and JMPL (gotol, 32-bit imm); every other field is ignored.
                if (j32)
                {
                    sb.Append("gotol ");
                    JumpOffset(sb, insn.Imm);
                    return Branch(insn.Imm);
                }

                sb.Append("goto ");
                JumpOffset(sb, insn.Offset);
                return Branch(insn.Offset);

            case (int)JmpOp.Call:
                if (j32)
                {
                    return DecodeResult.Unknown;
                }

                if (!x)
                {
                    // JAL: helper, local (src 1) and kfunc (src 2) calls all print the raw imm, with no target.
                    sb.Append("call ");
                    Imm(sb, insn.Imm);
                    return Ok;
                }

                if (!ValidReg(dst))
                {
                    return DecodeResult.Unknown;
                }

                sb.Append("callx ");
                Reg(sb, 'r', dst);
                return Ok;

            case (int)JmpOp.Exit:
                if (j32 || x || insn.Imm != 0)
                {
                    return DecodeResult.Unknown;
                }

                sb.Append("exit");
                return Ok;

            case 0xe0:
                // JCOND (may_goto): JMP class, K; only the offset is read.
                if (j32 || x)
                {
                    return DecodeResult.Unknown;
                }

                sb.Append("may_goto ");
                JumpOffset(sb, insn.Offset);
                return Branch(insn.Offset);

            case 0xf0:
                return DecodeResult.Unknown;
        }

        string op = insn.JmpOp switch
        {
            JmpOp.Jeq => "==",
            JmpOp.Jgt => ">",
            JmpOp.Jge => ">=",
            JmpOp.Jset => "&",
            JmpOp.Jne => "!=",
            JmpOp.Jsgt => "s>",
            JmpOp.Jsge => "s>=",
            JmpOp.Jlt => "<",
            JmpOp.Jle => "<=",
            JmpOp.Jslt => "s<",
            _ => "s<=",
        };
        char w = j32 ? 'w' : 'r';
        if (!ValidReg(dst) || (x && !ValidReg(src)))
        {
            return DecodeResult.Unknown;
        }

        sb.Append("if ");
        Reg(sb, w, dst).Append(' ').Append(op).Append(' ');
        if (x)
        {
            Reg(sb, w, src);
        }
        else
        {
            Imm(sb, insn.Imm);
        }

        sb.Append(" goto ");
        JumpOffset(sb, insn.Offset);
        return Branch(insn.Offset);
    }

    private static DecodeResult AppendLd(StringBuilder sb, Instruction insn, bool hasNext, Instruction next)
    {
        switch (insn.Opcode)
        {
            case Op.LdDw:
                if (insn.Offset != 0 || !ValidReg(insn.DstReg))
                {
                    return DecodeResult.Unknown;
                }

                if (!hasNext)
                {
                    // llvm: the decoder matched LD_imm64 but the buffer holds fewer than 16 bytes.
                    return new DecodeResult(false, 0, false, 0);
                }

                if (insn.SrcReg == 0)
                {
                    Reg(sb, 'r', insn.DstReg).Append(" = ");
                    Imm(sb, (long)BpfProgram.Combine(insn, next)).Append(" ll");
                }
                else
                {
                    // LD_pseudo: src is printed as a number and only the low imm half is shown, unsigned.
                    sb.Append("ld_pseudo\t");
                    Reg(sb, 'r', insn.DstReg).Append(", ");
                    Imm(sb, insn.SrcReg).Append(", ");
                    Imm(sb, (uint)insn.Imm);
                }

                return new DecodeResult(true, 2 * Instruction.Size, false, 0);

            case Op.LdAbsW:
            case Op.LdAbsH:
            case Op.LdAbsB:
                sb.Append("r0 = *(").Append(SizeName(insn.MemSize, false)).Append(" *)skb[");
                Imm(sb, insn.Imm).Append(']');
                return Ok;

            case Op.LdIndW:
            case Op.LdIndH:
            case Op.LdIndB:
                if (!ValidReg(insn.SrcReg))
                {
                    return DecodeResult.Unknown;
                }

                sb.Append("r0 = *(").Append(SizeName(insn.MemSize, false)).Append(" *)skb[");
                Reg(sb, 'r', insn.SrcReg).Append(']');
                return Ok;

            default:
                return DecodeResult.Unknown;
        }
    }

    private static DecodeResult AppendLdx(StringBuilder sb, Instruction insn)
    {
        bool sx;
        switch (insn.Opcode)
        {
            case Op.LdxW:
            case Op.LdxH:
            case Op.LdxB:
            case Op.LdxDw:
                sx = false;
                break;
            case Op.LdxSW:
            case Op.LdxSH:
            case Op.LdxSB:
                sx = true;
                break;
            default:
                return DecodeResult.Unknown;
        }

        if (!ValidReg(insn.DstReg) || !ValidReg(insn.SrcReg))
        {
            return DecodeResult.Unknown;
        }

        Reg(sb, 'r', insn.DstReg).Append(" = *(").Append(SizeName(insn.MemSize, sx)).Append(" *)(");
        Mem(sb, insn.SrcReg, insn.Offset).Append(')');
        return Ok;
    }

    private static DecodeResult AppendSt(StringBuilder sb, Instruction insn)
    {
        if (insn.Mode != MemMode.Mem || !ValidReg(insn.DstReg))
        {
            return DecodeResult.Unknown;
        }

        sb.Append("*(").Append(SizeName(insn.MemSize, false)).Append(" *)(");
        Mem(sb, insn.DstReg, insn.Offset).Append(") = ");
        Imm(sb, insn.Imm);
        return Ok;
    }

    private static DecodeResult AppendStx(StringBuilder sb, Instruction insn)
    {
        int dst = insn.DstReg, src = insn.SrcReg;
        bool atomic = insn.Opcode is Op.AtomicW or Op.AtomicDw;
        if ((insn.Mode != MemMode.Mem && !atomic) || !ValidReg(dst) || !ValidReg(src))
        {
            return DecodeResult.Unknown;
        }

        if (!atomic)
        {
            sb.Append("*(").Append(SizeName(insn.MemSize, false)).Append(" *)(");
            Mem(sb, dst, insn.Offset).Append(") = ");
            Reg(sb, 'r', src);
            return Ok;
        }

        // The decoder looks only at imm bits 7-4 (operation) and 3-0 (fetch); the rest is ignored.
        int operation = (insn.Imm >> 4) & 0xf;
        bool fetch = (insn.Imm & 0xf) == 1;
        if (insn.Opcode == Op.AtomicW)
        {
            // Without ALU32 only XADDW exists for 32 bits: any imm with operation 0 is "lock ... +=".
            if (operation != 0)
            {
                return DecodeResult.Unknown;
            }

            sb.Append("lock *(u32 *)(");
            Mem(sb, dst, insn.Offset).Append(") += ");
            Reg(sb, 'r', src);
            return Ok;
        }

        string? name = operation switch
        {
            0x0 => "add",
            0x4 => "or",
            0x5 => "and",
            0xa => "xor",
            _ => null,
        };
        if (name is not null)
        {
            if (fetch)
            {
                Reg(sb, 'r', src).Append(" = atomic_fetch_").Append(name).Append("((u64 *)(");
                Mem(sb, dst, insn.Offset).Append("), ");
                Reg(sb, 'r', src).Append(')');
                return Ok;
            }

            sb.Append("lock *(u64 *)(");
            Mem(sb, dst, insn.Offset).Append(") ").Append(operation switch
            {
                0x0 => "+=",
                0x4 => "|=",
                0x5 => "&=",
                _ => "^=",
            }).Append(' ');
            Reg(sb, 'r', src);
            return Ok;
        }

        if (operation == 0xe && fetch)
        {
            Reg(sb, 'r', src).Append(" = xchg_64(");
            Mem(sb, dst, insn.Offset).Append(", ");
            Reg(sb, 'r', src).Append(')');
            return Ok;
        }

        if (operation == 0xf && fetch)
        {
            sb.Append("r0 = cmpxchg_64(");
            Mem(sb, dst, insn.Offset).Append(", r0, ");
            Reg(sb, 'r', src).Append(')');
            return Ok;
        }

        return DecodeResult.Unknown;
    }

    private static string SizeName(MemSize size, bool signExtend) => (size, signExtend) switch
    {
        (MemSize.W, false) => "u32",
        (MemSize.H, false) => "u16",
        (MemSize.B, false) => "u8",
        (MemSize.DW, _) => "u64",
        (MemSize.W, true) => "s32",
        (MemSize.H, true) => "s16",
        _ => "s8",
    };

    private static StringBuilder Reg(StringBuilder sb, char prefix, int reg) =>
        sb.Append(prefix).Append(reg.ToString(CultureInfo.InvariantCulture));

    // llvm: BPFInstPrinter::printMemOperand, "r1 + 0x4" / "r10 - 0x4".
    private static StringBuilder Mem(StringBuilder sb, int baseReg, short offset)
    {
        Reg(sb, 'r', baseReg);
        return offset >= 0 ? Imm(sb.Append(" + "), offset) : Imm(sb.Append(" - "), -(long)offset);
    }

    // llvm: BPFInstPrinter::printBrTargetOperand, "+0x15" / "-0x3".
    private static void JumpOffset(StringBuilder sb, long displacement)
    {
        if (displacement >= 0)
        {
            sb.Append('+');
        }

        Imm(sb, displacement);
    }

    // llvm: MCInstPrinter::formatHex (C style), which llvm-objdump uses for every immediate.
    private static StringBuilder Imm(StringBuilder sb, long value)
    {
        if (value < 0)
        {
            return sb.Append("-0x").Append(unchecked((ulong)-value).ToString("x", CultureInfo.InvariantCulture));
        }

        return sb.Append("0x").Append(value.ToString("x", CultureInfo.InvariantCulture));
    }
}
