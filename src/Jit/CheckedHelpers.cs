using System.Reflection;
using System.Runtime.CompilerServices;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;

namespace VethXdp.Jit;

/// <summary>Checked mode: the forms of the commonest helpers that checked code calls without the run's regions
/// registered (see JitEngine.RunXdpChecked), with every check the default implementation makes.</summary>
/// <remarks>
/// <para>Map lookup, update and delete: r1 resolves through the engine's cache (<see cref="JitState.MapCache"/>), which
/// records a map only after the map/helper compatibility check passed for that helper (the check depends on the
/// map's type and the helper alone, so a cache hit has passed it); the key and value pointers are checked as the default helpers
/// check them (RuntimeEnv.Load), except that an argument wholly inside the caller's current stack frame (between
/// r10 - 512 and r10, which is always registered, or about to be, and writable) needs no table search. Any other
/// pointer registers the run's regions first (JitState.EnsureRegions) and takes the default check, with its fault.</para>
/// <para>Spin locks: the default helpers (their region check, their per-run lock tracking), after the lock word is
/// found in the table; only a word outside the table as it is registers the run's regions first.</para>
/// <para>bpf_redirect and bpf_redirect_map read no memory of the run, neither the run's buffer nor its regions: checked
/// code calls the default implementations without registering anything.</para>
/// <para>None of these starts a callback or a tail call, moves the packet or writes a stack frame, so the call needs
/// only its instruction index stored for a fault (CallEmitter).</para>
/// </remarks>
internal static unsafe class CheckedHelpers
{
    private static readonly MethodInfo s_lookup = typeof(MapHelpers).GetMethod(nameof(MapHelpers.MapLookupElem))!;
    private static readonly MethodInfo s_update = typeof(MapHelpers).GetMethod(nameof(MapHelpers.MapUpdateElem))!;
    private static readonly MethodInfo s_delete = typeof(MapHelpers).GetMethod(nameof(MapHelpers.MapDeleteElem))!;
    private static readonly MethodInfo s_redirect = typeof(XdpHelpers).GetMethod(nameof(XdpHelpers.Redirect))!;
    private static readonly MethodInfo s_redirectMap = typeof(XdpHelpers).GetMethod(nameof(XdpHelpers.RedirectMap))!;

    private static readonly MethodInfo s_spinLock = typeof(NetSpinLockHelpers).GetMethod(nameof(NetSpinLockHelpers.SpinLock))!;
    private static readonly MethodInfo s_spinUnlock = typeof(NetSpinLockHelpers).GetMethod(nameof(NetSpinLockHelpers.SpinUnlock))!;

    /// <summary>The checked form of a default map helper or spin lock: <c>(s, r1[, r2, r3, r4][, r10], env)</c> (the
    /// parameters are named after what the call site loads), or null.</summary>
    public static MethodInfo? OnSite(MethodInfo helper) =>
        helper == s_lookup ? typeof(CheckedHelpers).GetMethod(nameof(Lookup))
        : helper == s_update ? typeof(CheckedHelpers).GetMethod(nameof(Update))
        : helper == s_delete ? typeof(CheckedHelpers).GetMethod(nameof(Delete))
        : helper == s_spinLock ? typeof(CheckedHelpers).GetMethod(nameof(SpinLock))
        : helper == s_spinUnlock ? typeof(CheckedHelpers).GetMethod(nameof(SpinUnlock))
        : null;

    /// <summary>True for the default helpers checked code may call as they are without the run's regions.</summary>
    public static bool IsRegionFree(MethodInfo helper) => helper == s_redirect || helper == s_redirectMap;

    /// <summary>bpf_map_lookup_elem (1), checked, r1 resolved through the engine's cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Lookup(JitState s, ulong r1, ulong r2, ulong r10, RuntimeEnv env)
    {
        var map = s.MapCache.Resolve(env, r1, HelperId.MapLookupElem);
        return MapHelpers.LookupResolved(map, Read(s, r2, (int)map.Spec.KeySize, r10), env.Cpu);
    }

    /// <summary>bpf_map_update_elem (2), checked, r1 resolved through the engine's cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Update(JitState s, ulong r1, ulong r2, ulong r3, ulong r4, ulong r10, RuntimeEnv env)
    {
        var map = s.MapCache.Resolve(env, r1, HelperId.MapUpdateElem);
        var spec = map.Spec;
        var key = Read(s, r2, (int)spec.KeySize, r10);
        var value = Read(s, r3, (int)spec.ValueSize, r10);
        return (ulong)map.Update(key, value, r4, env.Cpu);
    }

    /// <summary>bpf_map_delete_elem (3), checked, r1 resolved through the engine's cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Delete(JitState s, ulong r1, ulong r2, ulong r10, RuntimeEnv env)
    {
        var map = s.MapCache.Resolve(env, r1, HelperId.MapDeleteElem);
        return (ulong)map.Delete(Read(s, r2, (int)map.Spec.KeySize, r10));
    }

    /// <summary>bpf_spin_lock (93), checked: the default helper, once the lock word's region is in the table.</summary>
    public static ulong SpinLock(ulong r1, JitState s, RuntimeEnv env)
    {
        PrepareWrite(s, r1, sizeof(uint));
        return NetSpinLockHelpers.SpinLock(r1, 0, 0, 0, 0, env);
    }

    /// <summary>bpf_spin_unlock (94), checked: the default helper, once the lock word's region is in the table.</summary>
    public static ulong SpinUnlock(ulong r1, JitState s, RuntimeEnv env)
    {
        PrepareWrite(s, r1, sizeof(uint));
        return NetSpinLockHelpers.SpinUnlock(r1, 0, 0, 0, 0, env);
    }

    // Before a default helper writes `size` bytes at `p` (checking them against the table itself): a lock word in a
    // map value is in the table whether or not the run's regions are registered; anything else registers them first,
    // so the helper's check (and its fault) sees the full table. A write that may land in a stack frame marks the
    // frames dirty, as any helper call does (JitState.StackDirty).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrepareWrite(JitState s, ulong p, int size)
    {
        var regions = s.Regions;
        int i = regions.Find(p, size, write: true);
        if (i < 0 && s.RegionsPending)
        {
            s.EnsureRegions();
            i = regions.Find(p, size, write: true);
        }

        if (i < 0)
        {
            s.StackDirty = -1;
        }
        else
        {
            s.MarkWritten(p);
        }
    }

    // The `size` bytes at `p` for reading: inside the current frame [r10 - 512, r10) at once; else the default
    // helper's check against the full region table.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<byte> Read(JitState s, ulong p, int size, ulong r10)
    {
        if (MapHelpers.InFrame(p, size, r10))
        {
            return new ReadOnlySpan<byte>((void*)p, size);
        }

        return ReadChecked(s, p, size);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ReadOnlySpan<byte> ReadChecked(JitState s, ulong p, int size)
    {
        s.EnsureRegions();
        return s.Env.Load(p, size);
    }
}
