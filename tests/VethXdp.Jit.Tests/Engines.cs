using System.Text.RegularExpressions;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Tests;

/// <summary>The outcome of one run: r0 and the count, or the fault; the memory after.</summary>
internal sealed record Outcome(ulong R0, long Instructions, FaultKind? Fault, int FaultPc, string? Message, byte[] Memory)
{
    /// <summary>Host addresses differ between engines (each has its own stacks): compare messages without them.</summary>
    public string? NormalizedMessage => Message is null ? null : Regex.Replace(Message, "0x[0-9a-f]+", "0x?");

    public override string ToString() => Fault is null
        ? $"r0=0x{R0:x} insns={Instructions} mem={Convert.ToHexString(Memory)}"
        : $"fault {Fault} at {FaultPc}: {Message} mem={Convert.ToHexString(Memory)}";
}

/// <summary>Runs the same program on the interpreter and the JIT.</summary>
internal static class Engines
{
    public static Outcome Interp(Instruction[] slots, byte[]? memory = null, bool xdp = false, HelperTable? helpers = null, long budget = InterpreterOptions.DefaultInstructionBudget)
    {
        var mem = (byte[])(memory ?? []).Clone();
        using var vm = new BpfInterpreter(BpfProgram.Create(slots), helpers, new InterpreterOptions { InstructionBudget = budget });
        return Capture(() => xdp ? vm.RunXdp(mem) : vm.RunWithMemory(mem), mem);
    }

    public static Outcome Jit(Instruction[] slots, byte[]? memory = null, bool xdp = false, HelperTable? helpers = null, long budget = InterpreterOptions.DefaultInstructionBudget, bool unchecked_ = false)
    {
        var mem = (byte[])(memory ?? []).Clone();
        var exe = new ExecutableProgram(BpfProgram.Create(slots));
        var code = unchecked_ ? JitCompiler.CompileUnverified(exe, helpers) : JitCompiler.Compile(exe, helpers);
        using var vm = new JitEngine(code, new InterpreterOptions { InstructionBudget = budget });
        return Capture(() => xdp ? vm.RunXdp(mem) : vm.RunWithMemory(mem), mem);
    }

    /// <summary>Runs both and asserts they agree (r0, count, fault kind/pc/message, memory); returns the outcome.</summary>
    public static Outcome Same(Instruction[] slots, byte[]? memory = null, bool xdp = false, HelperTable? helpers = null, long budget = InterpreterOptions.DefaultInstructionBudget)
    {
        var a = Interp(slots, memory, xdp, helpers, budget);
        var b = Jit(slots, memory, xdp, helpers, budget);
        AssertSame(a, b);
        return b;
    }

    public static void AssertSame(Outcome interp, Outcome jit)
    {
        Assert.Equal(interp.Fault, jit.Fault);
        Assert.Equal(interp.FaultPc, jit.FaultPc);
        Assert.Equal(interp.NormalizedMessage, jit.NormalizedMessage);
        Assert.Equal(interp.R0, jit.R0);
        Assert.Equal(interp.Instructions, jit.Instructions);
        Assert.Equal(interp.Memory, jit.Memory);
    }

    public static bool Agree(Outcome a, Outcome b) =>
        a.Fault == b.Fault && a.FaultPc == b.FaultPc && a.NormalizedMessage == b.NormalizedMessage && a.R0 == b.R0
        && a.Instructions == b.Instructions && a.Memory.AsSpan().SequenceEqual(b.Memory);

    private static Outcome Capture(Func<RunResult> run, byte[] mem)
    {
        try
        {
            var r = run();
            return new Outcome(r.R0, r.InstructionsExecuted, null, -1, null, mem);
        }
        catch (ExecutionFaultException e)
        {
            return new Outcome(0, 0, e.Kind, e.Pc, e.Message, mem);
        }
    }
}
