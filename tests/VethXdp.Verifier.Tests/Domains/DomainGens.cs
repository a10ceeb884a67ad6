using FsCheck;
using FsCheck.Fluent;
using VethXdp.Verifier.Domains;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Tests.Domains;

/// <summary>An abstract value with concrete members that it must contain.</summary>
public sealed record AbstractTnum(Tnum T, ulong[] Members)
{
    public override string ToString() => $"{T} members=[{string.Join(", ", Members.Select(m => $"0x{m:x}"))}]";
}

/// <summary>Scalar bounds built around concrete members (so the members are known to be inside, if
/// <see cref="ScalarBounds.Sync"/> is sound), then widened at random and synced.</summary>
public sealed record AbstractScalar(ScalarBounds B, ulong[] Members)
{
    public override string ToString() => $"{B} members=[{string.Join(", ", Members.Select(m => $"0x{m:x}"))}]";
}

/// <summary>FsCheck generators for the verifier domains.</summary>
public static class DomainGens
{
    private static readonly ulong[] s_special =
    [
        0, 1, 2, 7, 8, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff,
        0x1_0000_0000, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, ulong.MaxValue, ulong.MaxValue - 1,
        0xffff_ffff_8000_0000, 0xffff_ffff_7fff_ffff, 0xffff_ffff_0000_0000, 0x8000_0000_8000_0000,
    ];

    private static readonly Gen<ulong> s_random64 =
        Gen.Choose(0, 0xffff).Two().Two().Select(t =>
            ((ulong)(uint)t.Item1.Item1 << 48) | ((ulong)(uint)t.Item1.Item2 << 32) |
            ((ulong)(uint)t.Item2.Item1 << 16) | (uint)t.Item2.Item2);

    /// <summary>64-bit values biased to boundaries: specials, specials +- small deltas, small numbers, random bits.</summary>
    public static readonly Gen<ulong> U64 = Gen.Frequency(
        (3, Gen.Elements(s_special)),
        (3, Gen.Elements(s_special).SelectMany(s => Gen.Choose(-40, 40).Select(d => unchecked(s + (ulong)(long)d)))),
        (2, Gen.Choose(-300, 300).Select(v => (ulong)(long)v)),
        (1, s_random64.Select(v => v & 0xffff_ffffUL)),
        (3, s_random64));

    /// <summary>Random masks: few bits, byte runs, low/high halves, anything.</summary>
    public static readonly Gen<ulong> Mask = Gen.Frequency(
        (2, Gen.Choose(0, 63).Select(b => 1UL << b)),
        (2, Gen.Elements(0xffUL, 0xff00UL, 0xffffUL, 0xffff_ffffUL, 0xffff_ffff_0000_0000UL, 0x8000_0000_0000_0000UL, 0x8000_0000UL, 0xfUL, 0xf0UL)),
        (1, Gen.Constant(ulong.MaxValue)),
        (1, Gen.Constant(0UL)),
        (3, s_random64),
        (2, s_random64.Two().Select(t => t.Item1 & t.Item2)));

    /// <summary>A tnum with 1 to 6 of its members.</summary>
    public static readonly Gen<AbstractTnum> Tnum =
        from value in U64
        from mask in Mask
        from picks in s_random64.ArrayOf().Select(a => a.Take(6).ToArray())
        select MakeTnum(value, mask, picks);

    /// <summary>A scalar abstract value with 1 to 5 members.</summary>
    public static readonly Gen<AbstractScalar> Scalar =
        from members in Members
        from widen in Gen.Choose(0, int.MaxValue).ArrayOf(12).Select(a => a)
        from extra in U64.ArrayOf(6)
        select MakeScalar(members, widen, extra);

    /// <summary>Members: a cluster around a value, a few independent values, or a constant.</summary>
    private static Gen<ulong[]> Members => Gen.Frequency(
        (3, from b in U64 from d in Gen.Choose(-20, 20).ArrayOf(4) select d.Select(x => unchecked(b + (ulong)(long)x)).Prepend(b).Distinct().Take(5).ToArray()),
        (2, U64.ArrayOf(4).Select(a => a.Length == 0 ? [0UL] : a.Distinct().Take(5).ToArray())),
        (1, from b in U64 from m in Mask from p in s_random64.ArrayOf(4) select p.Select(x => (b & ~m) | (x & m)).Prepend(b & ~m).Distinct().Take(5).ToArray()),
        (1, U64.Select(v => new[] { v })));

    private static AbstractTnum MakeTnum(ulong value, ulong mask, ulong[] picks)
    {
        var t = new Tnum(value & ~mask, mask);
        var members = picks.Select(p => t.Value | (p & t.Mask)).Prepend(t.Value).Append(t.Value | t.Mask).Distinct().Take(6).ToArray();
        return new AbstractTnum(t, members);
    }

