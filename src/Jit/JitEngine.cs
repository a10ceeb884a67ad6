using System.Diagnostics.CodeAnalysis;
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
/// <para>Unchecked (<c>jit</c>) XDP runs over an <see cref="XdpBuffer"/> take shorter paths: a program whose helper calls
/// need nothing of the run's own state runs lean (no regions, no Env.Xdp; RunXdpLean), any other without the general
/// path's indirections (RunXdpUnchecked). Checked XDP runs over an <see cref="XdpBuffer"/> register the run's context,
/// packet and frame 0 only when the run first needs the region table (RunXdpChecked, as the interpreter does); the
/// other entry points keep the general path.</para>
/// <para>One instance runs on one thread at a time.</para>
/// </remarks>
public sealed unsafe class JitEngine : IBpfEngine, IBpfCallbackInvoker
{
    private readonly JitProgram _main;
    private readonly JitState _s;
    private readonly XdpContext _ownXdp = new();
    private readonly Dictionary<ExecutableProgram, JitProgram> _compiled = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<ExecutableProgram, VerifiedProgram> _verified = new(ReferenceEqualityComparer.Instance);
    private readonly JitBody _mainBody;
    private readonly int _mainFrameClear;
    private readonly bool _fastXdp;
    private readonly bool _checkedXdp;
    private readonly bool _checkedCallsHelpers;
    private bool _lean;
    private readonly bool _leanCatches;
    private readonly bool _leanFrame;
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
        _fastXdp = program.Mode == JitMode.Unchecked && !program.HasLegacyLoads;
        _checkedXdp = program.Mode == JitMode.Checked;
        _checkedCallsHelpers = program.CallsHelpers;
        _lean = _fastXdp && !program.NeedsRunState;
        _leanCatches = program.CallsHelpers || program.Entries.Count > 1;
        _leanFrame = program.NeedsXdpFrame;
        _mainBody = program.Body;
        _mainFrameClear = program.MainFrameClear;
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
        if (_lean)
        {
            return RunXdpLean(buffer);
        }

        if (_checkedXdp)
        {
            return RunXdpChecked(buffer);
        }

