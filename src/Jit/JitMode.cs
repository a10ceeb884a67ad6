namespace VethXdp.Jit;

/// <summary>How compiled code treats memory: checked against the run's regions, or trusted because the verifier
/// accepted the program.</summary>
public enum JitMode
{
    /// <summary>Every load and store is checked against the run's <see cref="Vm.Memory.RegionTable"/> with the
    /// interpreter's semantics and fault messages (engine <c>jit-checked</c>); any program is accepted.</summary>
    Checked,

    /// <summary>Loads and stores go straight to memory (engine <c>jit</c>); only a program with a
    /// <see cref="Vm.Programs.VerifiedProgram"/> token is accepted.</summary>
    Unchecked,
}
