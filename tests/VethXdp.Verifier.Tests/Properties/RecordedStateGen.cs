using FsCheck;
using FsCheck.Fluent;
using VethXdp.Vm.Isa;
using static VethXdp.Verifier.Tests.Properties.XdpProgramGen;

namespace VethXdp.Verifier.Tests.Properties;

/// <summary>Random XDP programs that stress the scalar domain, built with <see cref="XdpProgramGen.Build"/> (same
/// prologue, exit block and register roles: r6 = data, r7 = data_end, r0/r3/r4/r5/r8 data): unknown scalars loaded
/// from the packet, every ALU operation in 64 and 32 bits with immediates and registers (signed division and
/// modulo, sign-extending moves, byte swaps), 32-bit and narrow spills and fills, scalars used as packet offsets,
/// and JMP/JMP32 branches on immediates and registers around short bodies.</summary>
internal static class RecordedStateGen
{
    private const byte Alu = 0x04, Alu64 = 0x07, Jmp = 0x05, Jmp32 = 0x06, SrcX = 0x08;
    private const byte Ldxb = 0x71, Ldxh = 0x69, Ldxw = 0x61, Ldxdw = 0x79;
    private const byte Mov64X = 0xbf, Add64K = 0x07, Add64X = 0x0f, And64K = 0x57, JgtX = 0x2d;

    private static readonly Register[] s_data = [Register.R0, Register.R3, Register.R4, Register.R5, Register.R8];

