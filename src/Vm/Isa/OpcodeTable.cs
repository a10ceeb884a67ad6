namespace VethXdp.Vm.Isa;

/// <summary>How control leaves an instruction.</summary>
public enum FlowKind : byte
{
    /// <summary>Not a valid opcode.</summary>
    Invalid,
    /// <summary>Falls through to the next instruction (a 64-bit load skips its second slot).</summary>
    Next,
    /// <summary>Conditional jump: the next instruction or the target.</summary>
    CondJump,
    /// <summary>Unconditional jump.</summary>
    Jump,
    /// <summary>Helper, local or kfunc call; continues after it.</summary>
    Call,
    /// <summary>Returns from the current function.</summary>
    Exit,
}

/// <summary>Which fields an opcode constrains, checked by <see cref="InstructionValidator"/>.</summary>
[Flags]
public enum FieldRules : ushort
{
    /// <summary>No constraint.</summary>
    None = 0,
    /// <summary>src must be 0.</summary>
    SrcZero = 1 << 0,
    /// <summary>dst must be 0.</summary>
    DstZero = 1 << 1,
    /// <summary>offset must be 0.</summary>
    OffZero = 1 << 2,
    /// <summary>imm must be 0.</summary>
    ImmZero = 1 << 3,
    /// <summary>The instruction writes dst, so dst must not be r10.</summary>
    DstWritable = 1 << 4,
    /// <summary>offset is 0 (unsigned) or 1 (signed div/mod, v4).</summary>
    OffSigned = 1 << 5,
    /// <summary>offset is 0, 8, 16 (or 32 in ALU64): mov or movsx.</summary>
    OffMovSx = 1 << 6,
    /// <summary>imm is 16, 32 or 64 (byte swaps).</summary>
    ImmWidth = 1 << 7,
    /// <summary>imm is an atomic operation code.</summary>
    ImmAtomic = 1 << 8,
    /// <summary>offset is a jump offset (checked against the program bounds).</summary>
    JumpOff = 1 << 9,
    /// <summary>imm is a jump offset (gotol).</summary>
    JumpImm = 1 << 10,
    /// <summary>The call's src selects helper, local or kfunc.</summary>
    CallSrc = 1 << 11,
    /// <summary>src is a pseudo source of the 64-bit immediate load (0-6).</summary>
    LdImmSrc = 1 << 12,
}

/// <summary>What the table knows of one opcode.</summary>
/// <param name="Flow">How control leaves it.</param>
/// <param name="Rules">Field constraints.</param>
public readonly record struct OpcodeInfo(FlowKind Flow, FieldRules Rules)
{
    /// <summary>True when the opcode exists.</summary>
    public bool IsValid => Flow != FlowKind.Invalid;
}

/// <summary>The 256-entry table of valid opcodes (Linux 6.x up to cpu v4, plus callx).</summary>
public static class OpcodeTable
{
    private static readonly OpcodeInfo[] s_table = Build();

    /// <summary>The entry for an opcode byte.</summary>
    public static OpcodeInfo Get(byte opcode) => s_table[opcode];

