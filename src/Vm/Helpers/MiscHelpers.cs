using System.Buffers.Binary;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Helpers;

/// <summary>Helpers about kernel objects an XDP program may name but this VM does not have, with the kernel's
/// argument checks and the answers Linux gives when the object is absent (kernel/bpf/helpers.c,
/// kernel/trace/bpf_trace.c, kernel/bpf/ringbuf.c): BTF printing, per-CPU kernel variables, branch records, kptrs,
/// user ring buffers.</summary>
public static class MiscHelpers
{
    /// <summary>BTF_F_COMPACT | BTF_F_NONAME | BTF_F_PTR_RAW | BTF_F_ZERO: the flags bpf_snprintf_btf accepts.</summary>
    public const ulong BtfFlagsAll = 0xf;

    /// <summary>sizeof(struct btf_ptr): { void *ptr; __u32 type_id; __u32 flags; }.</summary>
    public const int BtfPtrSize = 16;

    /// <summary>BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP: the flags bpf_user_ringbuf_drain accepts.</summary>
    public const ulong RingbufWakeupFlags = 3;

    /// <summary>bpf_snprintf_btf(str, str_size, ptr, btf_ptr_size, flags) (149): prints a kernel object as its
    /// vmlinux BTF type describes it. -EINVAL for unknown flags, a btf_ptr_size other than 16 or type id 0; the VM has
    /// no kernel BTF, so every other type id names no type: -ENOENT (str untouched).</summary>
    public static ulong SnprintfBtf(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        env.Store(r1, (int)(uint)r2);
        var ptr = env.Load(r3, (int)(uint)r4);

        // kernel: bpf_btf_printf_prepare()
        if ((r5 & ~BtfFlagsAll) != 0 || (uint)r4 != BtfPtrSize)
        {
            return ProcessHelpers.Err(Errno.EINVAL);
        }

        uint typeId = BinaryPrimitives.ReadUInt32LittleEndian(ptr[8..]);
        return typeId == 0 ? ProcessHelpers.Err(Errno.EINVAL) : ProcessHelpers.Err(Errno.ENOENT);
    }

    /// <summary>bpf_per_cpu_ptr(percpu_ptr, cpu) (153): CPU <c>cpu</c>'s copy of a per-CPU object, or NULL for a CPU at
    /// or above the number of possible CPUs (the kernel checks that first). The VM's per-CPU objects are those of
    /// bpf_percpu_obj_new_impl (read from a <c>__percpu_kptr</c> field); it has no per-CPU kernel variables
    /// (<c>__ksym</c>), so any other pointer faults with the verifier's message.</summary>
    public static ulong PerCpuPtr(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        uint cpu = (uint)r2;
        if (cpu >= (uint)env.PossibleCpus)
        {
            return 0;
        }

        return PercpuCopy(env, r1, cpu, 153);
    }

    /// <summary>bpf_this_cpu_ptr(percpu_ptr) (154): the running CPU's (<see cref="RuntimeEnv.Cpu"/>) copy of a per-CPU
    /// object of bpf_percpu_obj_new_impl; any other pointer faults, as in <see cref="PerCpuPtr"/>.</summary>
    public static ulong ThisCpuPtr(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return PercpuCopy(env, r1, (uint)env.Cpu, 154);
    }

    // kernel: per_cpu_ptr(ptr, cpu): the copy at cpu * stride from the first.
    private static ulong PercpuCopy(RuntimeEnv env, ulong pointer, uint cpu, int id)
    {
        if (!ObjectArena.TryFind(pointer, out _, out var info) || !info.IsPercpu)
        {
            return ThrowNoPerCpuVariable(env, pointer, id);
        }

        return cpu < (uint)info.Cpus ? pointer + ((ulong)cpu * (ulong)info.Stride) : 0;
    }

    /// <summary>bpf_get_branch_snapshot(entries, size, flags) (176): -EINVAL for non-zero flags, else -ENOENT: no
    /// last-branch records (no perf event with a branch stack runs), as on a machine without LBR. entries is left as
    /// it was.</summary>
    public static ulong GetBranchSnapshot(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        env.Store(r1, (int)(uint)r2);
        return r3 != 0 ? ProcessHelpers.Err(Errno.EINVAL) : ProcessHelpers.Err(Errno.ENOENT);
    }

