using FsCheck;
using FsCheck.Fluent;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Properties;

/// <summary>A random XDP program with the shapes real parsers have, safe or not: packet reads at random offsets with
/// and without a preceding data_end check, variable offsets masked or not, packet writes, stack spills of packet
/// pointers and scalars and fills back, forward branches, array-map lookups with and without a NULL check, and ALU on
/// the scalars. r6 = data and r7 = data_end throughout; r1 = ctx only at the start.</summary>
public static class XdpProgramGen
{
    private const byte Ldxb = 0x71, Ldxh = 0x69, Ldxw = 0x61, Ldxdw = 0x79, Stb = 0x72, Stw = 0x62, Stxdw = 0x7b;
    private const byte Mov64X = 0xbf, Mov64K = 0xb7, Add64K = 0x07, Add64X = 0x0f, And64K = 0x57, JgtX = 0x2d;
    private const byte JeqK = 0x15, Exit = 0x95, Call = 0x85, LdDw = 0x18;

    private static readonly Register[] s_data = [Register.R0, Register.R3, Register.R4, Register.R5, Register.R8];
    private static readonly byte[] s_aluK = [0x07, 0x17, 0x27, 0x47, 0x57, 0x67, 0x77, 0xa7, 0xc7, 0xb7];
    private static readonly byte[] s_condK = [0x15, 0x25, 0x35, 0x45, 0x55, 0x65, 0x75, 0xa5, 0xb5, 0xc5, 0xd5];

    /// <summary>The array map the generated programs look up (map index 0).</summary>
    public static readonly MapSpec Map = new() { Name = "m", Type = MapType.Array, KeySize = 4, ValueSize = 16, MaxEntries = 4 };

    /// <summary>A generated program's slots as an XDP program named "gen".</summary>
    public static ProgramSpec Spec(Instruction[] slots) => new()
    {
        Name = "gen",
        SectionName = "xdp",
        Type = ProgramType.Xdp,
        Slots = slots,
        License = "GPL",
    };

