using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Tests;

/// <summary>One-instruction builders for JIT tests (the interpreter tests' DSL).</summary>
internal static class Asm
{
    public const Register R0 = Register.R0, R1 = Register.R1, R2 = Register.R2, R3 = Register.R3, R4 = Register.R4;
    public const Register R5 = Register.R5, R6 = Register.R6, R7 = Register.R7, R8 = Register.R8, R9 = Register.R9, R10 = Register.R10;

    public static Instruction I(byte op, Register dst = 0, Register src = 0, short off = 0, int imm = 0) => new(op, dst, src, off, imm);

    public static Instruction Mov64(Register dst, int imm) => new(Op.Mov64Imm, dst, 0, 0, imm);

    public static Instruction Mov64(Register dst, Register src) => new(Op.Mov64Reg, dst, src, 0, 0);

    public static Instruction Exit() => new(Op.Exit, 0, 0, 0, 0);

    public static Instruction Call(int helper) => new(Op.Call, 0, 0, 0, helper);

    public static Instruction CallLocal(int relative) => new(Op.Call, 0, (Register)CallKind.Local, 0, relative);

    public static Instruction[] LdDw(Register dst, ulong value) =>
    [
        new(Op.LdDw, dst, 0, 0, (int)(uint)value),
        new(0, 0, 0, 0, (int)(uint)(value >> 32)),
    ];

    public static Instruction[] LdFunc(Register dst, int relative) =>
    [
        new(Op.LdDw, dst, (Register)PseudoSrc.Func, 0, relative),
        new(0, 0, 0, 0, 0),
    ];

    public static Instruction[] Prog(params object[] parts)
    {
        var list = new List<Instruction>();
        foreach (var p in parts)
        {
            switch (p)
            {
                case Instruction i: list.Add(i); break;
                case Instruction[] a: list.AddRange(a); break;
                default: throw new ArgumentException($"not an instruction: {p}");
            }
        }

        return [.. list];
    }
}
