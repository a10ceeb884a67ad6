using System.Buffers.Binary;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Helpers;

/// <summary>The RX metadata of the device a program is bound to: what the driver's xdp_metadata_ops return for the
/// current frame (net/core/xdp.c and, for veth, drivers/net/veth.c).</summary>
public interface IXdpRxMetadata
{
    /// <summary>xmo_rx_timestamp: 0 and the hardware timestamp, or a negative errno (-ENODATA: none).</summary>
    int RxTimestamp(out ulong timestamp);

    /// <summary>xmo_rx_hash: 0, the RSS hash and its <c>enum xdp_rss_hash_type</c>, or a negative errno.</summary>
    int RxHash(out uint hash, out uint rssType);

    /// <summary>xmo_rx_vlan_tag: 0, the VLAN protocol (network order, as a __be16 holds it) and TCI, or a negative errno.</summary>
    int RxVlanTag(out ushort vlanProto, out ushort vlanTci);
}

/// <summary>A bound device whose frames carry no RX metadata: every metadata kfunc returns -ENODATA (what veth returns
/// for a frame without an skb timestamp, hash or VLAN tag).</summary>
public sealed class NoRxMetadata : IXdpRxMetadata
{
    /// <summary>The shared instance.</summary>
    public static NoRxMetadata Instance { get; } = new();

    /// <inheritdoc/>
    public int RxTimestamp(out ulong timestamp)
    {
        timestamp = 0;
        return -Errno.ENODATA;
    }

    /// <inheritdoc/>
    public int RxHash(out uint hash, out uint rssType)
    {
        hash = 0;
        rssType = 0;
        return -Errno.ENODATA;
    }

    /// <inheritdoc/>
    public int RxVlanTag(out ushort vlanProto, out ushort vlanTci)
    {
        vlanProto = 0;
        vlanTci = 0;
        return -Errno.ENODATA;
    }
}

/// <summary>The kfuncs an XDP program may call (net/core/filter.c, kernel/bpf/helpers.c, net/core/xdp.c), by
/// <see cref="KfuncId"/>: bpf_dynptr_from_xdp, bpf_dynptr_slice, bpf_dynptr_slice_rdwr, and the device-bound metadata
/// kfuncs bpf_xdp_metadata_rx_timestamp / rx_hash / rx_vlan_tag.</summary>
public static class KfuncHelpers
{
    /// <summary>The verifier's message for a metadata kfunc in a program that is not bound to a device
    /// (kernel/bpf/offload.c: bpf_dev_bound_kfunc_check(), load fails with -EINVAL).</summary>
    public const string DeviceBoundRequired = "metadata kfuncs require device-bound program";

    /// <summary>The load-time check of a kfunc call: null when the call may load, else the verifier's message. The
    /// metadata kfuncs need a device-bound program.</summary>
    /// <param name="id">The kfunc.</param>
    /// <param name="deviceBound">True when the program is loaded bound to a device (prog_ifindex with
    /// BPF_F_XDP_DEV_BOUND_ONLY).</param>
    public static string? CheckLoad(KfuncId id, bool deviceBound) =>
        Kfuncs.NeedsDevice(id) && !deviceBound ? DeviceBoundRequired : null;

    /// <summary><c>int bpf_dynptr_from_xdp(struct xdp_md *x, u64 flags, struct bpf_dynptr *ptr__uninit)</c>: an XDP
    /// dynptr over the whole frame (its size is the frame's length now, fragments included). 0, or -EINVAL for any flag
    /// (the dynptr is then made NULL).</summary>
    public static ulong DynptrFromXdp(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var xdp = env.XdpFrame(r1);
        var ptr = env.Store(r3, Dynptr.StructSize);
        if (r2 != 0)
        {
            ptr.Clear();
            return unchecked((ulong)-Errno.EINVAL);
        }

        Dynptr.Create(r1, Dynptr.TypeXdp, (uint)xdp.BuffLength).Write(ptr);
        return 0;
    }