    private static OpcodeInfo[] Build()
    {
        var t = new OpcodeInfo[256];
        const FieldRules aluK = FieldRules.SrcZero | FieldRules.OffZero | FieldRules.DstWritable;
        const FieldRules aluX = FieldRules.ImmZero | FieldRules.OffZero | FieldRules.DstWritable;
        foreach (var cls in new[] { OpClass.Alu, OpClass.Alu64 })
        {
            for (int op = 0x00; op <= 0xc0; op += 0x10)
            {
                var aluOp = (AluOp)op;
                byte k = (byte)(op | (int)cls), x = (byte)(k | 0x08);
                if (aluOp == AluOp.Neg)
                {
                    t[k] = new(FlowKind.Next, aluK | FieldRules.ImmZero);
                    continue;
                }
                var extra = aluOp switch
                {
                    AluOp.Div or AluOp.Mod => FieldRules.OffSigned,
                    _ => FieldRules.None,
                };
                t[k] = new(FlowKind.Next, (aluK & ~(extra != 0 ? FieldRules.OffZero : 0)) | extra);
                t[x] = aluOp == AluOp.Mov
                    ? new(FlowKind.Next, (aluX & ~FieldRules.OffZero) | FieldRules.OffMovSx)
                    : new(FlowKind.Next, (aluX & ~(extra != 0 ? FieldRules.OffZero : 0)) | extra);
            }
        }

        const FieldRules end = FieldRules.SrcZero | FieldRules.OffZero | FieldRules.DstWritable | FieldRules.ImmWidth;
        t[Op.Le] = new(FlowKind.Next, end);
        t[Op.Be] = new(FlowKind.Next, end);
        t[Op.Bswap] = new(FlowKind.Next, end);

        foreach (var cls in new[] { OpClass.Jmp, OpClass.Jmp32 })
        {
            foreach (var j in new[] { JmpOp.Jeq, JmpOp.Jgt, JmpOp.Jge, JmpOp.Jset, JmpOp.Jne, JmpOp.Jsgt, JmpOp.Jsge, JmpOp.Jlt, JmpOp.Jle, JmpOp.Jslt, JmpOp.Jsle })
            {
                byte k = (byte)((int)j | (int)cls);
                t[k] = new(FlowKind.CondJump, FieldRules.SrcZero | FieldRules.JumpOff);
                t[k | 0x08] = new(FlowKind.CondJump, FieldRules.ImmZero | FieldRules.JumpOff);
            }
        }

        t[Op.Ja] = new(FlowKind.Jump, FieldRules.SrcZero | FieldRules.DstZero | FieldRules.ImmZero | FieldRules.JumpOff);
        t[Op.Ja32] = new(FlowKind.Jump, FieldRules.SrcZero | FieldRules.DstZero | FieldRules.OffZero | FieldRules.JumpImm);
        t[Op.Call] = new(FlowKind.Call, FieldRules.DstZero | FieldRules.CallSrc);
        t[Op.CallX] = new(FlowKind.Call, FieldRules.SrcZero | FieldRules.OffZero | FieldRules.ImmZero);
        t[Op.Exit] = new(FlowKind.Exit, FieldRules.SrcZero | FieldRules.DstZero | FieldRules.OffZero | FieldRules.ImmZero);

        t[Op.LdDw] = new(FlowKind.Next, FieldRules.OffZero | FieldRules.DstWritable | FieldRules.LdImmSrc);
        foreach (var o in new[] { Op.LdAbsW, Op.LdAbsH, Op.LdAbsB })
        {
            t[o] = new(FlowKind.Next, FieldRules.SrcZero | FieldRules.DstZero | FieldRules.OffZero);
        }

        foreach (var o in new[] { Op.LdIndW, Op.LdIndH, Op.LdIndB })
        {
            t[o] = new(FlowKind.Next, FieldRules.DstZero | FieldRules.OffZero);
        }

        foreach (var o in new[] { Op.LdxW, Op.LdxH, Op.LdxB, Op.LdxDw, Op.LdxSW, Op.LdxSH, Op.LdxSB })
        {
            t[o] = new(FlowKind.Next, FieldRules.ImmZero | FieldRules.DstWritable);
        }

        foreach (var o in new[] { Op.StW, Op.StH, Op.StB, Op.StDw })
        {
            t[o] = new(FlowKind.Next, FieldRules.SrcZero);
        }

        foreach (var o in new[] { Op.StxW, Op.StxH, Op.StxB, Op.StxDw })
        {
            t[o] = new(FlowKind.Next, FieldRules.ImmZero);
        }

        t[Op.AtomicW] = new(FlowKind.Next, FieldRules.ImmAtomic);
        t[Op.AtomicDw] = new(FlowKind.Next, FieldRules.ImmAtomic);
        return t;
    }
}
