using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Memory;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Interpreter;

public sealed unsafe partial class BpfInterpreter
{
    // The same through a per-instruction hint (DecodedInstruction.Spare): the region this access site found last,
    // tried first (RegionTable.FindFrom: same result as Find; sites that touch different regions do not evict each
    // other). The hint lives in the program's decoded stream, shared by every interpreter that runs it: a stale or
    // racing hint only changes where the search starts.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CheckAccess(RegionTable regions, byte* hint, int pc, ulong address, int size, bool write)
    {
        int h = *hint;
        int region = regions.FindFrom(ref h, address, size, write);
        if (region < 0)
        {
            ThrowOutOfBounds(regions, pc, address, size, write);
        }

        if (h != *hint && h <= byte.MaxValue)
        {
            *hint = (byte)h;
        }

        return region;
    }

    // The value windows: the bounds of two regions registered before the run began (map value blocks, global data),
    // which the main loop's fast path accepts after the stack frame and the packet (InValue, InValueWritable). Such a
    // region stays registered, at the same index, until the run ends: what a run pushes (its context, packet and
    // frames, a callback's frame, a helper's scratch) comes after it, and what a run removes is only what it pushed.
    // So an access wholly inside one passes the table's check with that region, which is not the context and not a
    // stack frame (nothing to mark). The region a slow-path access found last becomes window A, A moves to B. Both
    // are forgotten when a run (or an outside callback) begins: the table may have changed in between. _valueBase is
    // the count of regions the windows may come from. A write window's length is 0 for a read-only region.
    private ulong _valLoA;
    private ulong _valLenA;
    private ulong _valWriteLenA;
    private ulong _valLoB;
    private ulong _valLenB;
    private ulong _valWriteLenB;
    private int _valueBase;

    private void ForgetValueWindow(int regionsBefore)
    {
        _valueBase = regionsBefore;
        _valLoA = _valLenA = _valWriteLenA = 0;
        _valLoB = _valLenB = _valWriteLenB = 0;
    }