    /// <summary><c>void *bpf_dynptr_slice(const struct bpf_dynptr *p, u32 offset, void *buffer__opt, u32 buffer__szk)</c>:
    /// a read-only pointer to buffer__szk bytes at offset. LOCAL and RINGBUF dynptrs: into their memory. XDP dynptrs:
    /// into the packet when the bytes lie in the frame's linear part, else a copy of them in buffer__opt (NULL without
    /// one). NULL for a NULL dynptr and a range outside it.</summary>
    public static ulong DynptrSlice(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Slice(r1, r2, r3, r4, env, writable: false);

    /// <summary><c>void *bpf_dynptr_slice_rdwr(...)</c>: as <see cref="DynptrSlice"/>, writable, and NULL for a read-only
    /// dynptr. Writes through a copy in buffer__opt reach the frame only through bpf_dynptr_write.</summary>
    public static ulong DynptrSliceRdwr(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env) =>
        Slice(r1, r2, r3, r4, env, writable: true);

    /// <summary><c>int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, u64 *timestamp)</c>: 0 and the value
    /// from the bound device (<see cref="NetRunState.BoundDevice"/>), or its error; -ENODATA when no metadata source is
    /// configured. Only device-bound programs reach it: the loader refuses others (<see cref="CheckLoad"/>).</summary>
    public static ulong XdpMetadataRxTimestamp(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        env.XdpFrame(r1);
        var ts = env.Store(r2, sizeof(ulong));
        var dev = NetRunState.For(env).BoundDevice ?? NoRxMetadata.Instance;
        int ret = dev.RxTimestamp(out ulong value);
        if (ret == 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(ts, value);
        }

        return (ulong)(long)ret;
    }

    /// <summary><c>int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, u32 *hash, enum xdp_rss_hash_type *rss_type)</c>.</summary>
    public static ulong XdpMetadataRxHash(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        env.XdpFrame(r1);
        var hash = env.Store(r2, sizeof(uint));
        var type = env.Store(r3, sizeof(uint));
        var dev = NetRunState.For(env).BoundDevice ?? NoRxMetadata.Instance;
        int ret = dev.RxHash(out uint h, out uint t);
        if (ret == 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(hash, h);
            BinaryPrimitives.WriteUInt32LittleEndian(type, t);
        }

        return (ulong)(long)ret;
    }

    /// <summary><c>int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto, u16 *vlan_tci)</c>.</summary>
    public static ulong XdpMetadataRxVlanTag(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        env.XdpFrame(r1);
        var proto = env.Store(r2, sizeof(ushort));
        var tci = env.Store(r3, sizeof(ushort));
        var dev = NetRunState.For(env).BoundDevice ?? NoRxMetadata.Instance;
        int ret = dev.RxVlanTag(out ushort p, out ushort t);
        if (ret == 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(proto, p);
            BinaryPrimitives.WriteUInt16LittleEndian(tci, t);
        }

        return (ulong)(long)ret;
    }

    private static ulong Slice(ulong dynptr, ulong offsetArg, ulong buffer, ulong bufferSize, RuntimeEnv env, bool writable)
    {
        ArgumentNullException.ThrowIfNull(env);
        var ptr = Dynptr.Read(env.Load(dynptr, Dynptr.StructSize));
        uint offset = (uint)offsetArg;
        uint length = (uint)bufferSize;
        var buf = buffer != 0 ? env.Store(buffer, (int)length) : default;
        if (ptr.IsNull || (writable && ptr.IsReadOnly) || ptr.CheckOffLen(offset, length) != 0)
        {
            return 0;
        }

        switch (ptr.Type)
        {
            case Dynptr.TypeLocal:
            case Dynptr.TypeRingbuf:
                return ptr.Data + ptr.Offset + offset;
            case Dynptr.TypeXdp:
            {
                // bpf_xdp_pointer(): a direct pointer when the bytes are in one piece of the frame (here: its linear
                // part); otherwise bpf_xdp_copy_buf() into the buffer, of whatever bytes the frame has there.
                var xdp = env.XdpFrame(ptr.Data);
                uint at = ptr.Offset + offset;
                if (xdp.CheckRange(at, length) == 0 && (ulong)at + length <= (ulong)xdp.LinearLength)
                {
                    return xdp.Data + at;
                }

                if (buffer == 0)
                {
                    return 0;
                }

                if (at < (uint)xdp.BuffLength)
                {
                    int n = (int)Math.Min(length, (uint)xdp.BuffLength - at);
                    xdp.CopyOut((int)at, buf[..n]);
                }

                return buffer;
            }

            default:
                return 0;
        }
    }
}