    /// <summary>bpf_kptr_xchg(dst, ptr) (194): stores ptr in the 8-byte kptr field at dst and returns the pointer it
    /// held (xchg). dst must lie in a map value (global data included); anything else faults with the verifier's
    /// message ("R1 type=fp expected=map_value, ptr_" for the stack).</summary>
    public static ulong KptrXchg(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        string type = ArgType(env, r1);
        if (type != "map_value")
        {
            ThrowArgType(type, "map_value, ptr_");
        }

        var field = env.Store(r1, sizeof(ulong));
        ulong old = BinaryPrimitives.ReadUInt64LittleEndian(field);
        BinaryPrimitives.WriteUInt64LittleEndian(field, r2);
        return old;
    }

    /// <summary>bpf_user_ringbuf_drain(map, callback_fn, ctx, flags) (209): calls callback_fn(dynptr, ctx) for each
    /// sample user space has produced into the BPF_MAP_TYPE_USER_RINGBUF (a local dynptr over the sample), consuming
    /// it, until the ring is empty, the callback returns 1, or BPF_MAX_USER_RINGBUF_SAMPLES samples. Returns the
    /// samples taken (the one the callback stopped at included, discarded records not); -EINVAL for flags other
    /// than BPF_RB_NO_WAKEUP / BPF_RB_FORCE_WAKEUP or a malformed record, -E2BIG for a record larger than the ring or
    /// a dynptr, -EBUSY from a drain's own callback. Any other map type faults with the verifier's message.</summary>
    public static ulong UserRingbufDrain(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        ProcessHelpers.RequireMapType(map, MapType.UserRingbuf, 209);
        if ((r4 & ~RingbufWakeupFlags) != 0)
        {
            return ProcessHelpers.Err(Errno.EINVAL);
        }

        var ring = map as UserRingBufMap
            ?? throw new ExecutionFaultException(FaultKind.NotSupported, $"map {map.Name}: not a user ring buffer this VM implements");

        // kernel: atomic_try_cmpxchg(&rb->busy, ...): one consumer at a time
        if (ring.Busy)
        {
            return ProcessHelpers.Err(Errno.EBUSY);
        }

        var engine = env.Callbacks ?? throw new ExecutionFaultException(FaultKind.NotSupported, "this engine cannot run callbacks");
        Span<byte> dynptr = stackalloc byte[Dynptr.StructSize];
        long samples, discarded = 0;
        ulong ret = 0;
        ring.Busy = true;
        try
        {
            for (samples = 0; samples < UserRingBufMap.MaxSamples && ret == 0; samples++)
            {
                int err = ring.Peek(out ulong sample, out uint size);
                if (err == -Errno.ENODATA)
                {
                    break;
                }

                if (err == -Errno.EAGAIN)
                {
                    discarded++;
                    continue;
                }

                if (err != 0)
                {
                    return ProcessHelpers.Err(-err);
                }

                Dynptr.Create(sample, Dynptr.TypeLocal, size).Write(dynptr);
                int regions = env.Regions.Count;
                ulong dynptrAddress = env.PushScratch(dynptr, "user ringbuf sample dynptr");
                try
                {
                    ret = engine.InvokeCallback(r2, dynptrAddress, r3, 0, 0, 0);
                }
                finally
                {
                    env.PopScratch(regions);
                }

                ring.Release(size);
            }
        }
        finally
        {
            ring.Busy = false;
        }

        return (ulong)(samples - discarded);
    }

    /// <summary>The verifier's refusal of a per-CPU pointer argument that is not one.</summary>
    public const string PerCpuPointerExpected = "expected=percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_";

    private static ulong ThrowNoPerCpuVariable(RuntimeEnv env, ulong pointer, int id) =>
        throw new ExecutionFaultException(
            FaultKind.HelperFailed,
            $"R1 type={ArgType(env, pointer)} {PerCpuPointerExpected} (0x{pointer:x}; {Isa.HelperNames.Name(id)}#{id}: not a per-CPU object of bpf_percpu_obj_new_impl, and this VM has no per-CPU kernel variables)");

    // What the verifier would have called the register: the kind of memory the address lies in (reg_type_str()).
    private static string ArgType(RuntimeEnv env, ulong address)
    {
        int i = env.Regions.Find(address, 1, write: false);
        return i < 0 ? "scalar" : env.Regions[i].Kind switch
        {
            RegionKind.Stack => "fp",
            RegionKind.Packet => "pkt",
            RegionKind.Context => "ctx",
            RegionKind.MapValue or RegionKind.GlobalData => "map_value",
            _ => "mem",
        };
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowArgType(string type, string expected) =>
        throw new ExecutionFaultException(FaultKind.HelperFailed, $"R1 type={type} expected={expected}");
}
