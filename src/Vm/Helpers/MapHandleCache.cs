using System.Runtime.CompilerServices;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>An engine's memory of the map handles it resolved: handle to map, per resolver, with the helpers whose
/// map/helper compatibility check (<see cref="MapFuncCompat"/>) that map has passed.</summary>
/// <remarks>
/// <para>The check depends on the map's type and the helper alone, so a handle found here for a helper has passed it:
/// <see cref="Resolve"/> gives what <see cref="RuntimeEnv.ResolveMap"/> followed by <see cref="MapFuncCompat.Check"/>
/// gives, the same map or the same fault, and only a miss does that work. An entry counts only for the resolver it was
/// made with (<see cref="RuntimeEnv.Maps"/>), so a run over other maps never sees it.</para>
/// <para>Direct-mapped, 8 entries, indexed by the handle's bits 6-8 (a <c>MapSet</c> spaces its handles 64 bytes
/// apart, so its first 8 maps never evict each other). One instance belongs to one engine, used by one thread at a
/// time; a hit allocates nothing and stores nothing.</para>
/// </remarks>
public sealed class MapHandleCache
{
    private const int Entries = 8;

    private readonly Entry[] _entries = new Entry[Entries];

    /// <summary>The map <paramref name="handle"/> names, checked for <paramref name="func"/>: as
    /// <c>env.ResolveMap(handle)</c> and <c>MapFuncCompat.Check(map, func)</c>, with their faults.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public BpfMap Resolve(RuntimeEnv env, ulong handle, HelperId func)
    {
        ArgumentNullException.ThrowIfNull(env);
        ref Entry e = ref _entries[(int)(handle >> 6) & (Entries - 1)];
        ulong bit = Bit(func);
        if (e.Handle == handle && (e.Passed & bit) != 0 && ReferenceEquals(e.Resolver, env.Maps))
        {
            return e.Map!;
        }

        return Miss(env, handle, func);
    }

    /// <summary>Forgets every entry.</summary>
    public void Clear() => Array.Clear(_entries);

    // Resolved and checked as the default helper does (the same faults); the entry records the map and the helpers it
    // passed for. A helper id of 64 or more is checked every time (no bit for it).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private BpfMap Miss(RuntimeEnv env, ulong handle, HelperId func)
    {
        var map = env.ResolveMap(handle);
        MapFuncCompat.Check(map, func);
        ref Entry e = ref _entries[(int)(handle >> 6) & (Entries - 1)];
        var resolver = env.Maps;
        if (e.Handle != handle || !ReferenceEquals(e.Resolver, resolver) || !ReferenceEquals(e.Map, map))
        {
            e = new Entry { Handle = handle, Resolver = resolver, Map = map };
        }

        e.Passed |= Bit(func);
        return map;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Bit(HelperId func) => (uint)func < 64 ? 1UL << (int)func : 0;

    private struct Entry
    {
        public ulong Handle;
        public ulong Passed;
        public IMapResolver? Resolver;
        public BpfMap? Map;
    }
}
