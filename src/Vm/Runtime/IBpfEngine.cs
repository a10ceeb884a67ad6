using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Runtime;

/// <summary>Something that runs one prepared program: the checked interpreter, the checked JIT, or the unchecked JIT.
/// Every engine gives the same observable results (r0, memory, maps, faults with the same messages).</summary>
/// <remarks>An engine owns its stacks and its <see cref="RuntimeEnv"/> (whose <see cref="RuntimeEnv.Callbacks"/> it is);
/// one instance runs on one thread at a time, and a run allocates nothing.</remarks>
public interface IBpfEngine : IDisposable
{
    /// <summary>The engine's name as commands take it: <c>interp</c>, <c>jit-checked</c> or <c>jit</c>.</summary>
    string EngineName { get; }

    /// <summary>The program runs start with.</summary>
    ExecutableProgram Executable { get; }

    /// <summary>The run state helpers see: region table, clock, maps, output.</summary>
    RuntimeEnv Env { get; }

    /// <summary>Runs with r1 = the address of <paramref name="memory"/> (0 when empty) and r2 = its length; the memory
    /// is a writable region for the run, and LD_ABS/LD_IND read it as the packet.</summary>
    /// <exception cref="ExecutionFaultException">The run faulted.</exception>
    RunResult RunWithMemory(Span<byte> memory);

    /// <summary>Runs as an XDP program: r1 = a read-only <c>struct xdp_md</c> over exactly <paramref name="packet"/>.</summary>
    /// <exception cref="ExecutionFaultException">The run faulted.</exception>
    RunResult RunXdp(Span<byte> packet, uint ingressIfindex, uint rxQueueIndex);

    /// <summary>Runs as an XDP program over <paramref name="buffer"/> (loaded by the caller): r1 = its xdp_md.</summary>
    /// <exception cref="ExecutionFaultException">The run faulted.</exception>
    RunResult RunXdp(XdpBuffer buffer);
}
