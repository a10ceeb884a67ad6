using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Runtime;

/// <summary>The checked reference interpreter as an <see cref="IBpfEngine"/> (engine name <c>interp</c>).</summary>
public sealed class InterpreterEngine : IBpfEngine
{
    /// <summary>The engine name commands take: <c>interp</c>.</summary>
    public const string Name = "interp";

    /// <summary>Prepares <paramref name="program"/>; see <see cref="BpfInterpreter(ExecutableProgram, HelperTable?, InterpreterOptions?, RuntimeEnv?)"/>.</summary>
    public InterpreterEngine(ExecutableProgram program, HelperTable? helpers, InterpreterOptions? options, RuntimeEnv? env)
    {
        Interpreter = new BpfInterpreter(program, helpers, options, env);
    }

    /// <summary>The interpreter (for its tracing hooks and anything else beyond <see cref="IBpfEngine"/>).</summary>
    public BpfInterpreter Interpreter { get; }

    /// <inheritdoc/>
    public string EngineName => Name;

    /// <inheritdoc/>
    public ExecutableProgram Executable => Interpreter.Executable;

    /// <inheritdoc/>
    public RuntimeEnv Env => Interpreter.Env;

    /// <inheritdoc/>
    public RunResult RunWithMemory(Span<byte> memory) => Interpreter.RunWithMemory(memory);

    /// <inheritdoc/>
    public RunResult RunXdp(Span<byte> packet, uint ingressIfindex, uint rxQueueIndex) => Interpreter.RunXdp(packet, ingressIfindex, rxQueueIndex);

    /// <inheritdoc/>
    public RunResult RunXdp(XdpBuffer buffer) => Interpreter.RunXdp(buffer);

    /// <inheritdoc/>
    public ulong RunXdpRepeat(XdpBuffer buffer, long runs) => Interpreter.RunXdpRepeat(buffer, runs);

    /// <inheritdoc/>
    public void Dispose() => Interpreter.Dispose();
}

/// <summary>Makes <see cref="InterpreterEngine"/>s: the default engine.</summary>
public sealed class InterpreterEngineFactory : IBpfEngineFactory
{
    private InterpreterEngineFactory()
    {
    }

    /// <summary>The one instance.</summary>
    public static InterpreterEngineFactory Instance { get; } = new();

    /// <inheritdoc/>
    public string Name => InterpreterEngine.Name;

    /// <inheritdoc/>
    public IBpfEngine Create(ExecutableProgram program, HelperTable? helpers, InterpreterOptions? options, RuntimeEnv? env) =>
        new InterpreterEngine(program, helpers, options, env);
}
