using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Tests.Isa;

/// <summary>Generates one valid instruction (two slots for a 64-bit load): an opcode from
/// <see cref="OpcodeTable"/> and fields that satisfy its <see cref="FieldRules"/>. Jump and call targets are
/// arbitrary, as they are only valid relative to a program.</summary>
public static class ValidInstructionGen
{
    private static readonly byte[] s_opcodes =
        Enumerable.Range(0, 256).Where(o => OpcodeTable.Get((byte)o).IsValid).Select(o => (byte)o).ToArray();

    private static readonly int[] s_atomicOps = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];

    private static Gen<int> AnyInt =>
        Gen.OneOf(
            Gen.Elements(0, 1, -1, 8, 16, 0x7f, 0x80, 0xff, 0x7fff, -0x8000, int.MinValue, int.MaxValue),
            Gen.Choose(-70000, 70000),
            Gen.Choose(0, 0xffff).Two().Select(t => (t.Item1 << 16) | t.Item2));

    private static Gen<short> AnyShort =>
        Gen.OneOf(Gen.Elements(0, 1, -1, short.MinValue, short.MaxValue), Gen.Choose(short.MinValue, short.MaxValue))
            .Select(v => (short)v);

    public static Gen<Instruction[]> Slots =>
        Gen.Elements(s_opcodes).SelectMany(ForOpcode);

    public static Arbitrary<Instruction[]> Arb => Slots.ToArbitrary();

    private static Gen<Instruction[]> ForOpcode(byte op)
    {
        var rules = OpcodeTable.Get(op).Rules;
        var cls = (OpClass)(op & 0x07);
        Gen<int> dst = (rules & FieldRules.DstZero) != 0 ? Gen.Constant(0)
            : (rules & FieldRules.DstWritable) != 0 ? Gen.Choose(0, 9)
            : Gen.Choose(0, 10);
        Gen<int> src = (rules & FieldRules.SrcZero) != 0 ? Gen.Constant(0)
            : (rules & FieldRules.LdImmSrc) != 0 ? Gen.Choose(0, 6)
            : (rules & FieldRules.CallSrc) != 0 ? Gen.Choose(0, 2)
            : Gen.Choose(0, 10);
        Gen<short> off = (rules & FieldRules.OffZero) != 0 ? Gen.Constant((short)0)
            : (rules & FieldRules.OffSigned) != 0 ? Gen.Elements<short>(0, 1)
            : (rules & FieldRules.OffMovSx) != 0 ? (cls == OpClass.Alu64 ? Gen.Elements<short>(0, 8, 16, 32) : Gen.Elements<short>(0, 8, 16))
            : AnyShort;
        Gen<int> imm = (rules & FieldRules.ImmZero) != 0 ? Gen.Constant(0)
            : (rules & FieldRules.ImmWidth) != 0 ? Gen.Elements(16, 32, 64)
            : (rules & FieldRules.ImmAtomic) != 0 ? Gen.Elements(s_atomicOps)
            : AnyInt;

        return dst.SelectMany(d => src.SelectMany(s => off.SelectMany(o => imm.SelectMany(i => AnyInt.Select(hi =>
        {
            // Helper and BPF-to-BPF calls carry no offset; only kfunc calls may (a BTF module index).
            short offset = op == Op.Call && s != (int)CallKind.Kfunc ? (short)0 : o;
            var first = new Instruction(op, (Register)d, (Register)s, offset, i);
            return op == Op.LdDw ? new[] { first, new Instruction(0, 0, 0, 0, hi) } : new[] { first };
        })))));
    }
}

public class RoundTripProperties
{
    private static bool SameSlots(Instruction[] a, Instruction[] b) => a.AsSpan().SequenceEqual(b);

    [Property(MaxTest = 1000)]
    public Property EncodeDecode_ValidInstruction_IsIdentity() =>
        Prop.ForAll(ValidInstructionGen.Arb, slots =>
            SameSlots(slots, BpfProgram.DecodeSlots(BpfProgram.EncodeSlots(slots))).Label(Describe(slots)));

    [Property(MaxTest = 1000)]
    public Property KernelText_Lossless_AssemblesBack() =>
        Prop.ForAll(ValidInstructionGen.Arb, slots =>
        {
            string text = KernelFormatter.Format(slots, 0, lossless: true);
            return SameSlots(slots, Assembler.Assemble(text)).Label($"{Describe(slots)} -> {text}");
        });

    // The kernel's own text loses two things, both on purpose: the pseudo source of a 64-bit load (it prints
    // the combined immediate, which the kernel has replaced by the map address) and a kfunc's offset.
    // Everything else assembles back exactly.
    [Property(MaxTest = 1000)]
    public Property KernelText_Exact_AssemblesBackExceptKnownLosses() =>
        Prop.ForAll(ValidInstructionGen.Arb, slots =>
        {
            string text = KernelFormatter.Format(slots, 0);
            var back = Assembler.Assemble(text);
            var insn = slots[0];
            Instruction[] expected = slots;
            if (insn.IsLdImm64 && insn.SrcReg != 0)
            {
                expected = [new Instruction(Op.LdDw, insn.Dst, 0, 0, insn.Imm), slots[1]];
            }
            else if (insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Kfunc)
            {
                expected = [new Instruction(Op.Call, 0, (Register)CallKind.Kfunc, 0, insn.Imm)];
            }

            return SameSlots(expected, back).Label($"{Describe(slots)} -> {text}");
        });

