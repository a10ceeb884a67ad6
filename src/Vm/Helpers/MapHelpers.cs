using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>The map helpers: lookup, update, delete, push, pop, peek, per-CPU lookup (kernel/bpf/helpers.c). Each
/// reads its key and value through the run's regions, so a bad pointer faults like a bad load would; results are
/// the map's own (value address, 0 or a negative errno), returned as the kernel returns them.</summary>
public static class MapHelpers
{
    /// <summary>bpf_map_lookup_elem(map, key) (1): the value's address for the current CPU, or 0.</summary>
    public static ulong MapLookupElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        MapFuncCompat.Check(map, HelperId.MapLookupElem);
        return map.Lookup(env.Load(r2, (int)map.Spec.KeySize), env.Cpu);
    }

    /// <summary>bpf_map_update_elem(map, key, value, flags) (2): 0 or a negative errno.</summary>
    public static ulong MapUpdateElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        MapFuncCompat.Check(map, HelperId.MapUpdateElem);
        var key = env.Load(r2, (int)map.Spec.KeySize);
        var value = env.Load(r3, (int)map.Spec.ValueSize);
        return (ulong)map.Update(key, value, r4, env.Cpu);
    }

    /// <summary>bpf_map_delete_elem(map, key) (3): 0 or a negative errno.</summary>
    public static ulong MapDeleteElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        MapFuncCompat.Check(map, HelperId.MapDeleteElem);
        return (ulong)map.Delete(env.Load(r2, (int)map.Spec.KeySize));
    }

    /// <summary>bpf_map_push_elem(map, value, flags) (87): 0 or a negative errno (queue, stack, bloom filter).</summary>
    public static ulong MapPushElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        MapFuncCompat.Check(map, HelperId.MapPushElem);
        return (ulong)map.Push(env.Load(r2, (int)map.Spec.ValueSize), r3);
    }

    /// <summary>bpf_map_pop_elem(map, value) (88): copies the next value out and removes it; 0 or -ENOENT.</summary>
    public static ulong MapPopElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        MapFuncCompat.Check(map, HelperId.MapPopElem);
        return (ulong)map.Pop(env.Store(r2, (int)map.Spec.ValueSize));
    }

    /// <summary>bpf_map_peek_elem(map, value) (89): copies the next value out (queue, stack), or tests membership
    /// of the value (bloom filter, which only reads it); 0 or -ENOENT.</summary>
    public static ulong MapPeekElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        MapFuncCompat.Check(map, HelperId.MapPeekElem);
        int size = (int)map.Spec.ValueSize;
        if (map.Type == MapType.BloomFilter)
        {
            // The bloom filter reads its argument (ARG_PTR_TO_MAP_VALUE): read-only memory is fine.
            var input = env.Load(r2, size);
            return (ulong)map.Peek(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(input), size));
        }

        return (ulong)map.Peek(env.Store(r2, size));
    }

    /// <summary>bpf_map_lookup_percpu_elem(map, key, cpu) (195): the value's address for <c>cpu</c>, or 0 (also when
    /// cpu is not below the number of possible CPUs).</summary>
    public static ulong MapLookupPercpuElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        MapFuncCompat.Check(map, HelperId.MapLookupPercpuElem);
        uint cpu = (uint)r3;
        var key = env.Load(r2, (int)map.Spec.KeySize);
        if (cpu >= (uint)map.PossibleCpus)
        {
            return 0;
        }

        return map.Lookup(key, (int)cpu);
    }

    // ---- shared by the engines' fast forms of the default map helpers (BpfInterpreter, checked JIT code) ----

    /// <summary>bpf_map_lookup_elem's lookup on a map already resolved and checked: an array's in line (its key is 4
    /// bytes: array_map_alloc_check), any other map's through <see cref="BpfMap.Lookup"/>; the same value address.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LookupResolved(BpfMap map, ReadOnlySpan<byte> key, int cpu)
    {
        ArgumentNullException.ThrowIfNull(map);
        return map is ArrayMap array && key.Length >= sizeof(uint)
            ? array.LookupIndex(MemoryMarshal.Read<uint>(key), cpu)
            : map.Lookup(key, cpu);
    }

    /// <summary>True when the <paramref name="size"/> bytes at <paramref name="pointer"/> (1 to 512 of them) lie wholly
    /// in the stack frame whose frame pointer (r10) is <paramref name="frameTop"/>: <c>[r10 - 512, r10)</c>, memory
    /// that is the running frame's and readable, so a helper argument there needs no region search.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool InFrame(ulong pointer, int size, ulong frameTop) =>
        (uint)(size - 1) < BpfInterpreter.StackSize
        && pointer - (frameTop - BpfInterpreter.StackSize) <= (ulong)(BpfInterpreter.StackSize - size);
}
