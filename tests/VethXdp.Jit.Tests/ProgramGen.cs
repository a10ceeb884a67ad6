using FsCheck;
using FsCheck.Fluent;
using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Tests;

/// <summary>A generated test case: a program, the memory it runs over (r1 = its address, r2 = its length) and a budget.</summary>
public sealed record GenCase(Instruction[] Slots, byte[] Memory, long Budget)
{
    public override string ToString() =>
        $"budget={Budget} mem={Convert.ToHexString(Memory)}\n{Disassembler.DisassembleRaw(Slots)}";
}

/// <summary>Random programs that <see cref="InstructionValidator"/> accepts and that always terminate: straight-line
/// code, forward branches (JMP and JMP32, every condition), at most one bounded loop (counter r9, which nothing else
/// writes), and optionally a subprogram the main function calls. Every instruction class appears: ALU and ALU64 with
/// edge-case immediates (x/0, INT_MIN/-1, shift counts past the width, movsx, bswap/le/be), loads and stores of every
/// size (sign-extending loads too) through r1 (the memory, offsets a little outside it as well) and r10 (the stack,
/// past its ends as well), atomics (aligned and not), LD_ABS/LD_IND, lddw, a few deterministic helpers, and exits.</summary>
/// <remarks>Host addresses never reach a data register: r1 and r10 are only ever memory bases, so r0 and the memory
/// after a run are the same on any engine. Data registers: r0, r2-r8 (r9 counts the loop).</remarks>
public static class ProgramGen
{
    private static readonly Register[] s_data = [Register.R0, Register.R2, Register.R3, Register.R4, Register.R5, Register.R6, Register.R7, Register.R8];
    private static readonly AluOp[] s_aluOps = [AluOp.Add, AluOp.Sub, AluOp.Mul, AluOp.Div, AluOp.Or, AluOp.And, AluOp.Lsh, AluOp.Rsh, AluOp.Neg, AluOp.Mod, AluOp.Xor, AluOp.Mov, AluOp.Arsh, AluOp.End];
    private static readonly JmpOp[] s_condOps = [JmpOp.Jeq, JmpOp.Jgt, JmpOp.Jge, JmpOp.Jset, JmpOp.Jne, JmpOp.Jsgt, JmpOp.Jsge, JmpOp.Jlt, JmpOp.Jle, JmpOp.Jslt, JmpOp.Jsle];
    private static readonly int[] s_atomicOps = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];
    private static readonly int[] s_helpers = [5, 7, 8];   // ktime_get_ns, get_prandom_u32, get_smp_processor_id

    private static Gen<int> Imm =>
        Gen.Frequency(
            (3, Gen.Elements(0, 1, -1, 2, 7, 8, 16, 31, 32, 33, 63, 64, 65, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, int.MinValue, int.MaxValue)),
            (3, Gen.Choose(-300, 300)),
            (2, Gen.Choose(0, 0xffff).Two().Select(t => (t.Item1 << 16) | t.Item2)));

    private static Gen<Register> Data => Gen.Elements(s_data);

    public static Arbitrary<GenCase> Cases => Case.ToArbitrary();

    public static Gen<GenCase> Case =>
        from memLen in Gen.Choose(1, 48)
        from mem in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), memLen)
        from hasSub in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from main in Gen.Choose(1, 28).SelectMany(n => Gen.ArrayOf(AnyItem(memLen, hasSub, inLoop: false), n))
        from loop in Gen.Frequency((2, Gen.Constant<Item[]?>(null)), (1, Gen.Choose(1, 8).SelectMany(n => Gen.ArrayOf(AnyItem(memLen, hasSub, inLoop: true), n)).Select(a => (Item[]?)a)))
        from loopAt in Gen.Choose(0, 28)
        from iterations in Gen.Choose(1, 5)
        from sub in Gen.Choose(1, 10).SelectMany(n => Gen.ArrayOf(AnyItem(memLen, false, inLoop: false), n))
        from fallOff in Gen.Frequency((30, Gen.Constant(false)), (1, Gen.Constant(true)))
        from budget in Gen.Frequency((4, Gen.Constant(1_000_000L)), (1, Gen.Choose(1, 80).Select(b => (long)b)))
        select new GenCase(Build(main, loop, Math.Min(loopAt, main.Length), iterations, hasSub ? sub : null, fallOff), mem, budget);

    /// <summary>One element of a generated body.</summary>
    public abstract record Item;

    /// <summary>Slots that need no resolution.</summary>
    public sealed record Plain(Instruction[] Slots) : Item;

    /// <summary>A forward conditional (or unconditional) jump over the next <paramref name="Skip"/> items.</summary>
    public sealed record Forward(byte Opcode, Register Dst, Register Src, int Imm, int Skip) : Item;

    /// <summary>A call of the subprogram.</summary>
    public sealed record CallSub : Item;

    private static Gen<Item> AnyItem(int memLen, bool hasSub, bool inLoop) =>
        Gen.Frequency(
            (10, Alu().Select(i => (Item)new Plain([i]))),
            (4, Load(memLen).Select(i => (Item)new Plain([i]))),
            (4, Store(memLen).Select(i => (Item)new Plain([i]))),
            (1, Atomic(memLen).Select(i => (Item)new Plain([i]))),
            (3, ForwardJump()),
            (1, LegacyLoad(memLen).Select(i => (Item)new Plain([i]))),
            (1, LdDw().Select(s => (Item)new Plain(s))),
            (1, Gen.Elements(s_helpers).Select(h => (Item)new Plain([new Instruction(Op.Call, 0, 0, 0, h)]))),
            (inLoop ? 0 : 1, Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false))).Select(x => (Item)new Plain([x ? new Instruction(Op.Exit, 0, 0, 0, 0) : new Instruction(Op.Mov64Reg, Register.R0, Register.R3, 0, 0)]))),
            (hasSub ? 1 : 0, Gen.Constant((Item)new CallSub())));

    private static Gen<Instruction> Alu() =>
        from wide in Gen.Elements(true, false)
        from op in Gen.Elements(s_aluOps)
        from dst in Data
        from useReg in Gen.Elements(true, false)
        from src in Data
        from imm in Imm
        from signed in Gen.Elements<short>(0, 1)
        from movsx in wide ? Gen.Elements<short>(0, 0, 8, 16, 32) : Gen.Elements<short>(0, 0, 8, 16)
        from width in Gen.Elements(16, 32, 64)
        from toBig in Gen.Elements(true, false)
        select MakeAlu(wide, op, dst, useReg, src, imm, signed, movsx, width, toBig);

    private static Instruction MakeAlu(bool wide, AluOp op, Register dst, bool useReg, Register src, int imm, short signed, short movsx, int width, bool toBig)
    {
        byte cls = wide ? (byte)OpClass.Alu64 : (byte)OpClass.Alu;
        switch (op)
        {
            case AluOp.Neg:
                return new Instruction((byte)((byte)op | cls), dst, 0, 0, 0);
            case AluOp.End:
                // ALU64: bswap (BPF_K only); ALU: le (K) or be (X).
                return wide
                    ? new Instruction(Op.Bswap, dst, 0, 0, width)
                    : new Instruction(toBig ? Op.Be : Op.Le, dst, 0, 0, width);
            case AluOp.Div:
            case AluOp.Mod:
                return useReg
                    ? new Instruction((byte)((byte)op | cls | 0x08), dst, src, signed, 0)
                    : new Instruction((byte)((byte)op | cls), dst, 0, signed, imm);
            case AluOp.Mov:
                return useReg
                    ? new Instruction((byte)((byte)op | cls | 0x08), dst, src, movsx, 0)
                    : new Instruction((byte)((byte)op | cls), dst, 0, 0, imm);
            default:
                return useReg
                    ? new Instruction((byte)((byte)op | cls | 0x08), dst, src, 0, 0)
                    : new Instruction((byte)((byte)op | cls), dst, 0, 0, imm);
        }
    }

    // r1 + off (a little outside the memory too) or r10 + off (a little outside the frame too).
    private static Gen<(Register Base, short Off)> Address(int memLen, int size) =>
        Gen.Frequency(
            (1, Gen.Choose(-3, memLen + 2 - size).Select(o => (Register.R1, (short)o))),
            (3, Gen.Choose(0, Math.Max(0, memLen - size)).Select(o => (Register.R1, (short)o))),
            (3, Gen.Choose(-520 / size, 1).Select(o => (Register.R10, (short)(o * size)))),
            (1, Gen.Choose(-514, 2).Select(o => (Register.R10, (short)o))));

    private static Gen<int> Size => Gen.Elements(1, 2, 4, 8);

    private static byte SizeBits(int size) => size switch
    {
        1 => (byte)MemSize.B,
        2 => (byte)MemSize.H,
        4 => (byte)MemSize.W,
        _ => (byte)MemSize.DW,
    };

    private static Gen<Instruction> Load(int memLen) =>
        from size in Size
        from signed in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from addr in Address(memLen, size)
        from dst in Data
        select new Instruction(
            (byte)((signed && size < 8 ? (byte)MemMode.MemSx : (byte)MemMode.Mem) | SizeBits(size) | (byte)OpClass.Ldx),
            dst, addr.Base, addr.Off, 0);

    private static Gen<Instruction> Store(int memLen) =>
        from size in Size
        from useReg in Gen.Elements(true, false)
        from addr in Address(memLen, size)
        from src in Data
        from imm in Imm
        select useReg
            ? new Instruction((byte)((byte)MemMode.Mem | SizeBits(size) | (byte)OpClass.Stx), addr.Base, src, addr.Off, 0)
            : new Instruction((byte)((byte)MemMode.Mem | SizeBits(size) | (byte)OpClass.St), addr.Base, 0, addr.Off, imm);

    private static Gen<Instruction> Atomic(int memLen) =>
        from wide in Gen.Elements(true, false)
        from op in Gen.Elements(s_atomicOps)
        from addr in Gen.Frequency((4, Address(memLen, wide ? 8 : 4)), (1, Address(memLen, 1)))
        from src in Data
        select new Instruction(wide ? Op.AtomicDw : Op.AtomicW, addr.Base, src, addr.Off, op);

    private static Gen<Item> ForwardJump() =>
        from jmp32 in Gen.Elements(true, false)
        from always in Gen.Frequency((6, Gen.Constant(false)), (1, Gen.Constant(true)))
        from op in Gen.Elements(s_condOps)
        from useReg in Gen.Elements(true, false)
        from dst in Data
        from src in Data
        from imm in Imm
        from skip in Gen.Choose(0, 5)
        select always
            ? (Item)new Forward(jmp32 ? Op.Ja32 : Op.Ja, 0, 0, 0, skip)
            : new Forward((byte)((byte)op | (jmp32 ? (byte)OpClass.Jmp32 : (byte)OpClass.Jmp) | (useReg ? 0x08 : 0)), dst, useReg ? src : 0, useReg ? 0 : imm, skip);

    private static Gen<Instruction> LegacyLoad(int memLen) =>
        from ind in Gen.Elements(true, false)
        from size in Gen.Elements(1, 2, 4)
        from off in Gen.Choose(-2, memLen + 1)
        from src in Data
        select new Instruction((byte)((ind ? (byte)MemMode.Ind : (byte)MemMode.Abs) | SizeBits(size) | (byte)OpClass.Ld), 0, ind ? src : 0, 0, off);

    private static Gen<Instruction[]> LdDw() =>
        from dst in Data
        from lo in Imm
        from hi in Imm
        select new[] { new Instruction(Op.LdDw, dst, 0, 0, lo), new Instruction(0, 0, 0, 0, hi) };

    // main [loop spliced in at loopAt] exit | sub ... exit
    private static Instruction[] Build(Item[] main, Item[]? loop, int loopAt, int iterations, Item[]? sub, bool fallOff)
    {
        var slots = new List<Instruction>();
        var subCalls = new List<int>();
        Emit(slots, main.AsSpan(0, loopAt), subCalls);
        if (loop is not null)
        {
            slots.Add(new Instruction(Op.Mov64Imm, Register.R9, 0, 0, iterations));
            int top = slots.Count;
            Emit(slots, loop, subCalls);
            slots.Add(new Instruction(Op.Add64Imm, Register.R9, 0, 0, -1));
            slots.Add(new Instruction(Op.JneImm, Register.R9, 0, (short)(top - (slots.Count + 1)), 0));
        }

        Emit(slots, main.AsSpan(loopAt), subCalls);

        // r0 sums up every data register, so that it shows the whole register state.
        foreach (var r in s_data.AsSpan(1))
        {
            slots.Add(new Instruction(Op.Xor64Reg, Register.R0, r, 0, 0));
        }

        // Falling off the end: the last instruction is not an exit (a jump to the end still lands on it).
        var last = fallOff ? new Instruction(Op.Mov64Reg, Register.R8, Register.R8, 0, 0) : new Instruction(Op.Exit, 0, 0, 0, 0);
        slots.Add(sub is null ? last : new Instruction(Op.Exit, 0, 0, 0, 0));

        if (sub is not null)
        {
            int start = slots.Count;
            foreach (int pc in subCalls)
            {
                slots[pc] = new Instruction(Op.Call, 0, (Register)CallKind.Local, 0, start - (pc + 1));
            }

            Emit(slots, sub, []);
            slots.Add(last);
        }

        return [.. slots];
    }

    // Items in order; forward jumps land on the start of the item `Skip` items later (or just past the last one).
    private static void Emit(List<Instruction> slots, ReadOnlySpan<Item> items, List<int> subCalls)
    {
        var starts = new int[items.Length + 1];
        var pending = new List<(int Pc, int TargetItem, Forward Jump)>();
        for (int i = 0; i < items.Length; i++)
        {
            starts[i] = slots.Count;
            switch (items[i])
            {
                case Plain p:
                    slots.AddRange(p.Slots);
                    break;
                case Forward f:
                    pending.Add((slots.Count, Math.Min(i + 1 + f.Skip, items.Length), f));
                    slots.Add(default);
                    break;
                case CallSub:
                    subCalls.Add(slots.Count);
                    slots.Add(default);
                    break;
            }
        }

        starts[items.Length] = slots.Count;
        foreach (var (pc, target, f) in pending)
        {
            int offset = starts[target] - (pc + 1);
            slots[pc] = f.Opcode == Op.Ja32
                ? new Instruction(Op.Ja32, 0, 0, 0, offset)
                : new Instruction(f.Opcode, f.Dst, f.Src, (short)offset, f.Imm);
        }
    }
}
