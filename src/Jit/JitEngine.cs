using System.Runtime.CompilerServices;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Memory;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Jit;

/// <summary>Runs a <see cref="JitProgram"/>: the JIT's <see cref="IBpfEngine"/> (engine <c>jit-checked</c>, or
/// <c>jit</c> for a program compiled from a <see cref="VerifiedProgram"/>), with the interpreter's run semantics.</summary>
/// <remarks>
/// <para>Like <see cref="BpfInterpreter"/>: stacks of 8 frames of 512 bytes in pinned memory, each registered as a
/// region while it is live and zeroed when it opens; r1/r2 (memory runs) or r1 = xdp_md (XDP runs); LD_ABS/LD_IND read
/// the memory or the bare packet; callbacks (bpf_loop, bpf_for_each_map_elem, timers) run one frame above the helper's
/// caller (<see cref="IBpfCallbackInvoker"/>); tail calls run the target in the caller's frame. A run allocates
/// nothing (a tail-call target or a callback entry is compiled the first time it is reached, then cached).</para>
/// <para>An activation (a run, or one callback) catches what its helpers throw and turns it into the interpreter's
/// fault: a fault without an instruction gets the call's, anything else becomes "helper X failed: ...".</para>
/// <para>One instance runs on one thread at a time.</para>
/// </remarks>
public sealed unsafe class JitEngine : IBpfEngine, IBpfCallbackInvoker
{
    private readonly JitProgram _main;
    private readonly JitState _s;
    private readonly XdpContext _ownXdp = new();
    private readonly Dictionary<ExecutableProgram, JitProgram> _compiled = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<ExecutableProgram, VerifiedProgram> _verified = new(ReferenceEqualityComparer.Instance);
    private bool _running;
    private bool _disposed;