    /// <summary>Random frames, mostly short (14 to 80 bytes), sometimes up to 300.</summary>
    public static Gen<byte[]> Packet =>
        from len in Gen.Frequency((3, Gen.Choose(14, 80)), (1, Gen.Choose(14, 300)))
        from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), len)
        select bytes;

    /// <summary>One program item: its slots, with jumps to the common exit written as offset <see cref="ToExit"/>.</summary>
    public sealed record Item(Instruction[] Slots);

    /// <summary>The placeholder offset of a jump to the program's exit block, patched by <see cref="Build"/>.</summary>
    public const short ToExit = short.MinValue;

    private static Instruction I(byte op, Register dst, Register src, int off, int imm) => new(op, dst, src, (short)off, imm);

    private static Gen<Register> Data => Gen.Elements(s_data);

    private static Gen<byte> LoadOp => Gen.Elements(Ldxb, Ldxh, Ldxw, Ldxdw);

    private static int Size(byte ldx) => ldx switch { Ldxb => 1, Ldxh => 2, Ldxw => 4, _ => 8 };

    // r2 = data + k; if r2 > data_end goto exit
    private static Gen<Item> Check =>
        from k in Gen.Frequency((3, Gen.Choose(1, 64)), (1, Gen.Choose(0, 300)))
        select new Item([I(Mov64X, Register.R2, Register.R6, 0, 0), I(Add64K, Register.R2, 0, 0, k), I(JgtX, Register.R2, Register.R7, ToExit, 0)]);

    private static Gen<Item> Read =>
        from op in LoadOp
        from dst in Data
        from off in Gen.Frequency((4, Gen.Choose(0, 60)), (1, Gen.Choose(-8, 200)))
        select new Item([I(op, dst, Register.R6, off, 0)]);

    private static Gen<Item> Write =>
        from off in Gen.Choose(0, 64)
        from imm in Gen.Choose(0, 255)
        select new Item([I(Stb, Register.R6, 0, off, imm)]);

    private static Gen<Item> Alu =>
        from op in Gen.Elements(s_aluK)
        from dst in Data
        from imm in Gen.Frequency((3, Gen.Choose(0, 70)), (1, Gen.Choose(int.MinValue, int.MaxValue)))
        select new Item([I(op, dst, 0, 0, (op is 0x67 or 0x77 or 0xc7) ? imm & 63 : imm)]);

    // r3 &= mask; r2 = data + r3; [r4 = r2 + size; if r4 > data_end goto exit]; r5 = *(size *)(r2 + 0)
    private static Gen<Item> VarRead =>
        from mask in Gen.Frequency((3, Gen.Elements(0, 1, 7, 15, 31, 63)), (1, Gen.Choose(-1, 1000)))
        from masked in Gen.Frequency((5, Gen.Constant(true)), (1, Gen.Constant(false)))
        from checkIt in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from op in LoadOp
        select new Item([
            .. masked ? new[] { I(And64K, Register.R3, 0, 0, mask) } : [],
            I(Mov64X, Register.R2, Register.R6, 0, 0),
            I(Add64X, Register.R2, Register.R3, 0, 0),
            .. checkIt
                ? new[] { I(Mov64X, Register.R4, Register.R2, 0, 0), I(Add64K, Register.R4, 0, 0, Size(op)), I(JgtX, Register.R4, Register.R7, ToExit, 0) }
                : [],
            I(op, Register.R5, Register.R2, 0, 0),
        ]);

    // *(u64 *)(r10 - 8k) = rX; r8 = *(u64 *)(r10 - 8k) [; r5 = *(u8 *)(r8 + off)]
    private static Gen<Item> SpillFill =>
        from k in Gen.Choose(1, 8)
        from src in Gen.Elements(Register.R6, Register.R3, Register.R0, Register.R7)
        from deref in Gen.Elements(false, true)
        from off in Gen.Choose(0, 20)
        select new Item([
            I(Stxdw, Register.R10, src, -8 * k, 0),
            I(Ldxdw, Register.R8, Register.R10, -8 * k, 0),
            .. deref ? new[] { I(Ldxb, Register.R5, Register.R8, off, 0) } : [],
        ]);

    // *(u32 *)(r10 - 4) = key; r2 = r10 - 4; r1 = map; call lookup; [if r0 == 0 goto +1]; r3 = *(u64 *)(r0 + off)
    private static Gen<Item> Lookup =>
        from key in Gen.Frequency((3, Gen.Choose(0, 3)), (1, Gen.Choose(0, 10)))
        from nullCheck in Gen.Frequency((3, Gen.Constant(true)), (1, Gen.Constant(false)))
        from off in Gen.Frequency((4, Gen.Elements(0, 8)), (1, Gen.Choose(-4, 20)))
        select new Item([
            I(Stw, Register.R10, 0, -4, key),
            I(Mov64X, Register.R2, Register.R10, 0, 0),
            I(Add64K, Register.R2, 0, 0, -4),
            new Instruction(LdDw, Register.R1, (Register)1, 0, 0),
            new Instruction(0, 0, 0, 0, 0),
            I(Call, 0, 0, 0, 1),
            .. nullCheck ? new[] { I(JeqK, Register.R0, 0, 1, 0) } : [],
            I(Ldxdw, Register.R3, Register.R0, off, 0),
        ]);

    private static Gen<Item> Simple => Gen.Frequency(
        (4, Check), (5, Read), (1, Write), (4, Alu), (2, VarRead), (2, SpillFill), (2, Lookup));

    // if rX op imm goto +len(next); next
    private static Gen<Item> Branch =>
        from op in Gen.Elements(s_condK)
        from dst in Data
        from imm in Gen.Choose(-5, 100)
        from body in Simple
        select new Item([I(op, dst, 0, body.Slots.Length, imm), .. body.Slots]);

    /// <summary>A whole program.</summary>
    public static Gen<Instruction[]> Program =>
        from items in Gen.Choose(1, 14).SelectMany(n => Gen.ArrayOf(Gen.Frequency((4, Simple), (1, Branch)), n))
        from r0 in Gen.Choose(0, 4)
        select Build(items, r0);

    /// <summary>Prologue, items, the normal end (r0 = <paramref name="r0"/>; exit), then the exit block every check
    /// jumps to (r0 = 1; exit).</summary>
    public static Instruction[] Build(Item[] items, int r0)
    {
        var slots = new List<Instruction>
        {
            I(Ldxw, Register.R6, Register.R1, 0, 0),
            I(Ldxw, Register.R7, Register.R1, 4, 0),
            I(Mov64K, Register.R0, 0, 0, 0),
            I(Mov64K, Register.R3, 0, 0, 0),
            I(Mov64K, Register.R4, 0, 0, 0),
            I(Mov64K, Register.R5, 0, 0, 0),
            I(Mov64K, Register.R8, 0, 0, 0),
        };
        foreach (var it in items)
        {
            slots.AddRange(it.Slots);
        }

        slots.Add(I(Mov64K, Register.R0, 0, 0, r0));
        slots.Add(I(Exit, 0, 0, 0, 0));
        int exitAt = slots.Count;
        slots.Add(I(Mov64K, Register.R0, 0, 0, 1));
        slots.Add(I(Exit, 0, 0, 0, 0));
        for (int i = 0; i < exitAt; i++)
        {
            if (slots[i].Offset == ToExit && slots[i].Class is OpClass.Jmp)
            {
                var s = slots[i];
                slots[i] = new Instruction(s.Opcode, s.Dst, s.Src, (short)(exitAt - i - 1), s.Imm);
            }
        }

        return [.. slots];
    }
}
