using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Memory;
using VethXdp.Vm.Xdp;

namespace VethXdp.Jit;

/// <summary>The state compiled code reads and writes through its <c>state</c> argument: one per engine, reused across
/// runs. Fields, not properties, so that IL reaches them with one <c>ldfld</c>.</summary>
/// <remarks>
/// <para>The stack block is laid out as the interpreter lays out its own, so faults name the same regions:
/// <c>[guard][frame 0][guard][frame 1]...[frame 7][guard]</c>, pinned, frames 512 bytes each with 64 unregistered
/// bytes between them, so a frame overflow lands in no region instead of the neighbouring frame.</para>
/// <para>Registers enter an activation through <see cref="Args"/> (11 slots, r0-r10): the caller fills them, the
/// method's prologue copies them into its IL locals at once, so one buffer serves every nested activation.</para>
/// </remarks>
internal sealed unsafe class JitState
{
    /// <summary>A context region index that never matches: a run without a context.</summary>
    public const int NoContext = -2;

    /// <summary>A context address no access reaches (the unchecked code compares <c>address - CtxAddress &lt; 24</c>).</summary>
    public const ulong NoContextAddress = ulong.MaxValue - XdpMd.Size + 1;

    // Unregistered bytes below and above every frame.
    private const int StackGuard = 64;
    private const int FrameStride = BpfInterpreter.StackSize + StackGuard;

    private static readonly string[] s_frameNames =
    [
        "stack frame 0", "stack frame 1", "stack frame 2", "stack frame 3",
        "stack frame 4", "stack frame 5", "stack frame 6", "stack frame 7",
    ];

    // Pinned on the POH: the addresses below stay valid for the state's life.
    private readonly byte[] _stackBlock;
    private readonly ulong[] _args;

