using System.Reflection;
using System.Runtime.CompilerServices;
using VethXdp.Vm.Helpers;

namespace VethXdp.Vm.Interpreter;

public sealed unsafe partial class BpfInterpreter
{
    // The default helpers the main loop calls without the general call path (CallHelper): what they read is known, so
    // they need neither the run's region table (RunXdp(XdpBuffer) registers it lazily, MaterializeRegions) nor the
    // frame floors (none writes stack memory but the spin locks, which mark what they write), and they move no packet, start no callback and leave no tail call, so the loop
    // goes straight on after them. A table that binds its own function to one of these ids keeps the general path: the
    // kind is decided by the delegate the table holds at the time of the call (ClassifyHelper).
    //  - bpf_map_lookup_elem, bpf_map_update_elem, bpf_map_delete_elem: the map through _mapCache (resolved and
    //    checked for the helper once per map, MapHandleCache); a key or value wholly inside the caller's current stack
    //    frame is read directly, anything else registers the run's regions and takes the default helper's check
    //    (RuntimeEnv.Load), with its fault. An array's lookup is in line (MapHelpers.LookupResolved).
    //  - bpf_redirect, bpf_redirect_map: the default implementations as they are (they read nothing of the run).
    //  - bpf_spin_lock, bpf_spin_unlock: the default helpers (their own region check, their per-run lock tracking),
    //    once the lock word is in the table as it is (a map value always is); else the run's regions are registered
    //    first (PrepareWrite).
    // Faults get the call's instruction index as through CallHelper (ExecutionFaults.FromHelper).
    private enum FastHelper : byte
    {
        None,
        Lookup,
        Update,
        Delete,
        Redirect,
        RedirectMap,
        SpinLock,
        SpinUnlock,
    }

    // Helper ids a fast form exists for are below this (bpf_spin_unlock is 94).
    private const int FastHelperIds = 95;

    private static readonly MethodInfo s_lookupMethod = typeof(MapHelpers).GetMethod(nameof(MapHelpers.MapLookupElem))!;
    private static readonly MethodInfo s_updateMethod = typeof(MapHelpers).GetMethod(nameof(MapHelpers.MapUpdateElem))!;
    private static readonly MethodInfo s_deleteMethod = typeof(MapHelpers).GetMethod(nameof(MapHelpers.MapDeleteElem))!;
    private static readonly MethodInfo s_redirectMethod = typeof(XdpHelpers).GetMethod(nameof(XdpHelpers.Redirect))!;
    private static readonly MethodInfo s_redirectMapMethod = typeof(XdpHelpers).GetMethod(nameof(XdpHelpers.RedirectMap))!;
    private static readonly MethodInfo s_spinLockMethod = typeof(NetSpinLockHelpers).GetMethod(nameof(NetSpinLockHelpers.SpinLock))!;
    private static readonly MethodInfo s_spinUnlockMethod = typeof(NetSpinLockHelpers).GetMethod(nameof(NetSpinLockHelpers.SpinUnlock))!;

    // Per helper id, the delegate last classified and its kind (the table may be changed between runs).
    private readonly HelperFunc?[] _fastSeen = new HelperFunc?[FastHelperIds];
    private readonly FastHelper[] _fastKinds = new FastHelper[FastHelperIds];
    private readonly MapHandleCache _mapCache = new();

    // The fast form for a call of helper `id` (the call's imm), or None.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private FastHelper FastHelperFor(int id)
    {
        if ((uint)id < FastHelperIds && _helpers.TryGet(id, out HelperFunc? f))
        {
            return ReferenceEquals(_fastSeen[id], f) ? _fastKinds[id] : ClassifyHelper(id, f);
        }

        return FastHelper.None;
    }

