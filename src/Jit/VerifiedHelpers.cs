using System.Reflection;
using System.Runtime.CompilerServices;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;

namespace VethXdp.Jit;

/// <summary>Unchecked mode: helpers without the checks the verifier already made, bound in place of the default
/// implementations (<see cref="MapHelpers"/>' lookup, update and delete, <see cref="XdpHelpers.RedirectMap"/>,
/// bpf_xdp_load_bytes / store_bytes, <see cref="NetSpinLockHelpers"/>) when a verified program calls them; and which helpers need nothing of a run's own
/// state (<see cref="IsRunStateFree"/>).</summary>
/// <remarks>
/// <para>What each skips, and why a verified program cannot notice. Map helpers: the map/helper compatibility check
/// (kernel: check_map_func_compatibility() refused the program at load otherwise) and the region check of the key
/// and value pointers (kernel: check_helper_mem_access() proved <c>key_size</c> / <c>value_size</c> initialised bytes
/// readable at them: stack, packet or map value). r1 still goes through the environment's resolver (the verifier
/// proved it is a map pointer, CONST_PTR_TO_MAP, so it resolves), cached per engine (<see cref="JitState.MapCache"/>,
/// which also makes the compatibility check once per map: a verified program passes it): the same map object, and
/// what the map does is unchanged. bpf_redirect_map: the compatibility check. bpf_xdp_load_bytes and
/// store_bytes: the region check of the buffer (check_helper_mem_access() again); the frame range checks stay. Spin locks: the region
/// check and the per-run lock tracking (kernel: process_spin_lock() and the exit checks prove one lock at a time,
/// released before exit); a lock word already set still faults.</para>
/// <para>Only the default implementations are replaced: a table that binds its own function to these ids keeps it.</para>
/// </remarks>
internal static unsafe class VerifiedHelpers
{
    private static readonly MethodInfo s_lookup = typeof(MapHelpers).GetMethod(nameof(MapHelpers.MapLookupElem))!;
    private static readonly MethodInfo s_update = typeof(MapHelpers).GetMethod(nameof(MapHelpers.MapUpdateElem))!;
    private static readonly MethodInfo s_delete = typeof(MapHelpers).GetMethod(nameof(MapHelpers.MapDeleteElem))!;
    private static readonly MethodInfo s_redirectMap = typeof(XdpHelpers).GetMethod(nameof(XdpHelpers.RedirectMap))!;
    private static readonly MethodInfo s_redirectMapVerified = typeof(XdpHelpers).GetMethod(nameof(XdpHelpers.RedirectMapVerified))!;
    private static readonly MethodInfo s_loadBytes = typeof(XdpHelpers).GetMethod(nameof(XdpHelpers.XdpLoadBytes))!;
    private static readonly MethodInfo s_storeBytes = typeof(XdpHelpers).GetMethod(nameof(XdpHelpers.XdpStoreBytes))!;
    private static readonly MethodInfo s_loadBytesVerified = typeof(XdpHelpers).GetMethod(nameof(XdpHelpers.XdpLoadBytesVerified))!;
    private static readonly MethodInfo s_storeBytesVerified = typeof(XdpHelpers).GetMethod(nameof(XdpHelpers.XdpStoreBytesVerified))!;
    private static readonly MethodInfo s_spinLock = typeof(NetSpinLockHelpers).GetMethod(nameof(NetSpinLockHelpers.SpinLock))!;
    private static readonly MethodInfo s_spinUnlock = typeof(NetSpinLockHelpers).GetMethod(nameof(NetSpinLockHelpers.SpinUnlock))!;
    private static readonly MethodInfo s_spinLockVerified = typeof(NetSpinLockHelpers).GetMethod(nameof(NetSpinLockHelpers.SpinLockVerified))!;
    private static readonly MethodInfo s_spinUnlockVerified = typeof(NetSpinLockHelpers).GetMethod(nameof(NetSpinLockHelpers.SpinUnlockVerified))!;

    /// <summary>The method a verified program's call to <paramref name="helper"/> may use instead, or
    /// <paramref name="helper"/> itself.</summary>
    public static MethodInfo For(MethodInfo helper)
    {
        if (helper == s_lookup)
        {
            return typeof(VerifiedHelpers).GetMethod(nameof(MapLookupElem))!;
        }

        if (helper == s_update)
        {
            return typeof(VerifiedHelpers).GetMethod(nameof(MapUpdateElem))!;
        }

        if (helper == s_redirectMap)
        {
            return s_redirectMapVerified;
        }

        if (helper == s_loadBytes)
        {
            return s_loadBytesVerified;
        }

        if (helper == s_storeBytes)
        {
            return s_storeBytesVerified;
        }

        if (helper == s_spinLock)
        {
            return s_spinLockVerified;
        }

        if (helper == s_spinUnlock)
        {
            return s_spinUnlockVerified;
        }

        return helper == s_delete ? typeof(VerifiedHelpers).GetMethod(nameof(MapDeleteElem))! : helper;
    }

