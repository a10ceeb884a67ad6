namespace VethXdp.Vm.Isa;

/// <summary>A structural error found in bytecode: the slot index and the reason.</summary>
/// <param name="Pc">The slot index.</param>
/// <param name="Reason">What is wrong, in one line.</param>
public readonly record struct DecodeError(int Pc, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() => $"insn {Pc}: {Reason}";
}

/// <summary>Structural validation of a slot array, driven by <see cref="OpcodeTable"/>.</summary>
/// <remarks>Checks what does not need data flow: opcodes, reserved fields, register numbers, widths,
/// jump and call targets, and the second slot of 64-bit loads. The verifier checks the rest.</remarks>
public static class InstructionValidator
{
    /// <summary>Returns the first structural error, or null when the program is well formed.</summary>
    public static DecodeError? Validate(ReadOnlySpan<Instruction> slots)
    {
        if (slots.Length == 0)
        {
            return new DecodeError(0, "program is empty");
        }

        for (int pc = 0; pc < slots.Length; pc++)
        {
            var insn = slots[pc];
            var err = ValidateOne(slots, pc, insn);
            if (err is not null)
            {
                return new DecodeError(pc, err);
            }

            if (insn.IsLdImm64)
            {
                pc++;
            }
        }

        return null;
    }

    private static string? ValidateOne(ReadOnlySpan<Instruction> slots, int pc, Instruction insn)
    {
        var info = OpcodeTable.Get(insn.Opcode);
        if (!info.IsValid)
        {
            return $"unknown opcode 0x{insn.Opcode:x2}";
        }

        var r = info.Rules;
        if (insn.DstReg > 10)
        {
            return $"invalid dst register {insn.DstReg}";
        }

        if (insn.SrcReg > 10 && (r & (FieldRules.LdImmSrc | FieldRules.CallSrc)) == 0)
        {
            return $"invalid src register {insn.SrcReg}";
        }

        if ((r & FieldRules.SrcZero) != 0 && insn.SrcReg != 0)
        {
            return $"reserved field src set to {insn.SrcReg}";
        }

        if ((r & FieldRules.DstZero) != 0 && insn.DstReg != 0)
        {
            return $"reserved field dst set to {insn.DstReg}";
        }

        if ((r & FieldRules.OffZero) != 0 && insn.Offset != 0)
        {
            return $"reserved field off set to {insn.Offset}";
        }

        if ((r & FieldRules.ImmZero) != 0 && insn.Imm != 0)
        {
            return $"reserved field imm set to {insn.Imm}";
        }

        if ((r & FieldRules.DstWritable) != 0 && insn.DstReg == 10)
        {
            return "frame pointer is read only";
        }

        if ((r & FieldRules.OffSigned) != 0 && insn.Offset is not (0 or 1))
        {
            return $"invalid offset {insn.Offset} for div/mod (0 or 1)";
        }

        if ((r & FieldRules.OffMovSx) != 0 &&
            insn.Offset is not (0 or 8 or 16) && !(insn.Offset == 32 && insn.Class == OpClass.Alu64))
        {
            return $"invalid offset {insn.Offset} for mov (0, 8, 16{(insn.Class == OpClass.Alu64 ? " or 32" : string.Empty)})";
        }

        if ((r & FieldRules.ImmWidth) != 0 && insn.Imm is not (16 or 32 or 64))
        {
            return $"invalid byte swap width {insn.Imm}";
        }

        if ((r & FieldRules.ImmAtomic) != 0)
        {
            bool ok = insn.Imm is 0x00 or 0x01 or 0x40 or 0x41 or 0x50 or 0x51 or 0xa0 or 0xa1 or 0xe1 or 0xf1;
            if (!ok)
            {
                return $"invalid atomic operation 0x{insn.Imm:x}";
            }
        }

        if ((r & FieldRules.JumpOff) != 0)
        {
            var e = CheckTarget(slots, pc, pc + 1 + insn.Offset, "jump");
            if (e is not null)
            {
                return e;
            }
        }

        if ((r & FieldRules.JumpImm) != 0)
        {
            var e = CheckTarget(slots, pc, (long)pc + 1 + insn.Imm, "jump");
            if (e is not null)
            {
                return e;
            }
        }

        if ((r & FieldRules.CallSrc) != 0)
        {
            switch ((CallKind)insn.SrcReg)
            {
                case CallKind.Helper:
                    if (insn.Offset != 0)
                    {
                        return $"reserved field off set to {insn.Offset}";
                    }

                    break;
                case CallKind.Local:
                    if (insn.Offset != 0)
                    {
                        return $"reserved field off set to {insn.Offset}";
                    }

                    var e = CheckTarget(slots, pc, (long)pc + 1 + insn.Imm, "call");
                    if (e is not null)
                    {
                        return e;
                    }

                    break;
                case CallKind.Kfunc:
                    break;
                default:
                    return $"invalid call src {insn.SrcReg}";
            }
        }

        if ((r & FieldRules.LdImmSrc) != 0)
        {
            if (insn.SrcReg > (int)PseudoSrc.MapIdxValue)
            {
                return $"invalid src {insn.SrcReg} for 64-bit immediate load";
            }

            if (pc + 1 >= slots.Length)
            {
                return "64-bit immediate load is missing its second slot";
            }

            var next = slots[pc + 1];
            if (next.Opcode != 0 || next.Regs != 0 || next.Offset != 0)
            {
                return "invalid second slot of 64-bit immediate load";
            }

            if ((PseudoSrc)insn.SrcReg == PseudoSrc.Func)
            {
                var e = CheckTarget(slots, pc, (long)pc + 1 + insn.Imm, "function address");
                if (e is not null)
                {
                    return e;
                }
            }
        }

        return null;
    }

    private static string? CheckTarget(ReadOnlySpan<Instruction> slots, int pc, long target, string what)
    {
        if (target < 0 || target >= slots.Length)
        {
            return $"{what} out of range from insn {pc} to {target}";
        }

        // A target may not be the second slot of a 64-bit immediate load.
        if (target > 0 && slots[(int)target - 1].IsLdImm64 && !IsSecondSlotOfEarlier(slots, (int)target - 1))
        {
            return $"{what} from insn {pc} into the middle of a 64-bit immediate load at insn {target - 1}";
        }

        return null;
    }

    // slots[i] has the lddw opcode; it is a real lddw unless it is itself the second slot of the
    // lddw before it (a second slot always has opcode 0, so this can only be a real one).
    private static bool IsSecondSlotOfEarlier(ReadOnlySpan<Instruction> slots, int i) =>
        i > 0 && slots[i - 1].IsLdImm64 && slots[i].Opcode == 0;
}