    /// <summary>An engine that runs <paramref name="program"/>.</summary>
    /// <param name="program">The compiled program.</param>
    /// <param name="options">Limits; <see cref="InterpreterOptions.Default"/> when null.</param>
    /// <param name="env">The run state to share with the loader; a new one when null. Its
    /// <see cref="RuntimeEnv.Callbacks"/> becomes this engine.</param>
    /// <param name="verified">Tokens for other programs it may tail-call into: those run unchecked too; any other
    /// target is compiled in checked mode.</param>
    public JitEngine(JitProgram program, InterpreterOptions? options = null, RuntimeEnv? env = null, IEnumerable<VerifiedProgram>? verified = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        options ??= InterpreterOptions.Default;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.InstructionBudget, nameof(options));
        _main = program;
        Env = env ?? new RuntimeEnv();
        Env.Callbacks = this;
        _s = new JitState(Env, options.InstructionBudget) { Engine = this, Current = program };
        _compiled[program.Executable] = program;
        foreach (var v in verified ?? [])
        {
            _verified[v.Program] = v;
        }
    }

    /// <summary>The program being run.</summary>
    public JitProgram Program => _main;

    /// <inheritdoc/>
    public string EngineName => _main.Mode == JitMode.Checked ? JitEngineFactory.CheckedName : JitEngineFactory.UncheckedName;

    /// <inheritdoc/>
    public ExecutableProgram Executable => _main.Executable;

    /// <inheritdoc/>
    public RuntimeEnv Env { get; }

    /// <inheritdoc/>
    public RunResult RunWithMemory(Span<byte> memory)
    {
        var regions = BeginRun();
        int baseCount = regions.Count;
        try
        {
            fixed (byte* p = memory)
            {
                if (memory.Length > 0)
                {
                    regions.Add(new MemoryRegion((ulong)p, (ulong)memory.Length, RegionKind.Input, Writable: true, "input memory"));
                }

                return Run((ulong)p, (ulong)memory.Length, p, memory.Length, JitState.NoContext, null);
            }
        }
        finally
        {
            EndRun(regions, baseCount);
        }
    }

    /// <summary>Runs as an XDP program: r1 = a read-only <c>struct xdp_md</c> over exactly <paramref name="packet"/>.</summary>
    public RunResult RunXdp(Span<byte> packet) => RunXdp(packet, 1, 0);

    /// <inheritdoc/>
    public RunResult RunXdp(Span<byte> packet, uint ingressIfindex, uint rxQueueIndex)
    {
        var regions = BeginRun();
        int baseCount = regions.Count;
        try
        {
            fixed (byte* p = packet)
            {
                // An empty packet still gets a non-null data pointer: the first stack guard, where nothing is registered.
                ulong data = p != null ? (ulong)p : _s.GuardAddress;
                _ownXdp.Set(data, data + (ulong)packet.Length, ingressIfindex, rxQueueIndex);
                int contextRegion = regions.Add(_ownXdp.Region);
                if (packet.Length > 0)
                {
                    regions.Add(_ownXdp.PacketRegion);
                }

                return Run(_ownXdp.Address, 0, (byte*)data, packet.Length, contextRegion, _ownXdp);
            }
        }
        finally
        {
            EndRun(regions, baseCount);
        }
    }

    /// <inheritdoc/>
    public RunResult RunXdp(XdpBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var regions = BeginRun();
        int baseCount = regions.Count;
        try
        {
            Env.Xdp = buffer;

            // The buffer's pages are its own: no overlap scan, and the same names at the same indices as last run, so
            // registering them stores no reference (RegionTable.Push).
            int contextRegion = regions.Push(buffer.Context.Region);
            Env.PacketRegionIndex = regions.Push(buffer.PacketRegion);
            return Run(buffer.Context.Address, 0, null, 0, contextRegion, buffer.Context);
        }
        finally
        {
            Env.PacketRegionIndex = -1;
            Env.Xdp = null;
            EndRun(regions, baseCount);
        }
    }

    /// <summary>Later runs throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose() => _disposed = true;

    /// <inheritdoc/>
    ulong IBpfCallbackInvoker.InvokeCallback(ulong function, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        // A callback is a BPF-to-BPF call made by the helper: a new frame above the one that called the helper, in the
        // program that called it. kernel: the verifier's callback frames (push_callback_call()).
        var code = _s.Current ?? _main;
        if (!code.Executable.TryGetSlot(function, out int pc))
        {
            // A function of another program: a timer callback set by a tail-called program, for instance.
            if (!ExecutableProgram.TryFindFunction(function, out var other, out pc))
            {
                throw ExecutionFaults.NotAFunction(function, code.Executable.Name);
            }

            code = CodeFor(other);
        }

        // Outside a run (a timer firing between packets) the callback is the only frame: frame 1 above an empty frame 0.
        bool outside = !_running;
        if (outside)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _running = true;
            _s.Executed = 0;
            _s.Depth = 0;
            SetContext(JitState.NoContext, null);
        }

        var caller = _s.Current;
        int depth = _s.Depth;
        int callerPc = _s.Pc;
        if (depth + 1 >= BpfInterpreter.MaxCallFrames)
        {
            if (outside)
            {
                _running = false;
            }

            throw ExecutionFaults.CallbackStackExceeded();
        }

        var regions = Env.Regions;
        int count = regions.Count;
        try
        {
            int entry = code.EntryOf(pc);
            if (entry < 0)
            {
                code = code.WithEntry(pc);
                entry = code.EntryOf(pc);
            }

            ClearArgs(code);
            _s.Args[1] = r1;
            _s.Args[2] = r2;
            _s.Args[3] = r3;
            _s.Args[4] = r4;
            _s.Args[5] = r5;
            _s.Args[10] = _s.EnterFrame(depth + 1, code.FrameClear(pc));
            return Activate(code, entry, depth + 1);
        }
        finally
        {
            regions.Truncate(count);
            _s.Depth = depth;
            _s.Current = caller;
            _s.Pc = callerPc;
            _s.Abort = false;
            if (outside)
            {
                _running = false;
            }
        }
    }

    /// <summary>The compiled code of <paramref name="program"/> (a tail-call target, or the program a callback's address
    /// belongs to): compiled the first time, in this engine's mode when it is the main program or verified, checked
    /// otherwise.</summary>
    internal JitProgram CodeFor(ExecutableProgram program)
    {
        if (_compiled.TryGetValue(program, out var code))
        {
            return code;
        }

        code = _main.Mode == JitMode.Unchecked && _verified.TryGetValue(program, out var token)
            ? JitCompiler.Compile(token, _main.Helpers, _main.Options with { DumpIl = null })
            : JitCompiler.Compile(program, _main.Helpers, _main.Options with { DumpIl = null });
        _compiled[program] = code;
        return code;
    }

    private RegionTable BeginRun()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_running)
        {
            throw new InvalidOperationException("this engine is already running a program (runs do not nest)");
        }

        _running = true;
        Env.TailCallCount = 0;
        Env.PendingTailCall = null;
        return Env.Regions;
    }

    private void EndRun(RegionTable regions, int baseCount)
    {
        regions.Truncate(baseCount);
        _running = false;
        _s.LdPacket = null;
        _s.LdPacketLength = 0;
        SetContext(JitState.NoContext, null);
    }

    // Ctx is read only when an access hits CtxAddress or ContextRegion, so a run without a context leaves the last
    // one in place instead of storing null: the next run then stores nothing (no GC write barrier per run).
    private void SetContext(int region, XdpContext? ctx)
    {
        _s.ContextRegion = region;
        _s.CtxAddress = ctx?.Address ?? JitState.NoContextAddress;
        if (ctx is not null && !ReferenceEquals(_s.Ctx, ctx))
        {
            _s.Ctx = ctx;
        }
    }

    // Checked code reads r0-r10 as the interpreter's zeroed register file gives them. Unchecked code needs no clearing:
    // the verifier proved no register is read before it is written (kernel: "R%d !read_ok"), so stale values are
    // never observed.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ClearArgs(JitProgram code)
    {
        if (code.Mode == JitMode.Checked)
        {
            _s.ClearArgs();
        }
    }

    // The outermost activation: frame 0, r1 and r2 as given, the main program from slot 0.
    private RunResult Run(ulong r1, ulong r2, byte* ldPacket, int ldPacketLength, int contextRegion, XdpContext? ctx)
    {
        _s.Executed = 0;
        _s.Depth = 0;
        _s.Abort = false;
        SetContext(contextRegion, ctx);
        _s.LdPacket = ldPacket;
        _s.LdPacketLength = ldPacketLength;
        ClearArgs(_main);
        _s.Args[1] = r1;
        _s.Args[2] = r2;
        _s.Args[10] = _s.EnterFrame(0, _main.FrameClear(0));
        ulong r0 = Activate(_main, 0, 0);
        return new RunResult(r0, _s.Executed);
    }

    // Runs one activation (a run, or a callback) and turns what its helpers threw into the interpreter's faults.
    // The interpreter wraps per helper call; here one handler per activation does the same work: the innermost
    // activation catches first, the state still names the call in progress (its program and index), and a fault
    // that already names an instruction (from a nested activation, or from the compiled code itself) passes through.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Activate(JitProgram code, int entry, int depth)
    {
        _s.Pc = -1;
        ulong r0;
        try
        {
            r0 = code.Body(_s, entry, depth);
        }
        catch (Exception e) when (e is not ExecutionFaultException { Pc: >= 0 } && _s.Pc >= 0)
        {
            throw FromHelper(e);
        }

        _s.Abort = false;
        return r0;
    }

    // The helper call in progress is at _s.Pc of the current program (a callx keeps the id it called).
    private Exception FromHelper(Exception e)
    {
        var code = _s.Current ?? _main;
        var insn = code.Executable.Slots[_s.Pc];
        bool kfunc = insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Kfunc;
        long id = insn.Opcode == Op.CallX ? _s.CallxId : insn.Imm;
        return ExecutionFaults.FromHelper(_s.Pc, kfunc, id, code.Helpers, e) ?? e;
    }
}