    // add sub mul div or and lsh rsh mod xor mov arsh
    private static readonly byte[] s_aluOps = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0];

    // jeq jgt jge jset jne jsgt jsge jlt jle jslt jsle
    private static readonly byte[] s_jmpOps = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];

    private static Instruction I(byte op, Register dst, Register src, int off, int imm) => new(op, dst, src, (short)off, imm);

    private static Gen<Register> Data => Gen.Elements(s_data);

    private static Gen<int> Imm => Gen.Frequency(
        (4, Gen.Choose(-8, 70)),
        (2, Gen.Elements(0xff, 0xffff, 0x7fffffff, int.MinValue, -1, 0x80, 0x8000, 1 << 16)),
        (1, Gen.Choose(int.MinValue, int.MaxValue)));

    private static Gen<(byte Op, int Size)> Load => Gen.Elements((Ldxb, 1), (Ldxh, 2), (Ldxw, 4), (Ldxdw, 8));

    // r2 = data + off + size; if r2 > data_end goto exit; rD = *(size *)(data + off)
    private static Gen<Item> LoadScalar =>
        from off in Gen.Choose(0, 56)
        from ld in Load
        from dst in Data
        select new Item([
            I(Mov64X, Register.R2, Register.R6, 0, 0),
            I(Add64K, Register.R2, 0, 0, off + ld.Size),
            I(JgtX, Register.R2, Register.R7, ToExit, 0),
            I(ld.Op, dst, Register.R6, off, 0),
        ]);

    private static Gen<Item> AluImm =>
        from wide in Gen.Elements(true, false)
        from op in Gen.Elements(s_aluOps)
        from dst in Data
        from imm in Imm
        from signed in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Constant(1)))
        let shift = op is 0x60 or 0x70 or 0xc0
        let off = op is 0x30 or 0x90 ? signed : 0 // sdiv / smod
        select new Item([I((byte)(op | (wide ? Alu64 : Alu)), dst, 0, off, shift ? imm & (wide ? 63 : 31) : imm)]);

    private static Gen<Item> AluReg =>
        from wide in Gen.Elements(true, false)
        from op in Gen.Elements(s_aluOps)
        from dst in Data
        from src in Data
        from signed in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Constant(1)))
        let off = op is 0x30 or 0x90 ? signed : 0
        select new Item([I((byte)(op | SrcX | (wide ? Alu64 : Alu)), dst, src, off, 0)]);

    // rD = (s8/s16/s32) rS, wD = (s8/s16) wS; rD = -rD; byte swaps
    private static Gen<Item> Unary =>
        Gen.OneOf(
            from wide in Gen.Elements(true, false)
            from bits in wide ? Gen.Elements(8, 16, 32) : Gen.Elements(8, 16)
            from dst in Data
            from src in Data
            select new Item([I((byte)(0xb0 | SrcX | (wide ? Alu64 : Alu)), dst, src, bits, 0)]),
            from wide in Gen.Elements(true, false)
            from dst in Data
            select new Item([I((byte)(0x80 | (wide ? Alu64 : Alu)), dst, 0, 0, 0)]),
            from op in Gen.Elements<byte>(0xd4, 0xdc, 0xd7)
            from bits in Gen.Elements(16, 32, 64)
            from dst in Data
            select new Item([I(op, dst, 0, 0, bits)]));

    // *(size *)(r10 - 8k) = rS; rD = *(size *)(r10 - 8k)
    private static Gen<Item> SpillFill =>
        from k in Gen.Choose(1, 6)
        from ld in Load
        from src in Data
        from dst in Data
        select new Item([
            I((byte)((ld.Op & 0x18) | 0x63), Register.R10, src, -8 * k, 0),
            I(ld.Op, dst, Register.R10, -8 * k, 0),
        ]);

    // rX &= mask; r2 = data + rX; r1 = r2 + size; if r1 > data_end goto exit; rD = *(size *)(r2 + 0)
    private static Gen<Item> UseAsOffset =>
        from x in Data
        from mask in Gen.Elements(7, 15, 63, 255)
        from ld in Load
        from dst in Data
        select new Item([
            I(And64K, x, 0, 0, mask),
            I(Mov64X, Register.R2, Register.R6, 0, 0),
            I(Add64X, Register.R2, x, 0, 0),
            I(Mov64X, Register.R1, Register.R2, 0, 0),
            I(Add64K, Register.R1, 0, 0, ld.Size),
            I(JgtX, Register.R1, Register.R7, ToExit, 0),
            I(ld.Op, dst, Register.R2, 0, 0),
        ]);

    // The imm of a BPF-to-BPF call to the subprogram Program appends, patched once the program's length is known.
    private const int SubPlaceholder = int.MinValue;

    // r1 = rX; r2 = r10 - 8k; call sub; r3 = r4 = r5 = 0 (caller-saved, clobbered); rD = r0
    private static Gen<Item> CallSub =>
        from x in Data
        from k in Gen.Choose(1, 6)
        from dst in Data
        select new Item([
            I(Mov64X, Register.R1, x, 0, 0),
            I(Mov64X, Register.R2, Register.R10, 0, 0),
            I(Add64K, Register.R2, 0, 0, -8 * k),
            I(0x85, 0, (Register)1, 0, SubPlaceholder),
            I(0xb7, Register.R3, 0, 0, 0),
            I(0xb7, Register.R4, 0, 0, 0),
            I(0xb7, Register.R5, 0, 0, 0),
            I(Mov64X, dst, Register.R0, 0, 0),
        ]);

    // sub(r1 = a scalar, r2 = a pointer into the caller's stack): *(u64 *)(r2 + 0) = r1 & mask; r0 = that + 1 or the
    // caller's slot read back
    private static Gen<Instruction[]> Sub =>
        from mask in Gen.Elements(0xff, 0xffff, -1, 0x7ffffff0)
        from readBack in Gen.Elements(true, false)
        select new[]
        {
            I(Mov64X, Register.R0, Register.R1, 0, 0),
            I(And64K, Register.R0, 0, 0, mask),
            I(0x7b, Register.R2, Register.R0, 0, 0),
            readBack ? I(Ldxdw, Register.R0, Register.R2, 0, 0) : I(Add64K, Register.R0, 0, 0, 1),
            I(0x95, 0, 0, 0, 0),
        };

    private static Gen<Item> Simple => Gen.Frequency(
        (3, LoadScalar), (4, AluImm), (3, AluReg), (2, Unary), (2, SpillFill), (1, UseAsOffset), (1, CallSub));

    // if rX op imm/rY goto +len(body); body (one to three simple items)
    private static Gen<Item> Branch =>
        from wide in Gen.Elements(true, false)
        from op in Gen.Elements(s_jmpOps)
        from dst in Data
        from useReg in Gen.Elements(true, false)
        from src in Data
        from imm in Imm
        from body in Gen.Choose(1, 3).SelectMany(n => Gen.ArrayOf(Simple, n))
        let slots = body.SelectMany(b => b.Slots).ToArray()
        select new Item([
            I((byte)(op | (useReg ? SrcX : 0) | (wide ? Jmp : Jmp32)), dst, useReg ? src : 0, slots.Length, useReg ? 0 : imm),
            .. slots,
        ]);

    /// <summary>A whole program: one to twelve items, about one in four a branch; when some item calls the
    /// subprogram, it follows the exit block.</summary>
    public static Gen<Instruction[]> Program =>
        from items in Gen.Choose(1, 12).SelectMany(n => Gen.ArrayOf(Gen.Frequency((3, Simple), (1, Branch)), n))
        from r0 in Gen.Choose(0, 4)
        from sub in Sub
        select WithSub(Build(items, r0), sub);

    private static Instruction[] WithSub(Instruction[] main, Instruction[] sub)
    {
        bool calls = false;
        for (int i = 0; i < main.Length; i++)
        {
            if (main[i].Opcode == 0x85 && main[i].Imm == SubPlaceholder)
            {
                calls = true;
                main[i] = I(0x85, 0, (Register)1, 0, main.Length - i - 1);
            }
        }

        return calls ? [.. main, .. sub] : main;
    }
}