    // A slow-path access found `region`: when it is one a window may hold, window A becomes it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void NoteValueRegion(int region)
    {
        if ((uint)region < (uint)_valueBase && region != _contextRegion)
        {
            SetValueWindow(region);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void SetValueWindow(int region)
    {
        var r = Env.Regions[region];
        if (r.Start != _valLoA || r.Length != _valLenA)
        {
            _valLoB = _valLoA;
            _valLenB = _valLenA;
            _valWriteLenB = _valWriteLenA;
        }

        _valLoA = r.Start;
        _valLenA = r.Length;
        _valWriteLenA = r.Writable ? r.Length : 0;
    }

    // True when all `size` bytes at `a` lie in a value window (for a load).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool InValue(ulong a, int size)
    {
        ulong o = a - _valLoA;
        if (o < _valLenA && _valLenA - o >= (ulong)size)
        {
            return true;
        }

        o = a - _valLoB;
        return o < _valLenB && _valLenB - o >= (ulong)size;
    }

    // True when all `size` bytes at `a` lie in a writable value window (for a store).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool InValueWritable(ulong a, int size)
    {
        ulong o = a - _valLoA;
        if (o < _valWriteLenA && _valWriteLenA - o >= (ulong)size)
        {
            return true;
        }

        o = a - _valLoB;
        return o < _valWriteLenB && _valWriteLenB - o >= (ulong)size;
    }

    // CheckAccess for the loop's slow paths. While RunXdp(XdpBuffer) has not registered its regions yet, the table as it
    // is is searched first: the environment's own regions (map values, global data) are there, at the indices the full
    // table gives them (the run's context, packet and frame 0 come after them, and regions never overlap), so an access
    // to a map value registers nothing. Only a miss registers the run's regions and searches again, so the region
    // found, and the fault, are always the full table's.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FindLazy(byte* hint, int pc, ulong address, int size, bool write)
    {
        var regions = Env.Regions;
        if (_regionsPending)
        {
            int h = *hint;
            int found = regions.FindFrom(ref h, address, size, write);
            if (found >= 0)
            {
                if (h != *hint && h <= byte.MaxValue)
                {
                    *hint = (byte)h;
                }

                return found;
            }

            MaterializeRegions();
        }

        return CheckAccess(regions, hint, pc, address, size, write);
    }

    // Every access goes through here first: the region that holds all `size` bytes and allows the access, or a fault.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CheckAccess(RegionTable regions, int pc, ulong address, int size, bool write)
    {
        int region = regions.Find(address, size, write);
        if (region < 0)
        {
            ThrowOutOfBounds(regions, pc, address, size, write);
        }

        return region;
    }

    // A load the main loop's fast path did not take (not wholly in the current stack frame or the packet): through
    // the region table; a context load must be an aligned 4-byte load of a field. The value is zero-extended.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong LoadSlow(int pc, byte* hint, ulong address, int size)
    {
        int region = FindLazy(hint, pc, address, size, write: false);
        if (region == _contextRegion)
        {
            if (size == 4)
            {
                return LoadContext(pc, address, 4);
            }

            ThrowContextAccess(pc, (long)(address - _ctx.Address), size);
        }

        NoteValueRegion(region);
        return ReadSized(address, size);
    }

    // The same for the sign-extending loads (ldsx): the value is sign-extended from `size` bytes.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong LoadSlowSigned(int pc, byte* hint, ulong address, int size)
    {
        int region = FindLazy(hint, pc, address, size, write: false);
        if (region == _contextRegion)
        {
            if (size == 4)
            {
                return LoadContextSigned(pc, address);
            }

            ThrowContextAccess(pc, (long)(address - _ctx.Address), size);
        }

        NoteValueRegion(region);
        return size switch
        {
            1 => (ulong)(long)*(sbyte*)address,
            2 => (ulong)(long)Unsafe.ReadUnaligned<short>((void*)address),
            _ => (ulong)(long)Unsafe.ReadUnaligned<int>((void*)address),
        };
    }

    // A store the fast path did not take. The context region is read only, so a store to it fails here like any
    // other bad store.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void StoreSlow<T>(int pc, byte* hint, ulong address, T value)
        where T : unmanaged
    {
        NoteValueRegion(FindLazy(hint, pc, address, sizeof(T), write: true));
        MarkStack(address);
        Unsafe.WriteUnaligned((void*)address, value);
    }

    // A 4-byte load from the context: data, data_end and data_meta give the full 64-bit pointers.
    // kernel: xdp_convert_ctx_access()
    private ulong LoadContext(int pc, ulong address, int size)
    {
        long offset = (long)(address - _ctx.Address);
        if (!_ctx.TryLoad(offset, size, out ulong value))
        {
            ThrowContextAccess(pc, offset, size);
        }

        return value;
    }

    // LoadContext for the main loop's 4-byte loads inside the context: data and data_end, what nearly every program
    // loads, without the field switch.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong LoadContextWord(int pc, ulong address)
    {
        ulong offset = address - _ctxStart;
        return offset == XdpMd.Data ? _ctx.Data : offset == XdpMd.DataEnd ? _ctx.DataEnd : LoadContext(pc, address, 4);
    }

    // A sign-extending 4-byte load from the context (cpu v4 ldsx): the kernel loads the field as for a plain load,
    // then sign-extends it (a movsx appended by convert_ctx_accesses). It refuses one of data, data_end or data_meta
    // (xdp_is_valid_access: a pointer cannot be sign-extended).
    // kernel: xdp_is_valid_access(), convert_ctx_accesses()
    private ulong LoadContextSigned(int pc, ulong address)
    {
        long offset = (long)(address - _ctx.Address);
        if (offset is XdpMd.Data or XdpMd.DataEnd or XdpMd.DataMeta)
        {
            ThrowContextSignExtend(pc, offset);
        }

        return (ulong)(long)(int)LoadContext(pc, address, 4);
    }

    // LD_ABS / LD_IND: r0 = the big-endian value at packet[offset]; false when it is out of bounds.
    // The offset is the s32 imm (plus src for IND, truncated to s32) as the kernel's bpf_skb_load_helper takes it.
    private static bool LoadPacketLegacy(in Instruction insn, ref RegisterFile regs, byte* packet, int packetLength)
    {
        long offset = insn.Mode == MemMode.Ind
            ? (int)(regs[insn.SrcReg] + (ulong)(long)insn.Imm)
            : insn.Imm;
        int size = insn.AccessBytes;
        if (offset < 0 || offset > packetLength - size)
        {
            return false;
        }

        byte* p = packet + offset;
        regs[0] = size switch
        {
            4 => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(p)),
            2 => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ushort>(p)),
            _ => *p,
        };
        return true;
    }

