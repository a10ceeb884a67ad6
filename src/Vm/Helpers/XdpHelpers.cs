using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>The XDP helpers of net/core/filter.c: packet bounds (adjust_head, adjust_meta, adjust_tail), frame access
/// (get_buff_len, load_bytes, store_bytes) and redirects (redirect, redirect_map). Argument 1 must be the run's
/// context; helpers that move the packet re-register its region.</summary>
public static class XdpHelpers
{
    /// <summary>XDP_ABORTED.</summary>
    public const ulong XdpAborted = 0;

    /// <summary>XDP_REDIRECT.</summary>
    public const ulong XdpRedirect = 4;

    /// <summary>BPF_F_BROADCAST: redirect to every device in the devmap.</summary>
    public const ulong BroadcastFlag = 1UL << 3;

    /// <summary>BPF_F_EXCLUDE_INGRESS: with BPF_F_BROADCAST, skip the receiving device.</summary>
    public const ulong ExcludeIngressFlag = 1UL << 4;

    // XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX: the fallback verdicts redirect_map takes from its flags.
    private const ulong ActionMask = 3;

    /// <summary>bpf_xdp_adjust_head(ctx, offset) (44): see <see cref="Xdp.XdpBuffer.AdjustHead"/>.</summary>
    public static ulong XdpAdjustHead(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        long ret = env.XdpFrame(r1).AdjustHead((int)r2);
        if (ret == 0)
        {
            env.RefreshPacketRegion();
        }

        return (ulong)ret;
    }

    /// <summary>bpf_xdp_adjust_meta(ctx, offset) (54): see <see cref="Xdp.XdpBuffer.AdjustMeta"/>.</summary>
    public static ulong XdpAdjustMeta(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        long ret = env.XdpFrame(r1).AdjustMeta((int)r2);
        if (ret == 0)
        {
            env.RefreshPacketRegion();
        }

        return (ulong)ret;
    }

    /// <summary>bpf_xdp_adjust_tail(ctx, offset) (65): see <see cref="Xdp.XdpBuffer.AdjustTail"/>.</summary>
    public static ulong XdpAdjustTail(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        long ret = env.XdpFrame(r1).AdjustTail((int)r2);
        if (ret == 0)
        {
            env.RefreshPacketRegion();
        }

        return (ulong)ret;
    }

    /// <summary>bpf_xdp_get_buff_len(ctx) (188): the frame's length, fragments included.</summary>
    public static ulong XdpGetBuffLen(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return (ulong)env.XdpFrame(r1).BuffLength;
    }

    /// <summary>bpf_xdp_load_bytes(ctx, offset, buf, len) (189): copies len frame bytes from offset (counted from data,
    /// across fragments) into buf; 0, -EFAULT (offset or len above 0xffff) or -EINVAL (past the end).</summary>
    public static ulong XdpLoadBytes(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var xdp = env.XdpFrame(r1);
        uint offset = (uint)r2;
        uint length = (uint)r4;
        var buf = env.Store(r3, (int)length);
        long ret = xdp.CheckRange(offset, length);
        if (ret == 0)
        {
            xdp.CopyOut((int)offset, buf);
        }

        return (ulong)ret;
    }

    /// <summary><see cref="XdpLoadBytes"/> for a program the verifier accepted (the unchecked JIT binds it): without
    /// the region check of buf (kernel: check_helper_mem_access() proved len writable bytes there).</summary>
    public static unsafe ulong XdpLoadBytesVerified(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var xdp = env.XdpFrame(r1);
        uint offset = (uint)r2;
        uint length = (uint)r4;
        long ret = xdp.CheckRange(offset, length);
        if (ret == 0)
        {
            xdp.CopyOut((int)offset, new Span<byte>((void*)r3, (int)length));
        }

        return (ulong)ret;
    }

    /// <summary><see cref="XdpStoreBytes"/> for a program the verifier accepted: without the region check of buf
    /// (kernel: check_helper_mem_access() proved len initialised readable bytes there).</summary>
    public static unsafe ulong XdpStoreBytesVerified(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var xdp = env.XdpFrame(r1);
        uint offset = (uint)r2;
        uint length = (uint)r4;
        long ret = xdp.CheckRange(offset, length);
        if (ret == 0)
        {
            xdp.CopyIn((int)offset, new ReadOnlySpan<byte>((void*)r3, (int)length));
        }

        return (ulong)ret;
    }