        return _fastXdp ? RunXdpUnchecked(buffer) : RunXdpGeneral(buffer);
    }

    /// <inheritdoc/>
    public ulong RunXdpRepeat(XdpBuffer buffer, long runs)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (_lean)
        {
            return RepeatLean(buffer, runs);
        }

        return _checkedXdp ? RepeatChecked(buffer, runs) : XdpRepeat.Loop(this, buffer, runs);
    }

    // One loop per kind of run, each in a method of its own: the run inlines into it with the registers to itself,
    // no interface call and no dispatch per run.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong RepeatLean(XdpBuffer buffer, long runs)
    {
        // What every lean run sets and no lean run changes (the context), once for the loop.
        var s = _s;
        ulong address = SetLeanContext(s, buffer);

        if (!_leanCatches)
        {
            return RepeatLeanRuns(buffer, runs, address);
        }

        // A program that calls helpers or functions: RunLeanCatching's handler once around the loop rather than once
        // per run (a fault ends the loop; LeanFault drops the frames it left and Env.Xdp, as there). The loop is a
        // method of its own, so that its locals stay in registers (a handler's body keeps them on the stack).
        try
        {
            return RepeatLeanRuns(buffer, runs, address);
        }
        catch (Exception e) when (LeanFault(s, e))
        {
            throw FromHelper(e);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong RepeatLeanRuns(XdpBuffer buffer, long runs, ulong address)
    {
        var env = Env;
        var trace = env.Trace;
        var events = env.Events;
        var s = _s;
        var body = _mainBody;
        int clear = _mainFrameClear;
        ulong* args = s.Args;
        bool frame = _leanFrame;
        bool catches = _leanCatches;
        ulong r0 = 0;
        for (long i = 0; i < runs; i++)
        {
            XdpRepeat.DropOutput(trace, events);
            BeginLeanRun(s, args, address, clear);
            if (catches)
            {
                // What RunLeanCatching sets: the call index a helper's fault names, the depth frames are dropped to.
                s.Pc = -1;
                s.Depth = 0;
            }

            if (frame)
            {
                env.Xdp = buffer;
            }

            r0 = body(s, 0, 0);
            if (frame)
            {
                env.Xdp = null;
            }
        }

        return r0;
    }

    // Checked runs with one handler around the whole loop instead of one per run (RunCheckedBody): a fault ends the
    // loop anyway, and is turned into the interpreter's fault with the run's state undone exactly as there.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong RepeatChecked(XdpBuffer buffer, long runs)
    {
        var env = Env;
        var s = _s;
        BeginXdpCheckedLoop(buffer);
        try
        {
            return RepeatCheckedRuns(buffer, runs);
        }
        catch (Exception e) when (_running)
        {
            var converted = e is not ExecutionFaultException { Pc: >= 0 } && s.Pc >= 0 ? FromHelper(e) : null;
            EndXdpChecked(env, s);
            if (converted is null)
            {
                throw;
            }

            throw converted;
        }
    }

    // The loop itself, a method of its own so that its locals stay in registers (a handler's body keeps them on the
    // stack).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong RepeatCheckedRuns(XdpBuffer buffer, long runs)
    {
        var env = Env;
        var s = _s;
        var body = _mainBody;
        var trace = env.Trace;
        var events = env.Events;
        ulong address = buffer.Context.Address;
        bool callsHelpers = _checkedCallsHelpers;
        int frameClear = _mainFrameClear;
        ulong r0 = 0;
        for (long i = 0; i < runs; i++)
        {
            XdpRepeat.DropOutput(trace, events);
            BeginXdpCheckedRun(s, env, buffer, address, callsHelpers, frameClear);
            r0 = body(s, 0, 0);
            EndXdpChecked(env, s);
        }

        return r0;
    }


    // Checked code over an XdpBuffer: the general path's run with lazy regions, as the interpreter's RunXdp(XdpBuffer).
    // - The context, the packet and frame 0 are registered (and Env.Xdp set) only when the run first needs the
    //   region table: JitState.EnsureRegions, which checked code calls before an access off its fast paths (the
    //   current frame through r10, the packet between the bounds it keeps), an atomic outside the frame, a helper or
    //   kfunc call and a BPF-to-BPF call. Until then the compiled code takes the packet's bounds from the state
    //   (JitRuntime.RefreshPacketBounds), which are the ones the packet region gets. Every region-table answer is therefore
    //   the eager run's: same regions, same indices, same fault messages.
    // - Frame 0 is cleared when the run starts, exactly as EnterFrame clears it; only its registration waits.
    // - No try/finally: what the run set is undone on both exits (EndXdpChecked); a fault a helper raised becomes the
    //   interpreter's fault (as Activate).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private RunResult RunXdpChecked(XdpBuffer buffer)
    {
        BeginXdpChecked(buffer);
        var s = _s;
        ulong r0 = RunCheckedBody(Env, s);
        EndXdpChecked(Env, s);
        return new RunResult(r0, s.Executed);
    }

    // What a checked XdpBuffer run sets before its code runs (RunXdpChecked, RepeatChecked).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BeginXdpChecked(XdpBuffer buffer)
    {
        BeginXdpCheckedLoop(buffer);
        BeginXdpCheckedRun(_s, Env, buffer, buffer.Context.Address, _checkedCallsHelpers, _mainFrameClear);
    }

    // The part of BeginXdpChecked that a loop of runs over one buffer needs once: no run in progress, the buffer and
    // its context in the state (a run changes neither).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BeginXdpCheckedLoop(XdpBuffer buffer)
    {
        if (_running | _disposed)
        {
            ThrowCannotRun();
        }

        var s = _s;
        var ctx = buffer.Context;
        if (!ReferenceEquals(s.PendingBuffer, buffer))
        {
            s.PendingBuffer = buffer;
        }

        if (!ReferenceEquals(s.Ctx, ctx))
        {
            s.Ctx = ctx;
        }
    }

    // The part of BeginXdpChecked every run needs (what it reads of the engine passed in, so that a loop of runs
    // reads it once).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BeginXdpCheckedRun(JitState s, RuntimeEnv env, XdpBuffer buffer, ulong address, bool callsHelpers, int frameClear)
    {
        _running = true;
        if (callsHelpers)
        {
            // Only bpf_tail_call reads or sets these, and only a helper call sets the call index.
            env.TailCallCount = 0;
            env.PendingTailCall = null;
            s.Pc = -1;
        }

        ulong lo = buffer.DataMeta;
        ulong hi = buffer.DataEnd;
        if (hi > lo && hi >= 8)
        {
            s.PacketLo = lo;
            s.PacketHi = hi;
        }
        else
        {
            s.PacketLo = ulong.MaxValue;
            s.PacketHi = 8;
        }

        // ContextRegion is NoContext here: every other path resets it when its run ends, and so does the end of a
        // run that registered its regions (EndXdpChecked). The depth is read only by a helper's callbacks, and the
        // helpers that start them set it first (BeforeCall). LD_ABS's bytes stay null: only Run sets them, and EndRun
        // clears them again.
        s.RegionsPending = true;
        s.CtxAddress = address;
        s.CtxLive = true;
        s.Executed = 0;

        // Abort is false: it is set only just before an activation returns, and every run's end clears it.
        if (s.ArgsDirty)
        {
            s.ClearArgs();
            s.ArgsDirty = false;
        }

        ulong* args = s.Args;
        args[1] = address;
        args[10] = s.EnterCheckedFrame0(frameClear);
    }

    // The body of a checked XdpBuffer run, in a method of its own so that only it carries the handler: a fault a
    // helper raised becomes the interpreter's fault (as Activate), and what the run set is undone on the way out.
    private ulong RunCheckedBody(RuntimeEnv env, JitState s)
    {
        try
        {
            return _mainBody(s, 0, 0);
        }
        catch (Exception e)
        {
            var converted = e is not ExecutionFaultException { Pc: >= 0 } && s.Pc >= 0 ? FromHelper(e) : null;
            EndXdpChecked(env, s);
            if (converted is null)
            {
                throw;
            }

            throw converted;
        }
    }

    [DoesNotReturn]
    private void ThrowCannotRun()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        throw new InvalidOperationException("this engine is already running a program (runs do not nest)");
    }

    // Undoes what the run set: the regions it registered (from the count the table had when it registered them) and
    // the environment's run state.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EndXdpChecked(RuntimeEnv env, JitState s)
    {
        if (s.RegionsPending)
        {
            s.RegionsPending = false;
        }
        else
        {
            env.PacketRegionIndex = -1;
            env.Xdp = null;
            s.Regions.Truncate(s.PendingBase);
            s.ContextRegion = JitState.NoContext;
        }

        s.Abort = false;
        _running = false;
    }

    private RunResult RunXdpGeneral(XdpBuffer buffer)
    {
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

    // A verified program that calls no helper, or only helpers that need nothing of the run's own state
    // (VerifiedHelpers.IsRunStateFree: the map helpers, redirects, spin locks): the run needs r1 = the context,
    // r10 = frame 0 cleared to its verified depth, the instruction count and the context for 4-byte loads.
    // - No region is registered: unchecked code reads no region (only checked code and helpers do; these helpers
    //   read none of the run's; a BPF-to-BPF call registers its frame above whatever is there and drops it on
    //   return, which needs no base regions).
    // - Env.Xdp and Env.PacketRegionIndex are read only by the other helpers, so they stay as every run leaves them
    //   (null, -1); except Env.Xdp for a program calling the verified bpf_xdp_load_bytes / store_bytes, which need
    //   the frame and nothing else (VerifiedHelpers.IsFrameOnly): set for the run only.
    // - No running flag and no try/finally: nothing in the run can re-enter the engine (re-entry comes only through a
    //   callback or a tail call), and nothing set here needs undoing when a run faults. A helper's fault is still
    //   turned into the interpreter's fault, and frames a faulting run left registered are dropped (RunLeanCatching).
    // - The context region index and the LD_ABS bounds are not set: only checked code, and LD_ABS (which the
    //   verifier refuses in XDP programs; a program that has it takes the general path), read them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private RunResult RunXdpLean(XdpBuffer buffer)
    {
        // Neither disposal nor nesting needs a check here: Dispose clears _lean (the general path then throws), and
        // a lean run cannot start inside another run of this engine (runs nest only through a helper's callback).
        // The tail-call count and pending target are not reset either: only bpf_tail_call reads or sets them, and a
        // lean run makes no tail call; every other run resets them when it starts.
        var s = _s;
        BeginLean(s, buffer);
        if (_leanFrame)
        {
            // bpf_xdp_load_bytes / store_bytes read the frame through Env.Xdp: set for the run, cleared after it (a
            // fault clears it in LeanFault).
            Env.Xdp = buffer;
            ulong framed = RunLeanCatching(s);
            Env.Xdp = null;
            return new RunResult(framed, s.Executed);
        }

        ulong r0 = _leanCatches ? RunLeanCatching(s) : _mainBody(s, 0, 0);
        return new RunResult(r0, s.Executed);
    }

    // What a lean run sets before its code runs: the context (SetLeanContext, which no lean run changes, so a loop of
    // runs sets it once), then the count, r1 and r10 (frame 0 cleared to its verified depth: BeginLeanRun).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BeginLean(JitState s, XdpBuffer buffer) => BeginLeanRun(s, s.Args, SetLeanContext(s, buffer), _mainFrameClear);

    // The run's context in the state; its address (r1).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SetLeanContext(JitState s, XdpBuffer buffer)
    {
        var ctx = buffer.Context;
        ulong address = ctx.Address;
        s.CtxAddress = address;
        if (!ReferenceEquals(s.Ctx, ctx))
        {
            s.Ctx = ctx;
        }

        return address;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BeginLeanRun(JitState s, ulong* args, ulong address, int frameClear)
    {
        s.Executed = 0;
        args[1] = address;
        args[10] = s.EnterFrame0(frameClear);
    }

    // The lean run of a program that calls helpers or functions: what a helper throws becomes the interpreter's fault
    // (Activate), and a run that faults inside a BPF-to-BPF call (or an inlined bpf_loop's callback) drops the frames
    // it registered, as a return would have.
    private ulong RunLeanCatching(JitState s)
    {
        s.Pc = -1;
        s.Depth = 0;
        try
        {
            return _mainBody(s, 0, 0);
        }
        catch (Exception e) when (LeanFault(s, e))
        {
            throw FromHelper(e);
        }
    }

    // The filter of a lean run's fault: drops the frames it left (whatever the exception), then says whether it is a
    // helper's to convert.
    private static bool LeanFault(JitState s, Exception e)
    {
        s.DropOwnFrames();
        s.Env.Xdp = null;
        return e is not ExecutionFaultException { Pc: >= 0 } && s.Pc >= 0;
    }

    // A verified program that calls helpers: the general path's state (regions for the helpers' pointer checks,
    // Env.Xdp and the packet region index for the XDP helpers), set and undone without the general path's
    // indirections; a fault a helper raises becomes the interpreter's fault as in Activate.
    private RunResult RunXdpUnchecked(XdpBuffer buffer)
    {
        var regions = BeginRun();
        int baseCount = regions.Count;
        var env = Env;
        var s = _s;
        var ctx = buffer.Context;
        env.Xdp = buffer;
        int contextRegion = regions.Push(ctx.Region);
        env.PacketRegionIndex = regions.Push(buffer.PacketRegion);
        s.Executed = 0;
        s.Depth = 0;
        s.Abort = false;
        s.Pc = -1;
        SetContext(contextRegion, ctx);
        s.Args[1] = ctx.Address;
        s.Args[10] = s.EnterFrame(0, _mainFrameClear);
        ulong r0;
        try
        {
            r0 = _mainBody(s, 0, 0);
        }
        catch (Exception e)
        {
            var converted = e is not ExecutionFaultException { Pc: >= 0 } && s.Pc >= 0 ? FromHelper(e) : null;
            EndXdpRun(env, regions, baseCount);
            if (converted is null)
            {
                throw;
            }

            throw converted;
        }

        EndXdpRun(env, regions, baseCount);
        return new RunResult(r0, s.Executed);
    }

    // The end of an XdpBuffer run of unchecked code. The context stays in the state (every path sets its own before
    // code runs; a callback outside a run sets none), and LD_ABS's bytes were never set.
    private void EndXdpRun(RuntimeEnv env, RegionTable regions, int baseCount)
    {
        env.PacketRegionIndex = -1;
        env.Xdp = null;
        regions.Truncate(baseCount);
        _running = false;
    }

    /// <summary>Later runs throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _disposed = true;
        _lean = false;
    }

    /// <inheritdoc/>
    ulong IBpfCallbackInvoker.InvokeCallback(ulong function, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        // The common case (bpf_loop and friends during a run): a function of the running program with an entry in
        // its compiled code, and room for one more frame.
        var running = _s.Current;
        if (_running && running is not null && running.Executable.TryGetSlot(function, out int slot)
            && running.EntryOf(slot) is var entry and >= 0 && _s.Depth + 1 < BpfInterpreter.MaxCallFrames)
        {
            return InvokeCallbackInRun(running, slot, entry, r1, r2, r3, r4, r5);
        }

        return InvokeCallbackGeneral(function, r1, r2, r3, r4, r5);
    }

    // A callback during a run, in the running program: InvokeCallbackGeneral's work without its lookups, with the
    // caller's state restored on both exits and a helper's fault turned into the interpreter's (Activate).
    private ulong InvokeCallbackInRun(JitProgram code, int pc, int entry, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        var s = _s;
        int depth = s.Depth;
        int callerPc = s.Pc;
        var regions = Env.Regions;
        int count = regions.Count;
        ClearArgs(code);
        s.ArgsDirty = true;
        var args = s.Args;
        args[1] = r1;
        args[2] = r2;
        args[3] = r3;
        args[4] = r4;
        args[5] = r5;
        args[10] = s.EnterFrame(depth + 1, code.FrameClear(pc));
        s.Pc = -1;
        ulong r0;
        try
        {
            r0 = code.Body(s, entry, depth + 1);
        }
        catch (Exception e)
        {
            var converted = e is not ExecutionFaultException { Pc: >= 0 } && s.Pc >= 0 ? FromHelper(e) : null;
            EndCallback(s, code, regions, count, depth, callerPc);
            if (converted is null)
            {
                throw;
            }

            throw converted;
        }

        EndCallback(s, code, regions, count, depth, callerPc);
        return r0;
    }

    private static void EndCallback(JitState s, JitProgram caller, RegionTable regions, int count, int depth, int callerPc)
    {
        regions.Truncate(count);
        s.Depth = depth;
        if (!ReferenceEquals(s.Current, caller))
        {
            s.Current = caller;
        }

        s.Pc = callerPc;
        s.Abort = false;
    }

    private ulong InvokeCallbackGeneral(ulong function, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
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
            _s.ArgsDirty = true;
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
        var env = Env;
        env.TailCallCount = 0;
        env.PendingTailCall = null;
        return env.Regions;
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
        _s.CtxLive = ctx is not null;
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
        _s.ArgsDirty = true;
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