    [Property(MaxTest = 1000)]
    public Property ConformanceText_AssemblesBack() =>
        Prop.ForAll(ValidInstructionGen.Arb, slots =>
        {
            string? text = ConformancePrinter.Print(slots);
            if (text is null)
            {
                // No conformance syntax: a 64-bit load with a pseudo source, a kfunc call with an offset.
                return (slots[0].IsLdImm64 || slots[0].Opcode == Op.Call).Label($"{Describe(slots)} has no conformance text");
            }

            return SameSlots(slots, Assembler.Assemble(text)).Label($"{Describe(slots)} -> {text}");
        });

    private static string Describe(Instruction[] slots) => string.Join(" ", slots.Select(s => s.ToString()));
}

/// <summary>A small printer of the bpf_conformance syntax, for the round-trip property only.</summary>
internal static class ConformancePrinter
{
    public static string? Print(Instruction[] slots)
    {
        var i = slots[0];
        string d = $"%r{i.DstReg}", s = $"%r{i.SrcReg}";
        string mem = $"[{d}{i.Offset:+0;-0}]";
        string size = i.MemSize switch
        {
            MemSize.B => "b",
            MemSize.H => "h",
            MemSize.W => "w",
            _ => "dw",
        };
        switch (i.Class)
        {
            case OpClass.Alu or OpClass.Alu64:
            {
                string w = i.Class == OpClass.Alu ? "32" : string.Empty;
                if (i.AluOp == AluOp.End)
                {
                    string kind = i.Class == OpClass.Alu64 ? "bswap" : i.SrcIsReg ? "be" : "le";
                    return $"{kind}{i.Imm} {d}";
                }

                if (i.AluOp == AluOp.Neg)
                {
                    return $"neg{w} {d}";
                }

                if (i.AluOp == AluOp.Mov && i.SrcIsReg && i.Offset != 0)
                {
                    return $"movsx{i.Offset}{(i.Class == OpClass.Alu ? "32" : "64")} {d}, {s}";
                }

                string name = i.AluOp switch
                {
                    AluOp.Add => "add",
                    AluOp.Sub => "sub",
                    AluOp.Mul => "mul",
                    AluOp.Div => i.Offset == 1 ? "sdiv" : "div",
                    AluOp.Or => "or",
                    AluOp.And => "and",
                    AluOp.Lsh => "lsh",
                    AluOp.Rsh => "rsh",
                    AluOp.Mod => i.Offset == 1 ? "smod" : "mod",
                    AluOp.Xor => "xor",
                    AluOp.Mov => "mov",
                    _ => "arsh",
                };
                return i.SrcIsReg ? $"{name}{w} {d}, {s}" : $"{name}{w} {d}, {i.Imm}";
            }

            case OpClass.Ldx:
                return $"ldx{(i.Mode == MemMode.MemSx ? "s" : string.Empty)}{size} {d}, [{s}{i.Offset:+0;-0}]";
            case OpClass.St:
                return $"st{size} {mem}, {i.Imm}";
            case OpClass.Stx when i.Mode == MemMode.Mem:
                return $"stx{size} {mem}, {s}";
            case OpClass.Stx:
            {
                string w = i.MemSize == MemSize.W ? "32" : string.Empty;
                string op = (i.Imm & ~1) switch
                {
                    0x00 => "add",
                    0x40 => "or",
                    0x50 => "and",
                    0xa0 => "xor",
                    0xe0 => "xchg",
                    _ => "cmpxchg",
                };
                string fetch = (i.Imm & 1) != 0 && i.Imm is not (0xe1 or 0xf1) ? "fetch " : string.Empty;
                return $"lock {fetch}{op}{w} {mem}, {s}";
            }

            case OpClass.Ld when i.Mode == MemMode.Abs:
                return $"ldabs{size} {i.Imm}";
            case OpClass.Ld when i.Mode == MemMode.Ind:
                return $"ldind{size} {s}, {i.Imm}";
            case OpClass.Ld:
                return i.SrcReg == 0 ? $"lddw {d}, 0x{BpfProgram.Combine(i, slots[1]):x}" : null;
            default:
                return PrintJmp(i, d, s);
        }
    }

    private static string? PrintJmp(Instruction i, string d, string s)
    {
        switch (i.Opcode)
        {
            case Op.Ja:
                return $"ja {i.Offset:+0;-0}";
            case Op.Ja32:
                return $"ja32 {i.Imm:+0;-0}";
            case Op.Exit:
                return "exit";
            case Op.CallX:
                return $"call {d}";
            case Op.Call:
                return (CallKind)i.SrcReg switch
                {
                    CallKind.Helper => $"call {i.Imm}",
                    CallKind.Local => $"call local {i.Imm:+0;-0}",
                    _ => i.Offset == 0 ? $"call runtime {i.Imm}" : null,
                };
        }

        string w = i.Class == OpClass.Jmp32 ? "32" : string.Empty;
        string name = i.JmpOp switch
        {
            JmpOp.Jeq => "jeq",
            JmpOp.Jgt => "jgt",
            JmpOp.Jge => "jge",
            JmpOp.Jset => "jset",
            JmpOp.Jne => "jne",
            JmpOp.Jsgt => "jsgt",
            JmpOp.Jsge => "jsge",
            JmpOp.Jlt => "jlt",
            JmpOp.Jle => "jle",
            JmpOp.Jslt => "jslt",
            _ => "jsle",
        };
        return $"{name}{w} {d}, {(i.SrcIsReg ? s : i.Imm.ToString(System.Globalization.CultureInfo.InvariantCulture))}, {i.Offset:+0;-0}";
    }
}
