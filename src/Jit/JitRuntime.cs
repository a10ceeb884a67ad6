using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Memory;
using VethXdp.Vm.Xdp;

namespace VethXdp.Jit;

/// <summary>What compiled code calls: checked loads and stores (the interpreter's region checks, inlined by the .NET JIT
/// into the dynamic method), atomics, legacy packet loads, frames, tail calls and the cold fault paths.</summary>
/// <remarks>Every fault comes from <see cref="ExecutionFaults"/>, so both engines stop a run with the same message.
/// Hot methods are small and <c>AggressiveInlining</c>; their throws live in separate no-inlining methods.</remarks>
internal static unsafe class JitRuntime
{
    // ---- checked loads (kernel: check_mem_access() is what the verifier proves; here it is checked per access) ----
    // Each is the interpreter's CheckAccess + Read<T>: the region that holds every byte and allows the access, then
    // the context rule: only a 4-byte load may read xdp_md. The search starts at `hint`, the region this access site
    // hit last (one slot per site in JitProgram.AccessHints), so the common check is one subtraction and two compares
    // even when the program alternates between the packet, the stack and map values. Unsigned compares throughout, so an address below a region wraps and fails.

    // ---- the packet fast path: compiled checked code keeps the packet region's bounds in two locals and accepts an
    //      access that lies wholly inside them without a table search (the same answer: regions do not overlap, and
    //      the packet region is writable and is not the context); anything else goes to the loads and stores below ----

    /// <summary>Sets <see cref="JitState.PacketLo"/> and <see cref="JitState.PacketHi"/> to the run's packet region as
    /// <c>[lo, hi)</c>; with no usable one (no packet, an empty one, or a region at the packet index that is not a
    /// writable packet, or is the context) <c>[MaxValue, 8)</c>, which holds no access. <c>hi</c> is at least 8, so
    /// <c>hi - size</c> cannot wrap. A lazy run before its regions are registered already has them (the bounds its
    /// packet region gets, set by JitEngine.RunXdpChecked), and a registered table gives the same.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RefreshPacketBounds(JitState s)
    {
        if (s.RegionsPending)
        {
            return;
        }

        int i = s.Env.PacketRegionIndex;
        if (i != s.ContextRegion && s.Regions.TryGetWritable(i, RegionKind.Packet, out ulong lo, out ulong hi) && hi > lo && hi >= 8)
        {
            s.PacketLo = lo;
            s.PacketHi = hi;
            return;
        }

        s.PacketLo = ulong.MaxValue;
        s.PacketHi = 8;
    }

    // The region of a checked access. A lazy run (JitState.RegionsPending) searches the table it has first: the
    // environment's own regions (map values, global data) are there, and a region found there is the one the full
    // table finds at the same index (regions never overlap, and the run's context, packet and frame 0 come after
    // them), so no access to a map value registers anything. Only a miss registers the run's regions and searches
    // again, so the answer, and the fault message, are always the full table's.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Find(JitState s, ref int hint, ulong a, int size, bool write)
    {
        int r = s.Regions.FindFrom(ref hint, a, size, write);
        if (r < 0 && s.RegionsPending)
        {
            r = FindRegistered(s, ref hint, a, size, write);
        }

        return r;
    }

