using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>Small builders for interpreter tests: one instruction per call, named like the conformance assembler.</summary>
internal static class Asm
{
    public const Register R0 = Register.R0, R1 = Register.R1, R2 = Register.R2, R3 = Register.R3, R4 = Register.R4;
    public const Register R5 = Register.R5, R6 = Register.R6, R7 = Register.R7, R8 = Register.R8, R9 = Register.R9, R10 = Register.R10;

    public static Instruction I(byte op, Register dst = 0, Register src = 0, short off = 0, int imm = 0) => new(op, dst, src, off, imm);

    public static Instruction Mov64(Register dst, int imm) => new(Op.Mov64Imm, dst, 0, 0, imm);
    public static Instruction Mov64(Register dst, Register src) => new(Op.Mov64Reg, dst, src, 0, 0);
    public static Instruction Mov32(Register dst, int imm) => new(Op.Mov32Imm, dst, 0, 0, imm);
    public static Instruction Exit() => new(Op.Exit, 0, 0, 0, 0);

    public static Instruction[] LdDw(Register dst, ulong value) =>
    [
        new(Op.LdDw, dst, 0, 0, (int)(uint)value),
        new(0, 0, 0, 0, (int)(uint)(value >> 32)),
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

        return list.ToArray();
    }

    public static RunResult Run(Instruction[] slots, byte[]? memory = null, HelperTable? helpers = null, long budget = InterpreterOptions.DefaultInstructionBudget)
    {
        using var vm = new BpfInterpreter(BpfProgram.Create(slots), helpers, new InterpreterOptions { InstructionBudget = budget });
        return vm.RunWithMemory(memory ?? []);
    }

    public static ulong R0Of(params object[] parts) => Run(Prog(parts)).R0;

    public static ExecutionFaultException Fault(Instruction[] slots, byte[]? memory = null, HelperTable? helpers = null, long budget = InterpreterOptions.DefaultInstructionBudget) =>
        Assert.Throws<ExecutionFaultException>(() => Run(slots, memory, helpers, budget));
}
