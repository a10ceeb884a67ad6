using System.Buffers.Binary;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>The kernel's dynamic pointer, <c>struct bpf_dynptr_kern</c>, as it lies in the program's 16-byte
/// <c>struct bpf_dynptr</c> (kernel/bpf/helpers.c).</summary>
/// <remarks>
/// <code>
///  0           8                                   12         16
///  | void *data | u32 size: bit 31 rdonly,          | u32 offset |
///  |            |   bits 28-30 type, bits 0-23 size |            |
/// </code>
/// data is the memory for LOCAL (bpf_dynptr_from_mem) and RINGBUF dynptrs, and the XDP context (here the
/// <c>xdp_md</c> address; the kernel's xdp_buff) for XDP ones. A NULL data marks an invalid dynptr (all 16 bytes 0).
/// </remarks>
public readonly record struct Dynptr(ulong Data, uint SizeWord, uint Offset)
{
    /// <summary>sizeof(struct bpf_dynptr).</summary>
    public const int StructSize = 16;

    /// <summary>DYNPTR_MAX_SIZE: 2^24 - 1.</summary>
    public const uint MaxSize = (1u << 24) - 1;

    /// <summary>DYNPTR_SIZE_MASK.</summary>
    public const uint SizeMask = 0xffffff;

    /// <summary>DYNPTR_TYPE_SHIFT.</summary>
    public const int TypeShift = 28;

    /// <summary>DYNPTR_RDONLY_BIT.</summary>
    public const uint ReadOnlyBit = 1u << 31;

#pragma warning disable CS1591 // enum bpf_dynptr_type
    public const uint TypeInvalid = 0, TypeLocal = 1, TypeRingbuf = 2, TypeSkb = 3, TypeXdp = 4, TypeSkbMeta = 5;
#pragma warning restore CS1591

    /// <summary>The usable size (size &amp; DYNPTR_SIZE_MASK).</summary>
    public uint Size => SizeWord & SizeMask;

    /// <summary>The type (bpf_dynptr_get_type).</summary>
    public uint Type => (SizeWord & ~ReadOnlyBit) >> TypeShift;

    /// <summary>True when the dynptr may not be written through.</summary>
    public bool IsReadOnly => (SizeWord & ReadOnlyBit) != 0;

    /// <summary>True when data is NULL: an invalid (null) dynptr.</summary>
    public bool IsNull => Data == 0;

    /// <summary>bpf_dynptr_init(): a dynptr of <paramref name="type"/> over <paramref name="size"/> bytes at data.</summary>
    public static Dynptr Create(ulong data, uint type, uint size) => new(data, size | (type << TypeShift), 0);

    /// <summary>Reads the dynptr from its 16 bytes.</summary>
    public static Dynptr Read(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(bytes),
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]));

    /// <summary>Writes the dynptr into its 16 bytes.</summary>
    public void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, Data);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[8..], SizeWord);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[12..], Offset);
    }

    /// <summary>bpf_dynptr_check_off_len(): 0, or -E2BIG when [offset, offset + len) is not inside the dynptr.</summary>
    public int CheckOffLen(uint offset, uint length)
    {
        uint size = Size;
        return length > size || offset > size - length ? -Errno.E2BIG : 0;
    }
}

/// <summary>The dynptr helpers (kernel/bpf/helpers.c, kernel/bpf/ringbuf.c): bpf_dynptr_from_mem,
/// bpf_ringbuf_reserve_dynptr / submit / discard, bpf_dynptr_read, bpf_dynptr_write, bpf_dynptr_data. Dynptrs lie in
/// program memory in the kernel's layout (<see cref="Dynptr"/>); every byte they name is checked against the run's
/// regions as the program's own accesses are.</summary>
public static class DynptrHelpers
{
    private const int RingbufReserveDynptr = 198;

    /// <summary>bpf_dynptr_from_mem(data, size, flags, ptr) (197): a LOCAL dynptr over size bytes at data. 0; -E2BIG
    /// when size exceeds DYNPTR_MAX_SIZE, -EINVAL for any flag (the dynptr is then made NULL).</summary>
    public static ulong FromMem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        uint size = (uint)r2;
        var ptr = env.Store(r4, Dynptr.StructSize);
        if (size > Dynptr.MaxSize)
        {
            return Fail(ptr, Errno.E2BIG);
        }

        env.Store(r1, (int)size);
        if (r3 != 0)
        {
            return Fail(ptr, Errno.EINVAL);
        }