    /// <summary>A group of accesses (Emitters.AccessGroups): true when <paramref name="span"/> bytes at
    /// <paramref name="a"/> lie in one region that allows them (writable when <paramref name="write"/>) and is not the
    /// context, so each access of the group would pass its own check; a write into a stack frame marks the frames
    /// dirty first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool InOneRegion(JitState s, ulong a, int span, bool write, ref int hint)
    {
        int r = Find(s, ref hint, a, span, write);
        if (r < 0 || r == s.ContextRegion)
        {
            return false;
        }

        if (write)
        {
            s.MarkWritten(a);
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int FindRegistered(JitState s, ref int hint, ulong a, int size, bool write)
    {
        s.EnsureRegions();
        return s.Regions.FindFrom(ref hint, a, size, write);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LdxB(JitState s, ulong a, int pc, ref int hint)
    {
        int r = Find(s, ref hint, a, 1, write: false);
        if (r < 0 || r == s.ContextRegion)
        {
            LoadFault(s, a, 1, pc, r);
        }

        return *(byte*)a;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LdxH(JitState s, ulong a, int pc, ref int hint)
    {
        int r = Find(s, ref hint, a, 2, write: false);
        if (r < 0 || r == s.ContextRegion)
        {
            LoadFault(s, a, 2, pc, r);
        }

        return Unsafe.ReadUnaligned<ushort>((void*)a);
    }

    // A 4-byte load is the one the context allows: data, data_end and data_meta give full 64-bit pointers.
    // kernel: xdp_convert_ctx_access()
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LdxW(JitState s, ulong a, int pc, ref int hint)
    {
        int r = Find(s, ref hint, a, 4, write: false);
        if (r < 0 || r == s.ContextRegion)
        {
            return r < 0 ? LoadFault(s, a, 4, pc, r) : LoadContext(s, a, pc);
        }

        return Unsafe.ReadUnaligned<uint>((void*)a);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LdxDW(JitState s, ulong a, int pc, ref int hint)
    {
        int r = Find(s, ref hint, a, 8, write: false);
        if (r < 0 || r == s.ContextRegion)
        {
            LoadFault(s, a, 8, pc, r);
        }

        return Unsafe.ReadUnaligned<ulong>((void*)a);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LdxSB(JitState s, ulong a, int pc, ref int hint)
    {
        int r = Find(s, ref hint, a, 1, write: false);
        if (r < 0 || r == s.ContextRegion)
        {
            LoadFault(s, a, 1, pc, r);
        }

        return (ulong)(long)*(sbyte*)a;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LdxSH(JitState s, ulong a, int pc, ref int hint)
    {
        int r = Find(s, ref hint, a, 2, write: false);
        if (r < 0 || r == s.ContextRegion)
        {
            LoadFault(s, a, 2, pc, r);
        }

        return (ulong)(long)Unsafe.ReadUnaligned<short>((void*)a);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LdxSW(JitState s, ulong a, int pc, ref int hint)
    {
        int r = Find(s, ref hint, a, 4, write: false);
        if (r < 0 || r == s.ContextRegion)
        {
            return r < 0 ? LoadFault(s, a, 4, pc, r) : LoadContextSigned(s, a, pc);
        }

        return (ulong)(long)Unsafe.ReadUnaligned<int>((void*)a);
    }

    // ---- unchecked 4-byte loads: still recognise the context by its address (until the verifier's fixups rewrite
    //      context loads as Linux does, nothing else tells a context load from a packet load) ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LdxWUnchecked(JitState s, ulong a, int pc)
    {
        if (a - s.CtxAddress < XdpMd.Size)
        {
            return LoadContext(s, a, pc);
        }

        return Unsafe.ReadUnaligned<uint>((void*)a);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LdxSWUnchecked(JitState s, ulong a, int pc)
    {
        if (a - s.CtxAddress < XdpMd.Size)
        {
            return LoadContextSigned(s, a, pc);
        }

        return (ulong)(long)Unsafe.ReadUnaligned<int>((void*)a);
    }

    // ---- checked stores (the value arrives as the full register or sign-extended imm; the store truncates). One that
    //      writes a stack frame marks every frame dirty (JitState.MarkWritten) ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StB(JitState s, ulong a, ulong v, int pc, ref int hint)
    {
        if (Find(s, ref hint, a, 1, write: true) < 0)
        {
            StoreFault(s, a, 1, pc);
        }

        s.MarkWritten(a);
        *(byte*)a = (byte)v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StH(JitState s, ulong a, ulong v, int pc, ref int hint)
    {
        if (Find(s, ref hint, a, 2, write: true) < 0)
        {
            StoreFault(s, a, 2, pc);
        }

        s.MarkWritten(a);
        Unsafe.WriteUnaligned((void*)a, (ushort)v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StW(JitState s, ulong a, ulong v, int pc, ref int hint)
    {
        if (Find(s, ref hint, a, 4, write: true) < 0)
        {
            StoreFault(s, a, 4, pc);
        }

        s.MarkWritten(a);
        Unsafe.WriteUnaligned((void*)a, (uint)v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StDW(JitState s, ulong a, ulong v, int pc, ref int hint)
    {
        if (Find(s, ref hint, a, 8, write: true) < 0)
        {
            StoreFault(s, a, 8, pc);
        }

        s.MarkWritten(a);
        Unsafe.WriteUnaligned((void*)a, v);
    }

    // ---- atomics: the interpreter's semantics (aligned: atomic; misaligned: still works, without atomicity) ----

    // BPF_ATOMIC | BPF_DW: returns the old value; the caller puts it in src (fetch) or r0 (cmpxchg).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Atomic64(JitState s, ulong a, ulong src, ulong r0, int op, int pc, bool check)
    {
        if (check)
        {
            int hint = -1;
            if (Find(s, ref hint, a, 8, write: true) < 0)
            {
                StoreFault(s, a, 8, pc);
            }

            s.MarkWritten(a);
        }

        if ((a & 7) != 0)
        {
            return Misaligned64(a, src, r0, op, pc);
        }

        ref long cell = ref Unsafe.AsRef<long>((void*)a);
        return op switch
        {
            (int)AtomicOp.Add or (int)AtomicOp.Add | (int)AtomicOp.Fetch => (ulong)Interlocked.Add(ref cell, (long)src) - src,
            (int)AtomicOp.Or or (int)AtomicOp.Or | (int)AtomicOp.Fetch => (ulong)Interlocked.Or(ref cell, (long)src),
            (int)AtomicOp.And or (int)AtomicOp.And | (int)AtomicOp.Fetch => (ulong)Interlocked.And(ref cell, (long)src),
            (int)AtomicOp.Xor or (int)AtomicOp.Xor | (int)AtomicOp.Fetch => Xor64(ref cell, src),
            (int)AtomicOp.Xchg => (ulong)Interlocked.Exchange(ref cell, (long)src),
            (int)AtomicOp.CmpXchg => (ulong)Interlocked.CompareExchange(ref cell, (long)src, (long)r0),
            _ => throw ExecutionFaults.InvalidAtomic(pc, op),
        };
    }

    // BPF_ATOMIC | BPF_W: fetched values are zero-extended; cmpxchg compares r0's low 32 bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Atomic32(JitState s, ulong a, ulong src, ulong r0, int op, int pc, bool check)
    {
        if (check)
        {
            int hint = -1;
            if (Find(s, ref hint, a, 4, write: true) < 0)
            {
                StoreFault(s, a, 4, pc);
            }

            s.MarkWritten(a);
        }

        if ((a & 3) != 0)
        {
            return Misaligned32(a, (uint)src, (uint)r0, op, pc);
        }

        ref int cell = ref Unsafe.AsRef<int>((void*)a);
        uint v = (uint)src;
        return op switch
        {
            (int)AtomicOp.Add or (int)AtomicOp.Add | (int)AtomicOp.Fetch => (uint)Interlocked.Add(ref cell, (int)v) - v,
            (int)AtomicOp.Or or (int)AtomicOp.Or | (int)AtomicOp.Fetch => (uint)Interlocked.Or(ref cell, (int)v),
            (int)AtomicOp.And or (int)AtomicOp.And | (int)AtomicOp.Fetch => (uint)Interlocked.And(ref cell, (int)v),
            (int)AtomicOp.Xor or (int)AtomicOp.Xor | (int)AtomicOp.Fetch => Xor32(ref cell, v),
            (int)AtomicOp.Xchg => (uint)Interlocked.Exchange(ref cell, (int)v),
            (int)AtomicOp.CmpXchg => (uint)Interlocked.CompareExchange(ref cell, (int)v, (int)(uint)r0),
            _ => throw ExecutionFaults.InvalidAtomic(pc, op),
        };
    }

    // ---- LD_ABS / LD_IND: r0 = the big-endian value at packet[offset], or ulong.MaxValue when out of bounds (the
    //      kernel then ends the program with r0 = 0; no in-bounds value can be ulong.MaxValue) ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LdAbs(JitState s, long offset, int size)
    {
        if (offset < 0 || offset > s.LdPacketLength - size)
        {
            return ulong.MaxValue;
        }

        byte* p = s.LdPacket + offset;
        return size switch
        {
            4 => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(p)),
            2 => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ushort>(p)),
            _ => *p,
        };
    }

    // ---- BPF-to-BPF calls ----

    // Saves the caller's return site and callee-saved registers in frame `depth`, opens frame depth + 1, returns its R10.
    public static ulong PushFrame(JitState s, int depth, int site, ulong r6, ulong r7, ulong r8, ulong r9, ulong r10, int clear, int pc)
    {
        if (depth + 1 >= BpfInterpreter.MaxCallFrames)
        {
            throw ExecutionFaults.CallStackExceeded(pc);
        }

        s.EnsureRegions();
        ref var f = ref s.Frames[depth];
        f.ReturnSite = site;
        f.RegionCount = s.Regions.Count;
        f.R6 = r6;
        f.R7 = r7;
        f.R8 = r8;
        f.R9 = r9;
        f.R10 = r10;
        return s.EnterFrame(depth + 1, clear);
    }

    // An inlined bpf_loop's callback (CallEmitter.EmitInlineLoop): as PushFrame, with the fault a helper's callback
    // raises at the frame limit (InvokeCallback; the activation adds the call's index, which the state holds).
    public static ulong PushCallbackFrame(JitState s, int depth, int site, ulong r6, ulong r7, ulong r8, ulong r9, ulong r10, int clear)
    {
        if (depth + 1 >= BpfInterpreter.MaxCallFrames)
        {
            throw ExecutionFaults.CallbackStackExceeded();
        }

        s.EnsureRegions();
        ref var f = ref s.Frames[depth];
        f.ReturnSite = site;
        f.RegionCount = s.Regions.Count;
        f.R6 = r6;
        f.R7 = r7;
        f.R8 = r8;
        f.R9 = r9;
        f.R10 = r10;
        return s.EnterFrame(depth + 1, clear);
    }

    // The callee at depth + 1 exited: drop its stack region; the caller restores r6-r10 from the frame and returns.
    public static ref JitFrame PopFrame(JitState s, int depth)
    {
        ref var f = ref s.Frames[depth];
        s.Regions.Truncate(f.RegionCount);
        return ref f;
    }

    // ---- helpers ----

    // callx: the helper id is in a register; looked up when the call runs, as the interpreter does.
    public static ulong CallX(JitProgram code, JitState s, ulong id, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        long helper = (long)id;
        s.CallxId = helper;
        if (helper < 0 || helper > int.MaxValue || !code.Helpers.TryGet((int)helper, out var f))
        {
            throw ExecutionFaults.UnknownHelper(s.Pc, helper);
        }

        return f(r1, r2, r3, r4, r5, s.Env);
    }

    // bpf_tail_call left its target in the environment: run it in this frame (same depth, registers as they are) and
    // return its r0 as the frame's. kernel: ___bpf_prog_run() JMP_TAIL_CALL.
    public static ulong TailCall(JitState s, int pc, int depth)
    {
        s.ArgsDirty = true;
        object? target = s.Env.PendingTailCall;
        s.Env.PendingTailCall = null;
        s.StackDirty = -1;
        if (target is not ExecutableProgram program)
        {
            throw ExecutionFaults.TailCallTarget(pc, target);
        }

        var code = s.Engine!.CodeFor(program);
        return code.Body(s, 0, depth);
    }

    // ---- cold paths: compiled code calls these and executes `throw` ----

    // The budget check of a segment failed: the fault names the first instruction of the segment past the budget.
    // Only the segment's last instruction can have effects, so the instructions before it need not have run.
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Exception BudgetFault(JitProgram code, JitState s, long executed, int count, int segmentStart)
    {
        long before = executed - count;
        long k = s.Budget - before;
        var slots = code.Executable.Slots;
        int pc = segmentStart;
        for (long i = 0; i < k; i++)
        {
            pc += slots[pc].IsLdImm64 ? 2 : 1;
        }

        return ExecutionFaults.BudgetExceeded(pc, s.Budget);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Exception FellOffEnd(JitProgram code) => ExecutionFaults.FellOffEnd(code.Executable.Slots);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Exception BadEntry(JitProgram code, int entry) =>
        new UnreachableException($"{code.Name}: no entry #{entry} in the compiled code");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Exception BadReturnSite(JitProgram code, int site) =>
        new UnreachableException($"{code.Name}: no return site #{site} in the compiled code");

    [DoesNotReturn, StackTraceHidden, MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong LoadFault(JitState s, ulong a, int size, int pc, int region)
    {
        if (region < 0)
        {
            throw ExecutionFaults.OutOfBounds(s.Regions, pc, a, size, write: false);
        }

        // Only aligned 4-byte loads of xdp_md fields are valid.
        throw ExecutionFaults.ContextAccess(pc, (long)(a - s.Ctx!.Address), size);
    }

    [DoesNotReturn, StackTraceHidden, MethodImpl(MethodImplOptions.NoInlining)]
    private static void StoreFault(JitState s, ulong a, int size, int pc) =>
        throw ExecutionFaults.OutOfBounds(s.Regions, pc, a, size, write: true);

    // kernel: xdp_convert_ctx_access()
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong LoadContext(JitState s, ulong a, int pc)
    {
        var ctx = s.Ctx!;
        long offset = (long)(a - ctx.Address);
        if (!ctx.TryLoad(offset, 4, out ulong value))
        {
            throw ExecutionFaults.ContextAccess(pc, offset, 4);
        }

        return value;
    }

    // kernel: xdp_is_valid_access() refuses a sign-extending load of a pointer field.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong LoadContextSigned(JitState s, ulong a, int pc)
    {
        long offset = (long)(a - s.Ctx!.Address);
        if (offset is XdpMd.Data or XdpMd.DataEnd or XdpMd.DataMeta)
        {
            throw ExecutionFaults.ContextSignExtend(pc, offset);
        }

        return (ulong)(long)(int)LoadContext(s, a, pc);
    }

    private static ulong Misaligned64(ulong a, ulong src, ulong r0, int op, int pc)
    {
        // The kernel refuses misaligned atomics; as in the interpreter they still work here, without atomicity.
        ulong old = Unsafe.ReadUnaligned<ulong>((void*)a);
        Unsafe.WriteUnaligned((void*)a, Apply(pc, op, old, src, r0));
        return old;
    }

    private static ulong Misaligned32(ulong a, uint src, uint r0, int op, int pc)
    {
        uint old = Unsafe.ReadUnaligned<uint>((void*)a);
        Unsafe.WriteUnaligned((void*)a, (uint)Apply(pc, op, old, src, r0));
        return old;
    }

    private static ulong Apply(int pc, int op, ulong old, ulong src, ulong r0) => (op & ~(int)AtomicOp.Fetch) switch
    {
        (int)AtomicOp.Add => old + src,
        (int)AtomicOp.Or => old | src,
        (int)AtomicOp.And => old & src,
        (int)AtomicOp.Xor => old ^ src,
        (int)AtomicOp.Xchg & ~(int)AtomicOp.Fetch => src,
        (int)AtomicOp.CmpXchg & ~(int)AtomicOp.Fetch => old == r0 ? src : old,
        _ => throw ExecutionFaults.InvalidAtomic(pc, op),
    };

    private static ulong Xor64(ref long cell, ulong src)
    {
        long seen = Volatile.Read(ref cell);
        while (true)
        {
            long found = Interlocked.CompareExchange(ref cell, seen ^ (long)src, seen);
            if (found == seen)
            {
                return (ulong)found;
            }

            seen = found;
        }
    }

    private static uint Xor32(ref int cell, uint src)
    {
        int seen = Volatile.Read(ref cell);
        while (true)
        {
            int found = Interlocked.CompareExchange(ref cell, seen ^ (int)src, seen);
            if (found == seen)
            {
                return (uint)found;
            }

            seen = found;
        }
    }
}