    // A delegate seen for the first time at `id`: a fast form only when it is exactly the default static function.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private FastHelper ClassifyHelper(int id, HelperFunc f)
    {
        var kind = FastHelper.None;
        if (f.Target is null && f.GetInvocationList().Length == 1)
        {
            var method = f.Method;
            kind = (HelperId)id switch
            {
                HelperId.MapLookupElem when method == s_lookupMethod => FastHelper.Lookup,
                HelperId.MapUpdateElem when method == s_updateMethod => FastHelper.Update,
                HelperId.MapDeleteElem when method == s_deleteMethod => FastHelper.Delete,
                HelperId.Redirect when method == s_redirectMethod => FastHelper.Redirect,
                HelperId.RedirectMap when method == s_redirectMapMethod => FastHelper.RedirectMap,
                HelperId.SpinLock when method == s_spinLockMethod => FastHelper.SpinLock,
                HelperId.SpinUnlock when method == s_spinUnlockMethod => FastHelper.SpinUnlock,
                _ => FastHelper.None,
            };
        }

        _fastKinds[id] = kind;
        _fastSeen[id] = f;
        return kind;
    }

    // Runs the fast form `kind` of the helper call at `pc`; r0.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong CallFastHelper(FastHelper kind, int pc, ref RegisterFile regs)
    {
        var env = Env;
        try
        {
            switch (kind)
            {
                case FastHelper.Lookup:
                {
                    var map = _mapCache.Resolve(env, regs[1], HelperId.MapLookupElem);
                    return MapHelpers.LookupResolved(map, ReadArgument(regs[2], (int)map.Spec.KeySize), env.Cpu);
                }

                case FastHelper.Update:
                {
                    var map = _mapCache.Resolve(env, regs[1], HelperId.MapUpdateElem);
                    var spec = map.Spec;
                    var key = ReadArgument(regs[2], (int)spec.KeySize);
                    var value = ReadArgument(regs[3], (int)spec.ValueSize);
                    return (ulong)map.Update(key, value, regs[4], env.Cpu);
                }

                case FastHelper.Delete:
                {
                    var map = _mapCache.Resolve(env, regs[1], HelperId.MapDeleteElem);
                    return (ulong)map.Delete(ReadArgument(regs[2], (int)map.Spec.KeySize));
                }

                case FastHelper.Redirect:
                    return XdpHelpers.Redirect(regs[1], regs[2], regs[3], regs[4], regs[5], env);

                case FastHelper.RedirectMap:
                    return XdpHelpers.RedirectMap(regs[1], regs[2], regs[3], regs[4], regs[5], env);

                case FastHelper.SpinLock:
                    PrepareWrite(regs[1], sizeof(uint));
                    return NetSpinLockHelpers.SpinLock(regs[1], regs[2], regs[3], regs[4], regs[5], env);

                default:
                    PrepareWrite(regs[1], sizeof(uint));
                    return NetSpinLockHelpers.SpinUnlock(regs[1], regs[2], regs[3], regs[4], regs[5], env);
            }
        }
        catch (Exception e) when (e is not ExecutionFaultException { Pc: >= 0 })
        {
            throw ExecutionFaults.FromHelper(pc, kfunc: false, (long)HelperIdOf(kind), _helpers, e)!;
        }
    }

    // The `size` bytes at `p` a helper reads: inside the current stack frame at once; else the default helpers' check
    // (RuntimeEnv.Load) against the full region table, with its fault.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> ReadArgument(ulong p, int size)
    {
        if (MapHelpers.InFrame(p, size, _stackLo + StackSize))
        {
            return new ReadOnlySpan<byte>((void*)p, size);
        }

        return ReadArgumentChecked(p, size);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ReadOnlySpan<byte> ReadArgumentChecked(ulong p, int size)
    {
        EnsureRegions();
        return Env.Load(p, size);
    }

    // Before a default helper writes `size` bytes at `p`, checking them itself: a lock word in a map value is in the
    // table whether or not the run's regions are registered; anything else registers them first, so the helper's
    // check (and its fault) sees the full table. The write lowers a frame's floor when it may land in one.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrepareWrite(ulong p, int size)
    {
        if (_regionsPending && Env.Regions.Find(p, size, write: true) < 0)
        {
            MaterializeRegions();
        }

        MarkStack(p);
    }

    private static HelperId HelperIdOf(FastHelper kind) => kind switch
    {
        FastHelper.Lookup => HelperId.MapLookupElem,
        FastHelper.Update => HelperId.MapUpdateElem,
        FastHelper.Delete => HelperId.MapDeleteElem,
        FastHelper.Redirect => HelperId.Redirect,
        FastHelper.RedirectMap => HelperId.RedirectMap,
        FastHelper.SpinLock => HelperId.SpinLock,
        _ => HelperId.SpinUnlock,
    };
}
