using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;

namespace VethXdp.Vm.Runtime;

/// <summary>Makes engines of one kind; what <see cref="XdpRunner"/>, the conformance runner and the commands take to
/// choose an engine (<see cref="InterpreterEngineFactory"/> here; the JIT's factories in VethXdp.Jit).</summary>
public interface IBpfEngineFactory
{
    /// <summary>The engine's name as commands take it: <c>interp</c>, <c>jit-checked</c> or <c>jit</c>.</summary>
    string Name { get; }

    /// <summary>An engine that runs <paramref name="program"/>.</summary>
    /// <param name="program">The prepared program (map references resolved).</param>
    /// <param name="helpers">Helpers by id; <see cref="HelperTable.CreateDefault"/> when null.</param>
    /// <param name="options">Limits; <see cref="InterpreterOptions.Default"/> when null.</param>
    /// <param name="env">The run state to share with the loader (maps, clock, CPU, output); a new one when null.</param>
    /// <exception cref="Isa.BpfFormatException">The program is malformed.</exception>
    /// <exception cref="UnverifiedProgramException">The engine runs only verified programs and this one was not.</exception>
    IBpfEngine Create(ExecutableProgram program, HelperTable? helpers, InterpreterOptions? options, RuntimeEnv? env);
}