    // Helpers that need none of a run's own state: they read no run region (map value regions are registered for
    // the environment's life, and the verified map helpers check no pointer), neither Env.Xdp nor the packet region
    // index, and start no callback and no tail call. A verified program that calls only these runs without
    // registering its context, packet and stack (JitEngine.RunXdpLean).
    private static readonly HashSet<MethodInfo> s_runStateFree =
    [
        typeof(VerifiedHelpers).GetMethod(nameof(MapLookupElem))!,
        typeof(VerifiedHelpers).GetMethod(nameof(MapUpdateElem))!,
        typeof(VerifiedHelpers).GetMethod(nameof(MapDeleteElem))!,
        typeof(XdpHelpers).GetMethod(nameof(XdpHelpers.Redirect))!,
        typeof(XdpHelpers).GetMethod(nameof(XdpHelpers.RedirectMap))!,
        typeof(XdpHelpers).GetMethod(nameof(XdpHelpers.RedirectMapVerified))!,
        typeof(NetSpinLockHelpers).GetMethod(nameof(NetSpinLockHelpers.SpinLock))!,
        typeof(NetSpinLockHelpers).GetMethod(nameof(NetSpinLockHelpers.SpinUnlock))!,
        typeof(NetSpinLockHelpers).GetMethod(nameof(NetSpinLockHelpers.SpinLockVerified))!,
        typeof(NetSpinLockHelpers).GetMethod(nameof(NetSpinLockHelpers.SpinUnlockVerified))!,
    ];

    /// <summary>For a verified map helper, its form on the engine's map cache (<c>(s, r1, r2[, r3, r4], env)</c>: the
    /// parameters are named after what the call site loads); null for any other method.</summary>
    public static MethodInfo? OnMap(MethodInfo helper) => helper.Name switch
    {
        _ when helper.DeclaringType != typeof(VerifiedHelpers) => null,
        nameof(MapLookupElem) => typeof(VerifiedHelpers).GetMethod(nameof(LookupIn)),
        nameof(MapUpdateElem) => typeof(VerifiedHelpers).GetMethod(nameof(UpdateIn)),
        nameof(MapDeleteElem) => typeof(VerifiedHelpers).GetMethod(nameof(DeleteIn)),
        _ => null,
    };

    /// <summary>True when a call to <paramref name="helper"/> (as bound) starts no callback and no tail call, so the
    /// call needs no instruction count, depth or pending tail call around it: the run-state-free helpers and
    /// bpf_xdp_load_bytes / store_bytes (which need the run's frame, nothing more).</summary>
    public static bool IsQuiet(MethodInfo helper) =>
        s_runStateFree.Contains(helper) || helper == s_loadBytesVerified || helper == s_storeBytesVerified;

    /// <summary>True for the verified bpf_xdp_load_bytes / store_bytes: they need the run's frame (Env.Xdp, which
    /// they check against r1), no region, no packet region index, no callback or tail call.</summary>
    public static bool IsFrameOnly(MethodInfo helper) => helper == s_loadBytesVerified || helper == s_storeBytesVerified;

    /// <summary>True when a call to <paramref name="helper"/> (as bound) needs no region, frame or packet state of
    /// the run (see above).</summary>
    public static bool IsRunStateFree(MethodInfo helper) => s_runStateFree.Contains(helper);

    /// <summary>bpf_map_lookup_elem with r1 resolved through the engine's cache (<see cref="JitState.MapCache"/>). An
    /// array (per-CPU or not) is looked up in line, as the kernel's fixup_bpf_calls() inlines map_gen_lookup for those
    /// maps (<see cref="MapHelpers.LookupResolved"/>; the verifier proved key_size readable bytes at r2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LookupIn(JitState s, ulong r1, ulong r2, RuntimeEnv env)
    {
        var map = s.MapCache.Resolve(env, r1, HelperId.MapLookupElem);
        return MapHelpers.LookupResolved(map, new ReadOnlySpan<byte>((void*)r2, (int)map.Spec.KeySize), env.Cpu);
    }

    /// <summary>bpf_map_update_elem with r1 resolved through the engine's cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong UpdateIn(JitState s, ulong r1, ulong r2, ulong r3, ulong r4, RuntimeEnv env)
    {
        var map = s.MapCache.Resolve(env, r1, HelperId.MapUpdateElem);
        var spec = map.Spec;
        return (ulong)map.Update(
            new ReadOnlySpan<byte>((void*)r2, (int)spec.KeySize), new ReadOnlySpan<byte>((void*)r3, (int)spec.ValueSize), r4, env.Cpu);
    }

    /// <summary>bpf_map_delete_elem with r1 resolved through the engine's cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong DeleteIn(JitState s, ulong r1, ulong r2, RuntimeEnv env)
    {
        var map = s.MapCache.Resolve(env, r1, HelperId.MapDeleteElem);
        return (ulong)map.Delete(new ReadOnlySpan<byte>((void*)r2, (int)map.Spec.KeySize));
    }

    /// <summary>bpf_map_lookup_elem(map, key) (1) for verified code: the value's address or 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong MapLookupElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        var map = env.ResolveMap(r1);
        return map.Lookup(new ReadOnlySpan<byte>((void*)r2, (int)map.Spec.KeySize), env.Cpu);
    }

    /// <summary>bpf_map_update_elem(map, key, value, flags) (2) for verified code: 0 or a negative errno.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong MapUpdateElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        var map = env.ResolveMap(r1);
        var spec = map.Spec;
        return (ulong)map.Update(
            new ReadOnlySpan<byte>((void*)r2, (int)spec.KeySize), new ReadOnlySpan<byte>((void*)r3, (int)spec.ValueSize), r4, env.Cpu);
    }

    /// <summary>bpf_map_delete_elem(map, key) (3) for verified code: 0 or a negative errno.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong MapDeleteElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        var map = env.ResolveMap(r1);
        return (ulong)map.Delete(new ReadOnlySpan<byte>((void*)r2, (int)map.Spec.KeySize));
    }
}