    private static AbstractScalar MakeScalar(ulong[] members, int[] widen, ulong[] extra)
    {
        if (members.Length == 0)
        {
            members = [0];
        }

        // the tightest state holding exactly the members' hull in every view
        var b = default(ScalarBounds);
        b.MarkKnown(members[0]);
        foreach (ulong m in members.Skip(1))
        {
            b.VarOff = Verifier.Domains.Tnum.Union(b.VarOff, Verifier.Domains.Tnum.Const(m));
            b.UMin = Math.Min(b.UMin, m);
            b.UMax = Math.Max(b.UMax, m);
            b.SMin = Math.Min(b.SMin, (long)m);
            b.SMax = Math.Max(b.SMax, (long)m);
            b.U32Min = Math.Min(b.U32Min, (uint)m);
            b.U32Max = Math.Max(b.U32Max, (uint)m);
            b.S32Min = Math.Min(b.S32Min, (int)(uint)m);
            b.S32Max = Math.Max(b.S32Max, (int)(uint)m);
        }

        // random widening of each view, keeping the members inside
        ulong E(int i) => extra.Length == 0 ? 0 : extra[i % extra.Length];
        int W(int i) => widen.Length == 0 ? 0 : widen[i % widen.Length] % 6;
        switch (W(0))
        {
            case 0: b.UMin = 0; break;
            case 1: b.UMin = Math.Min(b.UMin, E(0)); break;
            default: break;
        }

        switch (W(1))
        {
            case 0: b.UMax = ulong.MaxValue; break;
            case 1: b.UMax = Math.Max(b.UMax, E(1)); break;
            default: break;
        }

        switch (W(2))
        {
            case 0: b.SMin = long.MinValue; break;
            case 1: b.SMin = Math.Min(b.SMin, (long)E(2)); break;
            default: break;
        }

        switch (W(3))
        {
            case 0: b.SMax = long.MaxValue; break;
            case 1: b.SMax = Math.Max(b.SMax, (long)E(3)); break;
            default: break;
        }

        switch (W(4))
        {
            case 0: b.U32Min = 0; b.U32Max = uint.MaxValue; break;
            case 1: b.U32Min = Math.Min(b.U32Min, (uint)E(4)); b.U32Max = Math.Max(b.U32Max, (uint)E(5)); break;
            default: break;
        }

        switch (W(5))
        {
            case 0: b.S32Min = int.MinValue; b.S32Max = int.MaxValue; break;
            case 1: b.S32Min = Math.Min(b.S32Min, (int)E(5)); b.S32Max = Math.Max(b.S32Max, (int)E(4)); break;
            default: break;
        }

        switch (W(6))
        {
            case 0: b.VarOff = Verifier.Domains.Tnum.Unknown; break;
            case 1:
            case 2:
                ulong m = E(6) & E(7);
                b.VarOff = new Tnum(b.VarOff.Value & ~m, b.VarOff.Mask | m);
                break;
            default: break;
        }

        if (W(7) == 0)
        {
            b = ScalarBounds.Unknown;
        }

        b.Sync();
        return new AbstractScalar(b, members);
    }

    /// <summary>ALU instructions of every operation in both widths, with register or immediate source.</summary>
    public static Gen<Instruction> AluInsn(AluOp op) =>
        from alu64 in Gen.Elements(true, false)
        from reg in Gen.Elements(true, false)
        from imm in ImmFor(op, alu64)
        from off in OffFor(op, alu64, reg)
        select MakeAlu(op, alu64, reg, imm, off);

    private static Gen<int> ImmFor(AluOp op, bool alu64) => op switch
    {
        AluOp.Lsh or AluOp.Rsh or AluOp.Arsh => Gen.Choose(0, alu64 ? 63 : 31),
        AluOp.End => Gen.Elements(16, 32, 64),
        AluOp.Neg => Gen.Constant(0),
        AluOp.Div or AluOp.Mod => U64.Select(v => (int)v).Where(v => v != 0),
        _ => U64.Select(v => (int)v),
    };

    private static Gen<short> OffFor(AluOp op, bool alu64, bool reg) => op switch
    {
        AluOp.Div or AluOp.Mod => Gen.Elements<short>(0, 1),
        AluOp.Mov when reg => alu64 ? Gen.Elements<short>(0, 8, 16, 32) : Gen.Elements<short>(0, 8, 16),
        _ => Gen.Constant((short)0),
    };

