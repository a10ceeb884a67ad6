using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Interpreter;

/// <summary>Builds the interpreter's <see cref="DecodedInstruction"/> stream from a program's slots (once per
/// <see cref="ExecutableProgram"/>).</summary>
/// <remarks>Decoding never fails: a slot the validator would refuse still decodes to something that, when run, does
/// what running the raw slot did (an unknown opcode faults as unknown, a jump out of the program falls off its end),
/// or to <see cref="Malformed"/> (a register above r10, a 64-bit load without its second slot), which faults.</remarks>
internal static class InstructionDecoder
{
    /// <summary>Internal opcode: mov with sign extension (ALU64 mov from a register with off 8, 16 or 32).</summary>
    public const byte MovSx64 = 0xe7;

    /// <summary>Internal opcode: mov32 with sign extension (off 8 or 16).</summary>
    public const byte MovSx32 = 0xe4;

    /// <summary>Internal opcode of the sentinel after the last slot: execution fell off the end.</summary>
    public const byte FellOff = 0xf7;

    /// <summary>Internal opcode of a slot that cannot run (a register above r10, a 64-bit load at the last slot).</summary>
    public const byte Malformed = 0xff;

    /// <summary>Internal opcode of the fused stream (<see cref="Fuse"/>): <c>dst = src; dst += imm</c>, two slots.</summary>
    public const byte MovAddImm = 0xef;

    /// <summary>Internal opcode of the fused stream: <c>dst = src; dst += r(imm)</c>, two slots (imm holds the second
    /// slot's src register, which is not dst).</summary>
    public const byte MovAddReg = 0xec;

    /// <summary>Internal opcode of the fused stream: <c>dst += imm; if dst2 != imm2 goto</c> (the jump is the next
    /// entry, read from there).</summary>
    public const byte AddJneImm = 0xf4;

    /// <summary>Internal opcode of the fused stream: <c>w(dst) = imm; if dst2 &gt; src2 goto</c> (the jump is the next
    /// entry).</summary>
    public const byte Mov32JgtReg = 0xfc;

    /// <summary>Internal opcode of the fused stream: <c>dst = *(u16 *)(src + off); dst = be16 dst</c>.</summary>
    public const byte LdxHBe16 = 0xe6;

    /// <summary>The stream the untraced loop runs: <paramref name="plain"/> (from <see cref="Decode"/>) with each pair
    /// of slots that one entry can do at once given an internal opcode at the first slot. The second slot keeps its
    /// own entry (a jump may land on it), and <see cref="DecodedInstruction.Run"/> is unchanged: a pair lies inside
    /// one straight run (its first instruction is no jump; a second that is a jump ends it), so counting per straight
    /// run counts both. No pair but the load of <see cref="LdxHBe16"/>, its first instruction, which faults at the pair's own index.
    /// Loops that count or trace one instruction at a time run the plain stream.</summary>
    public static DecodedInstruction[] Fuse(DecodedInstruction[] plain)
    {
        ArgumentNullException.ThrowIfNull(plain);
        var code = GC.AllocateArray<DecodedInstruction>(plain.Length, pinned: true);
        plain.AsSpan().CopyTo(code);

        // The last entry is the sentinel; a pair needs two real slots. Only a first slot changes (its opcode, and for
        // the mov pairs its unused imm); a pair whose second slot is a jump reads the jump from its own entry, which
        // is never a first slot (no pair starts with a jump).
        for (int pc = 0; pc + 2 < code.Length; pc++)
        {
            ref var d = ref code[pc];
            ref readonly var next = ref plain[pc + 1];
            switch (d.Opcode)
            {
                // mov64 dst, src (off 0: a sign-extending mov decodes as MovSx64) then add64 dst, imm / add64 dst, src2.
                case Op.Mov64Reg when next.Dst == d.Dst && next.Opcode == Op.Add64Imm:
                    d.Opcode = MovAddImm;
                    d.Imm = next.Imm;
                    break;
                case Op.Mov64Reg when next.Dst == d.Dst && next.Opcode == Op.Add64Reg && next.Src != d.Dst:
                    d.Opcode = MovAddReg;
                    d.Imm = next.Src;
                    break;

                // A loop counter: add64 r, imm; if r2 != imm2 goto.
                case Op.Add64Imm when next.Opcode == Op.JneImm:
                    d.Opcode = AddJneImm;
                    break;

                // A verdict set before a bounds check: w0 = imm; if r2 > r3 goto.
                case Op.Mov32Imm when next.Opcode == Op.JgtReg:
                    d.Opcode = Mov32JgtReg;
                    break;

                // bpf_ntohs(*(u16 *)p): ldxh dst, [src + off]; be16 dst.
                case Op.LdxH when next.Opcode == Op.Be && next.Imm == 16 && next.Dst == d.Dst:
                    d.Opcode = LdxHBe16;
                    break;
            }
        }

        return code;
    }

