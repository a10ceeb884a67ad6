using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Memory;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Interpreter;

/// <summary>The checked reference interpreter: RFC 9669 up to cpu v4 as Linux 6.x runs it, plus callx.</summary>
/// <remarks>
/// Register values are real host addresses, but every load and store is checked against the run's
/// <see cref="RegionTable"/> first (stack frames, the input memory or packet, the context), so a program
/// can never touch memory outside them: it stops with an <see cref="ExecutionFaultException"/> instead.
/// Stacks and the context live in pinned memory owned by the instance and reused across runs; a run
/// allocates nothing. One instance runs on one thread at a time.
/// </remarks>
public sealed unsafe partial class BpfInterpreter : IDisposable, IBpfCallbackInvoker
{
    /// <summary>Maximum depth of BPF-to-BPF calls, counting the main function (the kernel's MAX_CALL_FRAMES).</summary>
    public const int MaxCallFrames = 8;

    /// <summary>Stack bytes per frame (MAX_BPF_STACK); R10 points at the top.</summary>
    public const int StackSize = 512;

    // Unregistered bytes below and above every frame: a frame overflow lands in no region and faults,
    // instead of silently hitting the neighbouring frame.
    private const int StackGuard = 64;
    private const int FrameStride = StackSize + StackGuard;

    // The context region index of a run without a context (never a valid index, never -1 = "no region").
    private const int NoContext = -2;

    private static readonly string[] s_frameNames =
    [
        "stack frame 0", "stack frame 1", "stack frame 2", "stack frame 3",
        "stack frame 4", "stack frame 5", "stack frame 6", "stack frame 7",
    ];

    private readonly ExecutableProgram _main;
    private readonly HelperTable _helpers;
    private readonly long _budget;
    private readonly XdpContext _ownXdp = new();
    private readonly CallFrame[] _frames = new CallFrame[MaxCallFrames];

    // [guard][frame 0][guard][frame 1]...[frame 7][guard], pinned on the POH.
    private byte[]? _stackBlock;
    private readonly ulong _stackBase;

    // Per frame, the lowest stack address that may have been written since the frame was last cleared (its top, 512
    // bytes above FrameStart, when none): opening a frame clears only [floor, top), so unwritten stack still reads 0.
    // Every store that can reach a frame lowers it first: the loop's own stores, the region-checked ones and atomics
    // (MarkStack), and helpers, which write only at or above a pointer argument (CallHelper marks r1-r5). Pinned, so
    // the loop updates it through a pointer; it stays right when a run faults.
    private readonly ulong[] _floorBlock = GC.AllocateArray<ulong>(MaxCallFrames, pinned: true);
    private readonly ulong* _floors;
    private bool _running;
    private bool _disposed;

    // The state a helper call leaves for the engine (and that nested callback runs share): instructions executed
    // so far, the depth and program of the frame that called the helper, the context and the LD_ABS packet.
    private long _executed;
    private int _depth;
    private ExecutableProgram _current;
    private int _contextRegion = NoContext;

    // The context's address and, when the run has one, the span of addresses a 4-byte load inside it may start at
    // (XdpMd.Size - 3; else 0): the main loop's context check, without the region table.
    private ulong _ctxStart;
    private ulong _ctxSpan;

    // What the main loop's fast path checks against, kept in fields (the loop's locals are few, so that the JIT keeps
    // them in registers): the running frame's stack [_stackLo, _stackLo + 512) and its floor (see _floors), and the
    // packet [_pktStart, _pktStart + _pktLen) (empty when the run has none).
    private ulong _stackLo;

    // RunXdp(XdpBuffer) registers its regions only when the run needs the table (MaterializeRegions).
    private bool _regionsPending;
    private XdpBuffer? _pendingBuffer;
    private ulong* _floor;
    private ulong _pktStart;
    private ulong _pktLen;

    // The run's packet (or input memory) region, whose bounds the main loop keeps at hand; -1 when there is none.
    private int _packetRegion = -1;
    private RegionKind _packetKind = RegionKind.Packet;
    private XdpContext _ctx;
    private byte* _ldPacket;
    private int _ldPacketLength;