    // BPF_ATOMIC | BPF_DW: add/or/and/xor (optionally with BPF_FETCH), xchg, cmpxchg on 8 bytes.
    private void Atomic64(RegionTable regions, int pc, in Instruction insn, ref RegisterFile regs)
    {
        int op = insn.Imm;
        int srcReg = insn.SrcReg;
        bool fetch = (op & (int)AtomicOp.Fetch) != 0 && op != (int)AtomicOp.CmpXchg;
        if (fetch && srcReg == 10)
        {
            ThrowFramePointerWrite(pc);
        }

        ulong address = regs[insn.DstReg] + (ulong)(long)insn.Offset;
        CheckAccess(regions, pc, address, 8, write: true);
        MarkStack(address);
        ulong src = regs[srcReg];
        ulong old;
        if ((address & 7) == 0)
        {
            ref long cell = ref Unsafe.AsRef<long>((void*)address);
            old = op switch
            {
                (int)AtomicOp.Add or (int)AtomicOp.Add | (int)AtomicOp.Fetch => (ulong)Interlocked.Add(ref cell, (long)src) - src,
                (int)AtomicOp.Or or (int)AtomicOp.Or | (int)AtomicOp.Fetch => (ulong)Interlocked.Or(ref cell, (long)src),
                (int)AtomicOp.And or (int)AtomicOp.And | (int)AtomicOp.Fetch => (ulong)Interlocked.And(ref cell, (long)src),
                (int)AtomicOp.Xor or (int)AtomicOp.Xor | (int)AtomicOp.Fetch => XorAtomic(ref cell, src),
                (int)AtomicOp.Xchg => (ulong)Interlocked.Exchange(ref cell, (long)src),
                (int)AtomicOp.CmpXchg => (ulong)Interlocked.CompareExchange(ref cell, (long)src, (long)regs[0]),
                _ => ThrowInvalidAtomic(pc, op),
            };
        }
        else
        {
            // The kernel refuses misaligned atomics; here they still work, without atomicity.
            old = Unsafe.ReadUnaligned<ulong>((void*)address);
            Unsafe.WriteUnaligned((void*)address, Apply(pc, op, old, src, regs[0]));
        }

        if (op == (int)AtomicOp.CmpXchg)
        {
            regs[0] = old;
        }
        else if (fetch)
        {
            regs[srcReg] = old;
        }
    }

    // BPF_ATOMIC | BPF_W: the same on 4 bytes; fetched values are zero-extended, cmpxchg compares r0's low 32 bits.
    private void Atomic32(RegionTable regions, int pc, in Instruction insn, ref RegisterFile regs)
    {
        int op = insn.Imm;
        int srcReg = insn.SrcReg;
        bool fetch = (op & (int)AtomicOp.Fetch) != 0 && op != (int)AtomicOp.CmpXchg;
        if (fetch && srcReg == 10)
        {
            ThrowFramePointerWrite(pc);
        }

        ulong address = regs[insn.DstReg] + (ulong)(long)insn.Offset;
        CheckAccess(regions, pc, address, 4, write: true);
        MarkStack(address);
        uint src = (uint)regs[srcReg];
        uint old;
        if ((address & 3) == 0)
        {
            ref int cell = ref Unsafe.AsRef<int>((void*)address);
            old = op switch
            {
                (int)AtomicOp.Add or (int)AtomicOp.Add | (int)AtomicOp.Fetch => (uint)Interlocked.Add(ref cell, (int)src) - src,
                (int)AtomicOp.Or or (int)AtomicOp.Or | (int)AtomicOp.Fetch => (uint)Interlocked.Or(ref cell, (int)src),
                (int)AtomicOp.And or (int)AtomicOp.And | (int)AtomicOp.Fetch => (uint)Interlocked.And(ref cell, (int)src),
                (int)AtomicOp.Xor or (int)AtomicOp.Xor | (int)AtomicOp.Fetch => XorAtomic(ref cell, src),
                (int)AtomicOp.Xchg => (uint)Interlocked.Exchange(ref cell, (int)src),
                (int)AtomicOp.CmpXchg => (uint)Interlocked.CompareExchange(ref cell, (int)src, (int)regs[0]),
                _ => (uint)ThrowInvalidAtomic(pc, op),
            };
        }
        else
        {
            old = Unsafe.ReadUnaligned<uint>((void*)address);
            Unsafe.WriteUnaligned((void*)address, (uint)Apply(pc, op, old, src, (uint)regs[0]));
        }

        if (op == (int)AtomicOp.CmpXchg)
        {
            regs[0] = old;
        }
        else if (fetch)
        {
            regs[srcReg] = old;
        }
    }