    /// <summary>The decoded stream: one entry per slot and the sentinel at index <c>slots.Length</c>, in pinned
    /// memory (the loop walks it with a pointer).</summary>
    public static DecodedInstruction[] Decode(ReadOnlySpan<Instruction> slots)
    {
        int length = slots.Length;
        var code = GC.AllocateArray<DecodedInstruction>(length + 1, pinned: true);
        for (int pc = 0; pc < length; pc++)
        {
            code[pc] = DecodeOne(slots, pc);
        }

        code[length] = new DecodedInstruction { Opcode = FellOff, Run = 0 };

        // Straight runs, from the end backwards: a run ends at its first jump/call/exit/legacy load, or at the end.
        for (int pc = length - 1; pc >= 0; pc--)
        {
            ref var d = ref code[pc];
            if (EndsRun(slots[pc]))
            {
                d.Run = 1;
            }
            else
            {
                int next = pc + (d.Opcode == Op.LdDw ? 2 : 1);
                d.Run = 1 + (next <= length ? code[next].Run : 0);
            }
        }

        return code;
    }

    /// <summary>True for the instructions after which control may go elsewhere than the next slot, or stop.</summary>
    public static bool EndsRun(Instruction insn) => insn.Class switch
    {
        OpClass.Jmp or OpClass.Jmp32 => true,
        OpClass.Ld => insn.Opcode != Op.LdDw,
        _ => false,
    };

    // The distance from `pc` to its target, or to the sentinel when the target lies outside the program (the raw
    // jump would fall off the end).
    private static int Target(int pc, long target, int length) => (target >= 0 && target <= length ? (int)target : length) - pc;

    private static DecodedInstruction DecodeOne(ReadOnlySpan<Instruction> slots, int pc)
    {
        var insn = slots[pc];
        int length = slots.Length;
        var d = new DecodedInstruction
        {
            Opcode = insn.Opcode,
            Dst = (byte)insn.DstReg,
            Src = (byte)insn.SrcReg,
            Imm = insn.Imm,
            Offset = insn.Offset,
        };

        byte op = insn.Opcode;
        if (op is MovSx64 or MovSx32 or FellOff or Malformed or MovAddImm or MovAddReg or AddJneImm or Mov32JgtReg or LdxHBe16)
        {
            // A raw opcode equal to an internal one is unknown: it faults as the raw slot would (the loop reports the
            // raw opcode of the slot).
            d.Opcode = 0;
            return d;
        }

        bool srcIsField = op is Op.Call or Op.LdDw;
        if (insn.DstReg > 10 || (insn.SrcReg > 10 && !srcIsField) || (op == Op.LdDw && pc + 1 >= length))
        {
            d.Opcode = Malformed;
            d.Dst = 0;
            d.Src = 0;
            return d;
        }

        var cls = insn.Class;
        if (op == Op.Mov64Reg && insn.Offset != 0)
        {
            d.Opcode = MovSx64;
        }
        else if (op == Op.Mov32Reg && insn.Offset != 0)
        {
            d.Opcode = MovSx32;
        }
        else if (op == Op.Ja32)
        {
            d.Offset = Target(pc, (long)pc + 1 + insn.Imm, length);
        }
        else if (op == Op.Call)
        {
            if (insn.SrcReg == (int)CallKind.Local)
            {
                d.Offset = Target(pc, (long)pc + 1 + insn.Imm, length);
            }
        }
        else if ((cls is OpClass.Jmp or OpClass.Jmp32) && op is not (Op.CallX or Op.Exit))
        {
            d.Offset = Target(pc, (long)pc + 1 + insn.Offset, length);
        }

        return d;
    }
}