    /// <summary>Prepares <paramref name="program"/> for running; throws <see cref="BpfFormatException"/> if it is malformed.</summary>
    /// <param name="program">The program (validated again here, so unchecked programs are safe too).</param>
    /// <param name="helpers">Helpers by id; <see cref="HelperTable.CreateDefault"/> when null.</param>
    /// <param name="options">Limits; <see cref="InterpreterOptions.Default"/> when null.</param>
    public BpfInterpreter(BpfProgram program, HelperTable? helpers = null, InterpreterOptions? options = null)
        : this(new ExecutableProgram(program ?? throw new ArgumentNullException(nameof(program))), helpers, options, null)
    {
    }

    /// <summary>Prepares <paramref name="program"/> for running in <paramref name="env"/> (shared with the loader:
    /// maps, clock, CPU, output); throws <see cref="BpfFormatException"/> if it is malformed.</summary>
    /// <param name="program">The program to start runs with.</param>
    /// <param name="helpers">Helpers by id; <see cref="HelperTable.CreateDefault"/> when null.</param>
    /// <param name="options">Limits; <see cref="InterpreterOptions.Default"/> when null.</param>
    /// <param name="env">The run state; a new one when null. Its <see cref="RuntimeEnv.Callbacks"/> becomes this interpreter.</param>
    public BpfInterpreter(ExecutableProgram program, HelperTable? helpers, InterpreterOptions? options, RuntimeEnv? env)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (InstructionValidator.Validate(program.Slots) is { } error)
        {
            throw new BpfFormatException(error.Pc, error.Reason);
        }

