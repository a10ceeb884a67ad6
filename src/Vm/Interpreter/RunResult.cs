namespace VethXdp.Vm.Interpreter;

/// <summary>The outcome of one run.</summary>
/// <param name="R0">The 64-bit value of r0 at the final exit.</param>
/// <param name="InstructionsExecuted">Instructions executed (a 64-bit immediate load counts once).</param>
public readonly record struct RunResult(ulong R0, long InstructionsExecuted);