    private static Instruction MakeAlu(AluOp op, bool alu64, bool reg, int imm, short off)
    {
        var cls = alu64 ? OpClass.Alu64 : OpClass.Alu;
        if (op == AluOp.Neg)
        {
            reg = false;
        }

        if (op == AluOp.End)
        {
            // ALU64 END is bswap (BPF_TO_LE encoding); ALU END picks le (K) or be (X) by the source bit
            if (alu64)
            {
                reg = false;
            }

            return new Instruction((byte)((byte)op | (reg ? 0x08 : 0) | (byte)cls), Register.R1, Register.R0, 0, imm);
        }

        return new Instruction((byte)((byte)op | (reg ? 0x08 : 0) | (byte)cls), Register.R1, reg ? Register.R2 : Register.R0,
            off, reg ? 0 : imm);
    }

    /// <summary>The concrete result of an ALU instruction (the ISA's semantics, as the interpreter runs them).</summary>
    public static ulong ConcreteAlu(in Instruction insn, ulong dst, ulong src)
    {
        bool alu64 = insn.Class == OpClass.Alu64;
        if (!insn.SrcIsReg && insn.AluOp != AluOp.End)
        {
            src = (ulong)(long)insn.Imm;
        }

        if (insn.AluOp == AluOp.End)
        {
            bool toBe = insn.SrcIsReg;
            bool swap = alu64 || toBe;
            return insn.Imm switch
            {
                16 => swap ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)dst) : (ushort)dst,
                32 => swap ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)dst) : (uint)dst,
                _ => swap ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(dst) : dst,
            };
        }

        if (alu64)
        {
            return insn.AluOp switch
            {
                AluOp.Add => dst + src,
                AluOp.Sub => dst - src,
                AluOp.Mul => dst * src,
                AluOp.Div => insn.Offset == 1 ? BpfMath.SDiv64(dst, src) : BpfMath.UDiv64(dst, src),
                AluOp.Mod => insn.Offset == 1 ? BpfMath.SMod64(dst, src) : BpfMath.UMod64(dst, src),
                AluOp.Or => dst | src,
                AluOp.And => dst & src,
                AluOp.Lsh => dst << (int)(src & 63),
                AluOp.Rsh => dst >> (int)(src & 63),
                AluOp.Neg => (ulong)-(long)dst,
                AluOp.Xor => dst ^ src,
                AluOp.Mov => insn.Offset switch
                {
                    8 => (ulong)(long)(sbyte)src,
                    16 => (ulong)(long)(short)src,
                    32 => (ulong)(long)(int)src,
                    _ => src,
                },
                AluOp.Arsh => (ulong)((long)dst >> (int)(src & 63)),
                _ => throw new InvalidOperationException(insn.ToString()),
            };
        }

        uint d = (uint)dst, s = (uint)src;
        uint r = insn.AluOp switch
        {
            AluOp.Add => d + s,
            AluOp.Sub => d - s,
            AluOp.Mul => d * s,
            AluOp.Div => insn.Offset == 1 ? BpfMath.SDiv32(d, s) : BpfMath.UDiv32(d, s),
            AluOp.Mod => insn.Offset == 1 ? BpfMath.SMod32(d, s) : BpfMath.UMod32(d, s),
            AluOp.Or => d | s,
            AluOp.And => d & s,
            AluOp.Lsh => d << (int)(s & 31),
            AluOp.Rsh => d >> (int)(s & 31),
            AluOp.Neg => (uint)-(int)d,
            AluOp.Xor => d ^ s,
            AluOp.Mov => insn.Offset switch
            {
                8 => (uint)(int)(sbyte)s,
                16 => (uint)(int)(short)s,
                _ => s,
            },
            AluOp.Arsh => (uint)((int)d >> (int)(s & 31)),
            _ => throw new InvalidOperationException(insn.ToString()),
        };
        return r;
    }

    /// <summary>The concrete outcome of a conditional jump.</summary>
    public static bool ConcreteJmp(JmpOp op, bool is32, ulong a, ulong b)
    {
        if (is32)
        {
            a = (uint)a;
            b = (uint)b;
        }

        long sa = is32 ? (int)(uint)a : (long)a;
        long sb = is32 ? (int)(uint)b : (long)b;
        return op switch
        {
            JmpOp.Jeq => a == b,
            JmpOp.Jne => a != b,
            JmpOp.Jgt => a > b,
            JmpOp.Jge => a >= b,
            JmpOp.Jlt => a < b,
            JmpOp.Jle => a <= b,
            JmpOp.Jsgt => sa > sb,
            JmpOp.Jsge => sa >= sb,
            JmpOp.Jslt => sa < sb,
            JmpOp.Jsle => sa <= sb,
            JmpOp.Jset => (a & b) != 0,
            _ => throw new InvalidOperationException(op.ToString()),
        };
    }
}