        options ??= InterpreterOptions.Default;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.InstructionBudget, nameof(options));

        _main = program;
        _current = program;
        _ctx = _ownXdp;
        _helpers = helpers ?? HelperTable.CreateDefault();
        _budget = options.InstructionBudget;
        Env = env ?? new RuntimeEnv();
        Env.Callbacks = this;

        // 64 spare bytes so the first frame can start on a 64-byte boundary.
        _stackBlock = GC.AllocateArray<byte>(64 + StackGuard + (MaxCallFrames * FrameStride), pinned: true);
        ulong blockStart = (ulong)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_stackBlock));
        _stackBase = ((blockStart + 63) & ~63UL) + StackGuard;
        _floors = (ulong*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_floorBlock));
        for (int depth = 0; depth < MaxCallFrames; depth++)
        {
            _floors[depth] = FrameStart(depth) + StackSize;
        }
    }

    /// <summary>The program being run.</summary>
    public BpfProgram Program => _main.Program;

    /// <summary>The program runs start with.</summary>
    public ExecutableProgram Executable => _main;

    /// <summary>The helpers (and kfuncs) programs call.</summary>
    public HelperTable Helpers => _helpers;

    /// <summary>The run state helpers see: region table, clock, maps, output. Persistent regions added here survive runs.</summary>
    public RuntimeEnv Env { get; }

    /// <summary>Runs with r1 = the address of <paramref name="memory"/> (0 when empty) and r2 = its length.</summary>
    /// <remarks>The memory is pinned and registered as a writable region for the run; LD_ABS/LD_IND read it as the packet.</remarks>
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
                    _packetRegion = regions.Add(new MemoryRegion((ulong)p, (ulong)memory.Length, RegionKind.Input, Writable: true, "input memory"));
                    _packetKind = RegionKind.Input;
                }

                RefreshPacketBounds();
                SetContextRegion(NoContext, hasContext: false);
                PushFrame(regions, 0);
                return Run((ulong)p, (ulong)memory.Length, p, memory.Length);
            }
        }
        finally
        {
            EndRun(regions, baseCount);
        }
    }

    /// <summary>Runs as an XDP program: r1 = a read-only <c>struct xdp_md</c> over <paramref name="packet"/>.</summary>
    /// <remarks>The packet region is exactly [data_meta, data_end); there is no headroom or tailroom, so the helpers
    /// that move the packet's bounds are not available (use <see cref="RunXdp(XdpBuffer)"/>).</remarks>
    public RunResult RunXdp(Span<byte> packet, uint ingressIfindex = 1, uint rxQueueIndex = 0)
    {
        var regions = BeginRun();
        int baseCount = regions.Count;
        try
        {
            fixed (byte* p = packet)
            {
                // An empty packet still gets a non-null data pointer: the first stack guard, where nothing is registered.
                ulong data = p != null ? (ulong)p : _stackBase - StackGuard;
                _ownXdp.Set(data, data + (ulong)packet.Length, ingressIfindex, rxQueueIndex);
                if (!ReferenceEquals(_ctx, _ownXdp))
                {
                    _ctx = _ownXdp;
                }

                int contextRegion = regions.Add(_ownXdp.Region);
                if (packet.Length > 0)
                {
                    _packetRegion = regions.Add(_ownXdp.PacketRegion);
                    _packetKind = RegionKind.Packet;
                }

                RefreshPacketBounds();
                SetContextRegion(contextRegion, hasContext: true);
                PushFrame(regions, 0);
                return Run(_ownXdp.Address, 0, (byte*)data, packet.Length);
            }
        }
        finally
        {
            EndRun(regions, baseCount);
        }
    }

    /// <summary>Runs as an XDP program over <paramref name="buffer"/> (loaded by the caller): r1 = its xdp_md. The
    /// packet helpers (adjust_head, adjust_meta, adjust_tail, load/store_bytes) work on it, and the packet region
    /// follows them.</summary>
    public RunResult RunXdp(XdpBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var regions = BeginRun();
        int baseCount = regions.Count;
        try
        {
            SetPendingBuffer(buffer);
            BeginPendingRegions(buffer);
            return Run(buffer.Context.Address, 0, null, 0);
        }
        finally
        {
            EndPendingRegions();
            EndRun(regions, baseCount);
        }
    }

    // The buffer (and its context) a RunXdp(XdpBuffer) run's lazily registered regions come from. Reference stores
    // only when they change (each is a GC write barrier).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetPendingBuffer(XdpBuffer buffer)
    {
        var context = buffer.Context;
        if (!ReferenceEquals(_ctx, context))
        {
            _ctx = context;
        }

        if (!ReferenceEquals(_pendingBuffer, buffer))
        {
            _pendingBuffer = buffer;
        }
    }

    // The context, the packet and frame 0 are registered when the run first needs the region table
    // (MaterializeRegions); until then the loop checks accesses against these bounds, which are the same.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BeginPendingRegions(XdpBuffer buffer)
    {
        _regionsPending = true;
        _pktStart = buffer.DataMeta;
        _pktLen = buffer.DataEnd - buffer.DataMeta;
        SetContextRegion(NoContext, hasContext: true);
    }

    // The end of a run that began with BeginPendingRegions: true when it registered its regions (MaterializeRegions),
    // whose Env.Xdp and packet index are then undone here (the caller truncates the table).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool EndPendingRegions()
    {
        if (_regionsPending)
        {
            _regionsPending = false;
            return false;
        }

        Env.PacketRegionIndex = -1;
        Env.Xdp = null;
        return true;
    }

    /// <summary>Releases the pinned stacks; later runs throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _disposed = true;
        _stackBlock = null;
    }

    private RegionTable BeginRun()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_running)
        {
            throw new InvalidOperationException("this interpreter is already running a program (runs do not nest)");
        }

        _running = true;
        Env.TailCallCount = 0;
        Env.PendingTailCall = null;
        var regions = Env.Regions;
        ForgetValueWindow(regions.Count);
        return regions;
    }

    private void EndRun(RegionTable regions, int baseCount)
    {
        regions.Truncate(baseCount);
        _running = false;
        _ldPacket = null;
        _ldPacketLength = 0;
        SetContextRegion(NoContext, hasContext: false);
        _packetRegion = -1;
    }

    // Registers what RunXdp(XdpBuffer) left pending: the context, the packet (Env.PacketRegionIndex) and frame 0, in
    // that order, as an eager run registers them, and makes the buffer the helpers' (Env.Xdp). Called before anything
    // reads the region table: an access the loop's fast path does not take, a helper or kfunc, a BPF-to-BPF call, a
    // traced run.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void MaterializeRegions()
    {
        _regionsPending = false;
        var buffer = _pendingBuffer!;
        var regions = Env.Regions;
        Env.Xdp = buffer;

        // The buffer's pages are its own: no overlap scan (RegionTable.Push).
        SetContextRegion(regions.Push(buffer.Context.Region), hasContext: true);
        Env.PacketRegionIndex = regions.Push(buffer.PacketRegion);
        _packetRegion = Env.PacketRegionIndex;
        _packetKind = RegionKind.Packet;
        PushFrame(regions, 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnsureRegions()
    {
        if (_regionsPending)
        {
            MaterializeRegions();
        }
    }

    // The outermost call: frame 0 (registered by the caller, or pending), r1 and r2 as given, the main program from
    // slot 0.
    private RunResult Run(ulong r1, ulong r2, byte* ldPacket, int ldPacketLength)
    {
        _executed = 0;
        _depth = 0;
        SetCurrent(_main);
        _ldPacket = ldPacket;
        _ldPacketLength = ldPacketLength;
        RegisterFile regs = default;
        regs[1] = r1;
        regs[2] = r2;
        regs[10] = ClearFrame(0);
        ulong r0 = ExecuteEntry(_main, 0, ref regs, 0);
        return new RunResult(r0, _executed);
    }

    /// <inheritdoc/>
    ulong IBpfCallbackInvoker.InvokeCallback(ulong function, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        // A callback is a BPF-to-BPF call made by the helper: a new frame above the one that called the helper,
        // in the program that called it. kernel: the verifier's callback frames (push_callback_call()).
        var program = _current;
        if (!program.TryGetSlot(function, out int pc))
        {
            // A function of another program: a timer callback set by a tail-called program, for instance.
            if (!ExecutableProgram.TryFindFunction(function, out var other, out pc))
            {
                throw ExecutionFaults.NotAFunction(function, program.Name);
            }

            program = other;
        }

        // Outside a run (a timer firing between packets) the callback is the only frame: frame 1 above an empty frame 0.
        bool outside = !_running;
        if (outside)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _running = true;
            _executed = 0;
            _depth = 0;
            SetContextRegion(NoContext, hasContext: false);
            ForgetValueWindow(0);
        }

        var caller = _current;
        int depth = _depth;
        if (depth + 1 >= MaxCallFrames)
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
            RegisterFile regs = default;
            regs[1] = r1;
            regs[2] = r2;
            regs[3] = r3;
            regs[4] = r4;
            regs[5] = r5;
            regs[10] = EnterFrame(regions, depth + 1);
            RefreshPacketBounds();
            return ExecuteEntry(program, pc, ref regs, depth + 1);
        }
        finally
        {
            regions.Truncate(count);
            _depth = depth;
            SetCurrent(caller);
            if (outside)
            {
                _running = false;
            }
        }
    }

    private void SetContextRegion(int index, bool hasContext)
    {
        _contextRegion = index;
        _ctxStart = _ctx.Address;
        _ctxSpan = hasContext ? XdpMd.Size - 3 : 0UL;
    }

    // The lowest address of frame `depth`'s stack (its R10 is 512 bytes above).
    private ulong FrameStart(int depth) => _stackBase + (ulong)(depth * FrameStride);

    // Registers the stack of frame `depth` (zeroed, so runs are reproducible) and returns its R10.
    private ulong EnterFrame(RegionTable regions, int depth)
    {
        ulong top = ClearFrame(depth);
        PushFrame(regions, depth);
        return top;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PushFrame(RegionTable regions, int depth) =>
        regions.Push(new MemoryRegion(FrameStart(depth), StackSize, RegionKind.Stack, Writable: true, s_frameNames[depth]));

    // Zeroes what may have been written in frame `depth` since it was last cleared (see _floors); returns its R10.
    private ulong ClearFrame(int depth)
    {
        ulong start = FrameStart(depth);
        ulong top = start + StackSize;
        ulong floor = _floors[depth];
        if (floor < top)
        {
            // Frames start on a 64-byte boundary, so whole 32-byte blocks from the one that holds the floor stay inside.
            for (ulong p = floor & ~31UL; p < top; p += 32)
            {
                Vector256<byte>.Zero.Store((byte*)p);
            }

            _floors[depth] = top;
        }

        return top;
    }

    // A store (or a helper) may write at `address` and above: when that is in one of the frames, lower its floor.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MarkStack(ulong address)
    {
        ulong offset = address - _stackBase;
        if (offset < MaxCallFrames * FrameStride)
        {
            ulong depth = offset / FrameStride;
            if (offset - (depth * FrameStride) < StackSize && address < _floors[depth])
            {
                _floors[depth] = address;
            }
        }
    }
}
