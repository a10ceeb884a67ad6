using System.Runtime.CompilerServices;
using VethXdp.Vm.Interpreter;

// Only the verifier can say a program was verified: it alone creates VerifiedProgram tokens.
[assembly: InternalsVisibleTo("VethXdp.Verifier")]

namespace VethXdp.Vm.Programs;

/// <summary>The verifier's word that <see cref="Program"/> passed verification: the token the unchecked JIT
/// (engine <c>jit</c>) demands before it compiles a program without runtime checks.</summary>
/// <remarks>The constructor is internal and only VethXdp.Verifier sees Vm's internals (besides Vm's own tests), so no
/// other code can make one: the JIT needs no reference to the verifier, and an unverified program cannot reach the
/// unchecked engine.</remarks>
public sealed class VerifiedProgram
{
    internal VerifiedProgram(ExecutableProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        Program = program;
    }

    /// <summary>The program as it was verified (after the verifier's fixups), ready to run.</summary>
    public ExecutableProgram Program { get; }

    /// <inheritdoc/>
    public override string ToString() => $"verified {Program.Name}";
}