    /// <summary>bpf_xdp_store_bytes(ctx, offset, buf, len) (190): copies buf into the frame at offset; 0, -EFAULT or -EINVAL.</summary>
    public static ulong XdpStoreBytes(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var xdp = env.XdpFrame(r1);
        uint offset = (uint)r2;
        uint length = (uint)r4;
        var buf = env.Load(r3, (int)length);
        long ret = xdp.CheckRange(offset, length);
        if (ret == 0)
        {
            xdp.CopyIn((int)offset, buf);
        }

        return (ulong)ret;
    }

    /// <summary>bpf_redirect(ifindex, flags) (23): XDP_REDIRECT to the device, or XDP_ABORTED when flags is not 0.
    /// kernel: bpf_xdp_redirect(): map type UNSPEC and map id INT_MAX mark an ifindex redirect.</summary>
    public static ulong Redirect(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        if (r2 != 0)
        {
            return XdpAborted;
        }

        env.Redirect.TargetIndex = (uint)r1;
        env.Redirect.MapId = RedirectState.IfindexMapId;
        env.Redirect.MapType = MapType.Unspec;
        return XdpRedirect;
    }

    /// <summary>bpf_redirect_map(map, key, flags) (51): XDP_REDIRECT when the key names an entry of the devmap,
    /// cpumap or xskmap (or with BPF_F_BROADCAST on a devmap); on a miss, the fallback verdict flags &amp; 3; with
    /// flags the map type does not know, XDP_ABORTED. kernel: __bpf_xdp_redirect_map().</summary>
    public static ulong RedirectMap(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        MapFuncCompat.Check(map, HelperId.RedirectMap);
        return RedirectMapTo(map, r2, r3, env);
    }

    /// <summary><see cref="RedirectMap"/> for a program the verifier accepted (the unchecked JIT binds it): without
    /// the map type check, which the verifier made (kernel: check_map_func_compatibility()).</summary>
    public static ulong RedirectMapVerified(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return RedirectMapTo(env.ResolveMap(r1), r2, r3, env);
    }

    private static ulong RedirectMapTo(BpfMap map, ulong r2, ulong r3, RuntimeEnv env)
    {
        ulong flags = r3;
        ulong flagMask = map.Type is MapType.Devmap or MapType.DevmapHash ? BroadcastFlag | ExcludeIngressFlag : 0;
        if ((flags & ~(ActionMask | flagMask)) != 0)
        {
            return XdpAborted;
        }

        // The lookup takes the key as a u32 (the helper's u64 is truncated), as __dev_map_lookup_elem() and friends do.
        uint key = (uint)r2;
        bool hit = TryResolveTarget(map, key, out uint target);
        ref var ri = ref env.Redirect;
        ri.HasTarget = hit;
        ri.TargetValue = hit ? target : 0;
        if (!hit && (flags & BroadcastFlag) == 0)
        {
            // Clear the state, so that of several lookups the last one counts.
            ri.MapId = RedirectState.IfindexMapId;
            ri.MapType = MapType.Unspec;
            return flags & ActionMask;
        }

        ri.TargetIndex = key;
        ri.MapId = map.Id != 0 ? (int)map.Id : 1;
        ri.MapType = map.Type;
        ri.Map = map;
        ri.Flags = (flags & BroadcastFlag) != 0 ? flags : 0;
        return XdpRedirect;
    }

    // The entry's target, as the kernel's lookup for the map type finds it (__dev_map_lookup_elem,
    // __dev_map_hash_lookup_elem, __cpu_map_lookup_elem, __xsk_map_lookup_elem): a devmap entry's ifindex, a cpumap
    // entry's CPU (its key), an xskmap entry's queue (its key).
    private static bool TryResolveTarget(BpfMap map, uint key, out uint target)
    {
        switch (map)
        {
            case DevMap d:
                return d.TryGetRedirectTarget(key, out target);
            case DevMapHash h:
                return h.TryGetRedirectTarget(key, out target);
            case CpuMap c:
                return c.TryGetRedirectTarget(key, out target, out _);
            case XskMap x:
                target = key;
                return x.TryGetRedirectTarget(key, out _, out _);
            default:
                target = 0;
                return false;
        }
    }
}