    public JitState(RuntimeEnv env, long budget)
    {
        Env = env;
        Regions = env.Regions;
        Budget = budget;
        _stackBlock = GC.AllocateArray<byte>(64 + StackGuard + (BpfInterpreter.MaxCallFrames * FrameStride), pinned: true);
        ulong blockStart = (ulong)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_stackBlock));
        StackBase = ((blockStart + 63) & ~63UL) + StackGuard;
        _args = GC.AllocateArray<ulong>(11, pinned: true);
        Args = (ulong*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_args));
    }

    /// <summary>Checked mode: bit <c>n</c> set when frame <c>n</c> may hold bytes written other than by its
    /// occupant's r10-relative stores (set by slow-path stores, checked atomics, helper calls and tail calls; all
    /// frames start dirty). <see cref="EnterFrame"/> then clears the whole frame.</summary>
    public int StackDirty = -1;

    // Checked mode, per depth: bytes below the top that the frame's last occupant's r10-relative stores may have written.
    private readonly int[] _dirtyBytes = new int[BpfInterpreter.MaxCallFrames];

    /// <summary>The run's regions (the environment's table).</summary>
    public readonly RegionTable Regions;

    /// <summary>The environment helpers get.</summary>
    public readonly RuntimeEnv Env;

    /// <summary>r0-r10 handed to the next activation.</summary>
    public readonly ulong* Args;

    /// <summary>The map handles this engine's compiled code resolved (the map helpers' forms in VerifiedHelpers and
    /// CheckedHelpers): the same cache the interpreter keeps.</summary>
    public readonly MapHandleCache MapCache = new();

    /// <summary>Address of frame 0's first byte; frame n starts <c>n * 576</c> bytes higher.</summary>
    public readonly ulong StackBase;

    /// <summary>Instructions one run may execute.</summary>
    public readonly long Budget;

    /// <summary>The BPF-to-BPF frames of every activation, by absolute depth.</summary>
    public readonly JitFrame[] Frames = new JitFrame[BpfInterpreter.MaxCallFrames];

    /// <summary>Instructions executed so far in this run (synchronised around calls; activations keep a local copy).</summary>
    public long Executed;

    /// <summary>The depth of the frame that is calling a helper (callbacks go one above it).</summary>
    public int Depth;

    /// <summary>The instruction of the helper call in progress (-1 before the first), for the fault a helper raises.</summary>
    public int Pc = -1;

    /// <summary>The helper id of the callx in progress.</summary>
    public long CallxId;

    /// <summary>The index of the context region, or <see cref="NoContext"/>.</summary>
    public int ContextRegion = NoContext;

    /// <summary>The context's address, or <see cref="NoContextAddress"/>.</summary>
    public ulong CtxAddress = NoContextAddress;

    /// <summary>The context of the run.</summary>
    public XdpContext? Ctx;

    /// <summary>Set only while <see cref="Ctx"/> is the running activation's context and <see cref="CtxAddress"/> its
    /// address (an XDP run); checked code reads a context field directly only then.</summary>
    public bool CtxLive;

    /// <summary>The bytes LD_ABS and LD_IND read.</summary>
    public byte* LdPacket;

    /// <summary>Their length.</summary>
    public int LdPacketLength;

    /// <summary>Set when an LD_ABS/LD_IND load was out of bounds: the activation and every tail call in it end with r0 = 0.</summary>
    public bool Abort;

    /// <summary>The compiled program of the running activation (the one a callback's address is looked up in first).</summary>
    public JitProgram? Current;

    /// <summary>The engine, for tail calls.</summary>
    public JitEngine? Engine;

    /// <summary>Checked runs over an <see cref="XdpBuffer"/>: set while the run's context, packet and frame 0 are not
    /// yet registered (see <see cref="EnsureRegions"/>).</summary>
    public bool RegionsPending;

    /// <summary>The table's count when a lazy run registered its regions (what the run's end truncates to).</summary>
    public int PendingBase;

    /// <summary>The buffer whose regions are pending (kept across runs: stored only when it changes).</summary>
    public XdpBuffer? PendingBuffer;

    /// <summary>Checked code: the packet region's first byte as <see cref="JitRuntime.RefreshPacketBounds"/> last found
    /// it (or, while <see cref="RegionsPending"/>, as it will be registered), <see cref="ulong.MaxValue"/> for none.</summary>
    public ulong PacketLo;

    /// <summary>One past the packet region's last byte (at least 8).</summary>
    public ulong PacketHi;

    /// <summary>Registers what a lazy checked run left pending (the context, the packet as
    /// <see cref="RuntimeEnv.PacketRegionIndex"/>, frame 0; in that order, as an eager run registers them) and makes
    /// the buffer the helpers' (<see cref="RuntimeEnv.Xdp"/>). Compiled code calls it before anything reads the
    /// region table or the environment's run state: a checked access off the fast paths, an atomic, a helper or kfunc
    /// call, a BPF-to-BPF call or an inlined callback's frame.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EnsureRegions()
    {
        if (RegionsPending)
        {
            MaterializeRegions();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void MaterializeRegions()
    {
        RegionsPending = false;
        PendingBase = Regions.Count;
        var buffer = PendingBuffer!;
        var env = Env;
        env.Xdp = buffer;
        ContextRegion = Regions.Push(buffer.Context.Region);
        env.PacketRegionIndex = Regions.Push(buffer.PacketRegion);
        PushFrameRegion(0);
    }

    /// <summary>Checked mode, after a store or atomic checked against the regions: when <paramref name="address"/> lies in
    /// this state's stack block (a frame; only these frames are cleared by <see cref="EnterFrame"/>), every frame is
    /// marked dirty (<see cref="StackDirty"/>); a write anywhere else (the packet, a map value) leaves them as they are.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MarkWritten(ulong address)
    {
        if (address - StackBase < (ulong)(BpfInterpreter.MaxCallFrames * FrameStride))
        {
            StackDirty = -1;
        }
    }

    /// <summary>Registers frame <paramref name="depth"/> (whole, without the overlap scan: the block is ours).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PushFrameRegion(int depth) =>
        Regions.Push(new MemoryRegion(StackBase + (ulong)(depth * FrameStride), BpfInterpreter.StackSize, RegionKind.Stack, Writable: true, s_frameNames[depth]));

    /// <summary>Registers the stack of frame <paramref name="depth"/> and returns its R10, after zeroing its top
    /// <paramref name="clearBytes"/> bytes.</summary>
    /// <remarks>The interpreter zeroes the whole frame when it opens, so a stack byte the activation has not written
    /// reads 0 (kernel: root may read uninitialised stack, allow_uninit_stack; there it reads whatever was there).
    /// Checked code gets the same observation by clearing every byte that may have been written (see below). Unchecked code clears the function's verified stack
    /// depth: no access of the activation reaches below it, so the frame reads the same. The frame is registered whole
    /// either way (helpers check their pointer arguments against it), without the overlap scan (the block is ours).</remarks>
    /// <remarks>Checked code passes <c>-(reach + 1)</c> instead: the frame must read as wholly zero, and only what its
    /// previous occupant may have written is cleared: the <c>reach</c> bytes below r10 that its program's r10-relative
    /// stores can touch (kept per depth in <see cref="_dirtyBytes"/>), or the whole frame when its bit in
    /// <see cref="StackDirty"/> says some other write (through another register, by a helper, by a tail call's
    /// target) may have reached it.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong EnterFrame(int depth, int clearBytes)
    {
        ulong start = StackBase + (ulong)(depth * FrameStride);
        ulong top = start + BpfInterpreter.StackSize;
        if (clearBytes < 0)
        {
            int bit = 1 << depth;
            int reach = -clearBytes - 1;
            clearBytes = (StackDirty & bit) != 0 ? BpfInterpreter.StackSize : _dirtyBytes[depth];
            StackDirty &= ~bit;
            _dirtyBytes[depth] = reach;
        }
        else
        {
            // An occupant whose writes are not tracked (unchecked code, or a full clear): whole frame next time.
            StackDirty |= 1 << depth;
        }

        Clear(top, clearBytes);
        Regions.Push(new MemoryRegion(start, BpfInterpreter.StackSize, RegionKind.Stack, Writable: true, s_frameNames[depth]));
        return top;
    }

    /// <summary>Checked code's frame 0 of a lazy run: <see cref="EnterFrame"/>'s clearing (<paramref name="clearBytes"/>
    /// is checked code's <c>-(reach + 1)</c>) without the registration, which <see cref="EnsureRegions"/> does.</summary>
    public ulong EnterCheckedFrame0(int clearBytes)
    {
        ulong top = StackBase + BpfInterpreter.StackSize;
        if (clearBytes >= 0)
        {
            // A plain byte count (as EnterFrame takes it): its writes are not tracked, so the whole frame next time.
            StackDirty |= 1;
            Clear(top, clearBytes);
            return top;
        }

        ref int dirty = ref MemoryMarshal.GetArrayDataReference(_dirtyBytes);
        int bytes = (StackDirty & 1) != 0 ? BpfInterpreter.StackSize : dirty;
        StackDirty &= ~1;
        dirty = -clearBytes - 1;
        Clear(top, bytes);
        return top;
    }

    /// <summary>R10 of frame 0 after zeroing its top <paramref name="clearBytes"/> bytes (0 to 512), without
    /// registering it: for a lean run of unchecked code (see JitEngine.RunXdpLean), where nothing reads the region
    /// table. <see cref="StackDirty"/> is left alone: its bits start set and only checked code clears them, and an
    /// engine whose runs are lean never runs checked code (that comes only through tail calls and callbacks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong EnterFrame0(int clearBytes)
    {
        ulong top = StackBase + BpfInterpreter.StackSize;
        Clear(top, clearBytes);
        return top;
    }

    // Zeroes the `bytes` below `top`: a verified function's depth is usually a few words, cleared with plain stores
    // rather than a call to the runtime's memset.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Clear(ulong top, int bytes)
    {
        if (bytes <= 0)
        {
            return;
        }

        if (bytes <= 64 && (bytes & 7) == 0)
        {
            ulong* p = (ulong*)top;
            for (int i = 1; i <= bytes / 8; i++)
            {
                p[-i] = 0;
            }

            return;
        }

        Unsafe.InitBlockUnaligned((void*)(top - (uint)bytes), 0, (uint)bytes);
    }

    /// <summary>After a lean run faulted: removes the frames of this state's stack block that it left on top of the
    /// region table (a lean run registers nothing else, and nothing of this state's is on top when one starts: every
    /// other run drops what it registered).</summary>
    public void DropOwnFrames()
    {
        ulong span = (ulong)(BpfInterpreter.MaxCallFrames * FrameStride);
        while (Regions.Count > 0)
        {
            var top = Regions[Regions.Count - 1];
            if (top.Kind != RegionKind.Stack || top.Start - StackBase >= span)
            {
                return;
            }

            Regions.RemoveLast();
        }
    }

    /// <summary>An address inside the first guard: a non-null packet pointer for an empty packet, in no region.</summary>
    public ulong GuardAddress => StackBase - StackGuard;

    /// <summary>Set when <see cref="Args"/> may hold anything but zeros in r0 and r2-r9 (a run over memory, a callback,
    /// a tail call wrote them): a checked XDP run, which needs them zero and writes only r1 and r10, clears them then.</summary>
    public bool ArgsDirty = true;

    /// <summary>Clears the argument registers.</summary>
    public void ClearArgs() => new Span<ulong>(Args, 11).Clear();
}
