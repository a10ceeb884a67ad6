namespace VethXdp.Vm.Interpreter;

/// <summary>Limits of a <see cref="BpfInterpreter"/>.</summary>
public sealed record InterpreterOptions
{
    /// <summary>The default budget: 1,000,000 executed instructions (the kernel's verifier insn limit).</summary>
    public const long DefaultInstructionBudget = 1_000_000;

    /// <summary>The options used when none are given.</summary>
    public static InterpreterOptions Default { get; } = new();

    /// <summary>Instructions one run may execute before it stops with <see cref="FaultKind.BudgetExceeded"/>.</summary>
    public long InstructionBudget { get; init; } = DefaultInstructionBudget;
}
