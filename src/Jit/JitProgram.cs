using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;

namespace VethXdp.Jit;

/// <summary>The compiled body of a program: <c>ulong body(state, entry, baseDepth)</c>.</summary>
internal delegate ulong JitBody(JitState state, int entry, int baseDepth);

/// <summary>A program compiled to IL: one collectible <see cref="System.Reflection.Emit.DynamicMethod"/> that holds all
/// its functions (BPF-to-BPF calls run on an explicit call stack inside it). Stateless: any number of
/// <see cref="JitEngine"/>s may run it, each with its own stacks and environment.</summary>
/// <remarks>The method is reclaimed with this object (dynamic methods are collectible), so compiling and dropping
/// programs does not grow memory.</remarks>
public sealed class JitProgram
{
    // Internal fields the compiled code reads (ldfld).
    internal HelperFunc[] HelperDelegates = [];

    // Checked mode: per load/store site, the index of the region it hit last (where its region search starts). Only a
    // hint, checked on every use: engines that share the program and race on a slot cost each other a search, never
    // a wrong answer.
    internal int[] AccessHints = [];


    private readonly int[] _entryOf;
    private readonly Lock _variantsLock = new();
    private Dictionary<int, JitProgram>? _variants;

    internal JitProgram(ExecutableProgram executable, JitMode mode, HelperTable helpers, JitOptions options, IReadOnlyList<int> entries)
    {
        Executable = executable;
        Mode = mode;
        Helpers = helpers;
        Options = options;
        _entryOf = new int[executable.Program.Length];
        Array.Fill(_entryOf, -1);
        for (int i = 0; i < entries.Count; i++)
        {
            _entryOf[entries[i]] = i;
        }

        Entries = [.. entries];
    }

    /// <summary>The program that was compiled.</summary>
    public ExecutableProgram Executable { get; }

    /// <summary>The program's name.</summary>
    public string Name => Executable.Name;

    /// <summary>Checked (memory checked against the run's regions) or unchecked (a verified program).</summary>
    public JitMode Mode { get; }

    /// <summary>The helper table the calls were bound to when the program was compiled.</summary>
    public HelperTable Helpers { get; }

    /// <summary>Bytes of IL in the compiled method.</summary>
    public int IlSize { get; internal set; }

    /// <summary>Slots where execution may enter the method: slot 0 and every function start.</summary>
    public IReadOnlyList<int> Entries { get; }

    /// <summary>The IL listing with the eBPF instructions interleaved, when <see cref="JitOptions.DumpIl"/> was set.</summary>
    public string? IlListing { get; internal set; }

    internal JitOptions Options { get; }

    internal JitBody Body { get; set; } = null!;

    /// <summary>True when the program calls a helper or kfunc (a <c>call</c> that is not BPF-to-BPF, or a
    /// <c>callx</c>): only then can a run reach the environment, the region table, a callback or a tail call.</summary>
    internal bool CallsHelpers { get; init; }

    /// <summary>True when a call may need the run's own state: its regions (context, packet, stack), Env.Xdp, a
    /// callback or a tail call (a call to anything but VerifiedHelpers.IsRunStateFree).</summary>
    internal bool NeedsRunState { get; set; }

    /// <summary>True when a call needs Env.Xdp (the frame) and nothing more of the run's state: the verified
    /// bpf_xdp_load_bytes / store_bytes.</summary>
    internal bool NeedsXdpFrame { get; set; }

    /// <summary>True when the program has LD_ABS / LD_IND instructions.</summary>
    internal bool HasLegacyLoads { get; init; }

    /// <summary>Stack bytes cleared when the function at each slot opens a frame (see JitCompiler.FrameClearSizes).</summary>
    internal int[] FrameClearBySlot { get; init; } = [];

    /// <summary>Stack bytes to clear when frame 0 opens for slot 0.</summary>
    internal int MainFrameClear => FrameClearBySlot.Length > 0 ? FrameClearBySlot[0] : BpfInterpreter.StackSize;

    /// <summary>Stack bytes to clear when the function that starts at <paramref name="pc"/> opens a frame.</summary>
    internal int FrameClear(int pc) => (uint)pc < (uint)FrameClearBySlot.Length ? FrameClearBySlot[pc] : BpfInterpreter.StackSize;

    /// <summary>The entry index of slot <paramref name="pc"/>, or -1 when the method has no entry there.</summary>
    internal int EntryOf(int pc) => (uint)pc < (uint)_entryOf.Length ? _entryOf[pc] : -1;

    /// <summary>This program compiled with one more entry, at <paramref name="pc"/> (a callback a helper was given an
    /// address for that no call or function address names). Compiled once, then cached. Always checked: the verifier
    /// vouches only for the function starts it saw (kernel: a PTR_TO_FUNC cannot be moved), not for other entries.</summary>
    internal JitProgram WithEntry(int pc)
    {
        lock (_variantsLock)
        {
            _variants ??= [];
            if (!_variants.TryGetValue(pc, out var variant))
            {
                variant = JitCompiler.CompileCore(Executable, Helpers, JitMode.Checked, Options with { DumpIl = null }, pc);
                _variants[pc] = variant;
            }

            return variant;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({(Mode == JitMode.Checked ? "jit-checked" : "jit")}, {IlSize} bytes of IL)";
}