    private static ulong XorAtomic(ref long cell, ulong src)
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

    private static uint XorAtomic(ref int cell, uint src)
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

    // The new memory value of an atomic operation (for the non-atomic, misaligned path).
    private static ulong Apply(int pc, int op, ulong old, ulong src, ulong r0) => (op & ~(int)AtomicOp.Fetch) switch
    {
        (int)AtomicOp.Add => old + src,
        (int)AtomicOp.Or => old | src,
        (int)AtomicOp.And => old & src,
        (int)AtomicOp.Xor => old ^ src,
        (int)AtomicOp.Xchg & ~(int)AtomicOp.Fetch => src,
        (int)AtomicOp.CmpXchg & ~(int)AtomicOp.Fetch => old == r0 ? src : old,
        _ => ThrowInvalidAtomic(pc, op),
    };

    // A helper call (by imm, or by register for callx). r1-r5 are left as they were; a fault a helper raises
    // gets this instruction's index, and any other exception becomes a HelperFailed fault.
    private ulong CallHelper(int pc, long id, ref RegisterFile regs)
    {
        EnsureRegions();
        if (id < 0 || id > int.MaxValue || !_helpers.TryGet((int)id, out HelperFunc? helper))
        {
            ThrowUnknownHelper(pc, id);
            return 0; // unreachable: keeps definite assignment of `helper` simple
        }

        MarkStackArguments(ref regs);
        try
        {
            return helper(regs[1], regs[2], regs[3], regs[4], regs[5], Env);
        }
        catch (Exception e) when (e is not ExecutionFaultException { Pc: >= 0 })
        {
            throw ExecutionFaults.FromHelper(pc, kfunc: false, id, _helpers, e)!;
        }
    }

    // A helper writes memory only at or above the pointers it is given: any of r1-r5 that points into a frame lowers
    // that frame's floor (see _floors).
    private void MarkStackArguments(ref RegisterFile regs)
    {
        MarkStack(regs[1]);
        MarkStack(regs[2]);
        MarkStack(regs[3]);
        MarkStack(regs[4]);
        MarkStack(regs[5]);
    }

    // A kfunc call (src 2): the imm is the kfunc's id in the helper table's kfunc list.
    private ulong CallKfunc(int pc, int id, ref RegisterFile regs)
    {
        EnsureRegions();
        if (!_helpers.TryGetKfunc(id, out HelperFunc? kfunc))
        {
            ThrowUnknownKfunc(pc, id);
            return 0;
        }

        MarkStackArguments(ref regs);
        try
        {
            return kfunc(regs[1], regs[2], regs[3], regs[4], regs[5], Env);
        }
        catch (Exception e) when (e is not ExecutionFaultException { Pc: >= 0 })
        {
            throw ExecutionFaults.FromHelper(pc, kfunc: true, id, _helpers, e)!;
        }
    }

    // bpf_tail_call left its target in the environment: take it.
    private static ExecutableProgram TakeTailCall(RuntimeEnv env, int pc)
    {
        object? target = env.PendingTailCall;
        env.PendingTailCall = null;
        if (target is ExecutableProgram program)
        {
            return program;
        }

        throw ExecutionFaults.TailCallTarget(pc, target);
    }
}
