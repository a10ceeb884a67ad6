using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Jit;

/// <summary>Makes <see cref="JitEngine"/>s: <see cref="Checked"/> (<c>jit-checked</c>, any program) or
/// <see cref="Unchecked"/> (<c>jit</c>, only programs the verifier's tokens name).</summary>
public sealed class JitEngineFactory : IBpfEngineFactory
{
    /// <summary>The checked JIT's engine name.</summary>
    public const string CheckedName = "jit-checked";

    /// <summary>The unchecked JIT's engine name.</summary>
    public const string UncheckedName = "jit";

    private readonly Dictionary<ExecutableProgram, VerifiedProgram> _verified = new(ReferenceEqualityComparer.Instance);
    private bool _trustAll;

    private JitEngineFactory(JitMode mode, JitOptions? options, IEnumerable<VerifiedProgram>? verified)
    {
        Mode = mode;
        Options = options ?? JitOptions.Default;
        foreach (var v in verified ?? [])
        {
            _verified[v.Program] = v;
        }
    }

    /// <summary>The checked JIT with default options.</summary>
    public static JitEngineFactory Checked { get; } = new(JitMode.Checked, null, null);

    /// <summary>The checked JIT with <paramref name="options"/> (e.g. an IL listing).</summary>
    public static JitEngineFactory CheckedWith(JitOptions options) => new(JitMode.Checked, options, null);

    /// <summary>The unchecked JIT for the programs <paramref name="verified"/> names; any other program is refused with
    /// <see cref="UnverifiedProgramException"/>.</summary>
    public static JitEngineFactory Unchecked(IEnumerable<VerifiedProgram> verified, JitOptions? options = null) =>
        new(JitMode.Unchecked, options, verified ?? throw new ArgumentNullException(nameof(verified)));

    /// <summary>The unchecked JIT for any program, without a token: for this assembly's tests only (unchecked runs of
    /// programs known to stay in bounds, such as the kernel-verified corpus).</summary>
    internal static JitEngineFactory UncheckedWithoutToken() => new(JitMode.Unchecked, null, null) { _trustAll = true };

    /// <summary>Checked or unchecked.</summary>
    public JitMode Mode { get; }

    /// <summary>The compiler options.</summary>
    public JitOptions Options { get; }

    /// <inheritdoc/>
    public string Name => Mode == JitMode.Checked ? CheckedName : UncheckedName;

    /// <inheritdoc/>
    public IBpfEngine Create(ExecutableProgram program, HelperTable? helpers, InterpreterOptions? options, RuntimeEnv? env)
    {
        ArgumentNullException.ThrowIfNull(program);
        JitProgram code;
        if (Mode == JitMode.Checked)
        {
            code = JitCompiler.Compile(program, helpers, Options);
        }
        else if (_verified.TryGetValue(program, out var token))
        {
            code = JitCompiler.Compile(token, helpers, Options);
        }
        else if (_trustAll)
        {
            code = JitCompiler.CompileUnverified(program, helpers, Options);
        }
        else
        {
            throw new UnverifiedProgramException(program.Name);
        }

        return new JitEngine(code, options, env, _verified.Values);
    }
}