        Dynptr.Create(r1, Dynptr.TypeLocal, size).Write(ptr);
        return 0;
    }

    /// <summary>bpf_ringbuf_reserve_dynptr(ringbuf, size, flags, ptr) (198): a RINGBUF dynptr over a new record of
    /// size bytes. 0; -EINVAL for any flag or when the ring has no room, -E2BIG above DYNPTR_MAX_SIZE (the dynptr is
    /// then made NULL, and must still be discarded or submitted).</summary>
    public static ulong RingbufReserve(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        MapFuncCompat.Check(map, (HelperId)RingbufReserveDynptr);
        if (map is not RingBufMap ring)
        {
            throw new ExecutionFaultException(FaultKind.HelperFailed,
                $"cannot pass map_type {(uint)map.Type} into func {HelperNames.Name(RingbufReserveDynptr)}#{RingbufReserveDynptr}");
        }

        var ptr = env.Store(r4, Dynptr.StructSize);
        uint size = (uint)r2;
        if (r3 != 0)
        {
            return Fail(ptr, Errno.EINVAL);
        }

        if (size > Dynptr.MaxSize)
        {
            return Fail(ptr, Errno.E2BIG);
        }

        ulong sample = ring.Reserve(size, 0);
        if (sample == 0)
        {
            return Fail(ptr, Errno.EINVAL);
        }

        Dynptr.Create(sample, Dynptr.TypeRingbuf, size).Write(ptr);
        return 0;
    }

    /// <summary>bpf_ringbuf_submit_dynptr(ptr, flags) (199): commits the record and makes the dynptr NULL (nothing
    /// for a NULL dynptr). Returns nothing (0 here).</summary>
    public static ulong RingbufSubmit(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Commit(r1, r2, env, discard: false);

    /// <summary>bpf_ringbuf_discard_dynptr(ptr, flags) (200): discards the record and makes the dynptr NULL.</summary>
    public static ulong RingbufDiscard(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Commit(r1, r2, env, discard: true);

    /// <summary>bpf_dynptr_read(dst, len, src, offset, flags) (201): copies len bytes from offset in the dynptr.
    /// 0; -EINVAL for a NULL dynptr or any flag; -E2BIG when the range is not inside the dynptr; for an XDP dynptr
    /// also bpf_xdp_load_bytes' -EFAULT and -EINVAL.</summary>
    public static ulong Read(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        uint length = (uint)r2;
        var dst = env.Store(r1, (int)length);
        var src = Dynptr.Read(env.Load(r3, Dynptr.StructSize));
        uint offset = (uint)r4;
        if (src.IsNull || r5 != 0)
        {
            return Err(Errno.EINVAL);
        }

        int err = src.CheckOffLen(offset, length);
        if (err != 0)
        {
            return Err(-err);
        }

        switch (src.Type)
        {
            case Dynptr.TypeLocal:
            case Dynptr.TypeRingbuf:
                // Source and destination may overlap: CopyTo is a memmove.
                env.Load(src.Data + src.Offset + offset, (int)length).CopyTo(dst);
                return 0;
            case Dynptr.TypeXdp:
            {
                var xdp = env.XdpFrame(src.Data);
                uint at = src.Offset + offset;
                long ret = xdp.CheckRange(at, length);
                if (ret == 0)
                {
                    xdp.CopyOut((int)at, dst);
                }

                return (ulong)ret;
            }

            default:
                return Err(Errno.EFAULT);
        }
    }

    /// <summary>bpf_dynptr_write(dst, offset, src, len, flags) (202): copies len bytes into the dynptr at offset.
    /// 0; -EINVAL for a NULL or read-only dynptr or any flag; -E2BIG when the range is not inside the dynptr; for an XDP
    /// dynptr also bpf_xdp_store_bytes' -EFAULT and -EINVAL.</summary>
    public static ulong Write(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var dst = Dynptr.Read(env.Load(r1, Dynptr.StructSize));
        uint offset = (uint)r2;
        uint length = (uint)r4;
        var src = env.Load(r3, (int)length);
        if (dst.IsNull || dst.IsReadOnly)
        {
            return Err(Errno.EINVAL);
        }

        int err = dst.CheckOffLen(offset, length);
        if (err != 0)
        {
            return Err(-err);
        }

        switch (dst.Type)
        {
            case Dynptr.TypeLocal:
            case Dynptr.TypeRingbuf:
                if (r5 != 0)
                {
                    return Err(Errno.EINVAL);
                }

                src.CopyTo(env.Store(dst.Data + dst.Offset + offset, (int)length));
                return 0;
            case Dynptr.TypeXdp:
            {
                if (r5 != 0)
                {
                    return Err(Errno.EINVAL);
                }

                var xdp = env.XdpFrame(dst.Data);
                uint at = dst.Offset + offset;
                long ret = xdp.CheckRange(at, length);
                if (ret == 0)
                {
                    xdp.CopyIn((int)at, src);
                }

                return (ulong)ret;
            }

            default:
                return Err(Errno.EFAULT);
        }
    }

    /// <summary>bpf_dynptr_data(ptr, offset, len) (203): the address of [offset, offset + len) in a LOCAL or RINGBUF
    /// dynptr; NULL for a NULL or read-only dynptr, a range outside it, and for XDP dynptrs (use bpf_dynptr_slice).</summary>
    public static ulong Data(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var ptr = Dynptr.Read(env.Load(r1, Dynptr.StructSize));
        uint offset = (uint)r2;
        uint length = (uint)r3;
        if (ptr.IsNull || ptr.CheckOffLen(offset, length) != 0 || ptr.IsReadOnly)
        {
            return 0;
        }

        return ptr.Type is Dynptr.TypeLocal or Dynptr.TypeRingbuf ? ptr.Data + ptr.Offset + offset : 0;
    }

    // bpf_ringbuf_submit_dynptr / bpf_ringbuf_discard_dynptr
    private static ulong Commit(ulong ptrAddress, ulong flags, RuntimeEnv env, bool discard)
    {
        ArgumentNullException.ThrowIfNull(env);
        var bytes = env.Store(ptrAddress, Dynptr.StructSize);
        var ptr = Dynptr.Read(bytes);
        if (ptr.IsNull)
        {
            return 0;
        }

        var ring = ptr.Type == Dynptr.TypeRingbuf ? env.Maps?.FindRingBuffer(ptr.Data) : null;
        long ret = ring is null ? -Errno.EINVAL : discard ? ring.Discard(ptr.Data, flags) : ring.Submit(ptr.Data, flags);
        if (ret < 0)
        {
            throw new ExecutionFaultException(FaultKind.HelperFailed, $"R1 is not a dynptr to a reserved ring buffer record (0x{ptr.Data:x})");
        }

        bytes.Clear();
        return 0;
    }

    // bpf_dynptr_set_null() and the error.
    private static ulong Fail(Span<byte> ptr, int errno)
    {
        ptr.Clear();
        return Err(errno);
    }

    private static ulong Err(int errno) => unchecked((ulong)-errno);
}
