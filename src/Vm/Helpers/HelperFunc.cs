namespace VethXdp.Vm.Helpers;

/// <summary>A BPF helper: five argument registers in, r0 out. The interpreter and the JIT call the same delegate.</summary>
/// <param name="r1">Argument 1.</param>
/// <param name="r2">Argument 2.</param>
/// <param name="r3">Argument 3.</param>
/// <param name="r4">Argument 4.</param>
/// <param name="r5">Argument 5.</param>
/// <param name="env">The state of the current run.</param>
/// <returns>The value of r0 after the call.</returns>
public delegate ulong HelperFunc(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env);
