using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>Helpers that call back into the program (kernel/bpf/bpf_iter.c, helpers.c): bpf_loop and
/// bpf_for_each_map_elem. The callback is a BPF function whose address a BPF_PSEUDO_FUNC 64-bit load gave the program;
/// the engine runs it in a new call frame (<see cref="IBpfCallbackInvoker"/>).</summary>
public static class LoopHelpers
{
    /// <summary>BPF_MAX_LOOPS: the most iterations bpf_loop runs (8M).</summary>
    public const uint MaxLoops = 8u * 1024 * 1024;

    /// <summary>bpf_loop(nr_loops, callback_fn, callback_ctx, flags) (181): calls callback(i, ctx) for i = 0.. until it
    /// returns non-zero; returns the number of calls. -EINVAL when flags is not 0, -E2BIG above 8M loops.</summary>
    public static ulong Loop(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        uint loops = (uint)r1;
        if (r4 != 0)
        {
            return unchecked((ulong)-Errno.EINVAL);
        }

        if (loops > MaxLoops)
        {
            return unchecked((ulong)-Errno.E2BIG);
        }

        var engine = Engine(env);
        uint i;
        for (i = 0; i < loops; i++)
        {
            // return value: 0 - continue, 1 - stop and return
            if (engine.InvokeCallback(r2, i, r3, 0, 0, 0) != 0)
            {
                return i + 1UL;
            }
        }

        return i;
    }

    /// <summary>bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags) (164): calls callback(map, key, value, ctx)
    /// for every element (array index order; hash maps in the order bpf() iterates them) until it returns non-zero;
    /// returns the number of calls. -EINVAL when flags is not 0. The key is a read-only copy; the value is the
    /// element's own memory (this CPU's value for per-CPU maps).</summary>
    public static ulong ForEachMapElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r1);
        if (map.Type is not (MapType.Array or MapType.PercpuArray or MapType.Hash or MapType.PercpuHash
            or MapType.LruHash or MapType.LruPercpuHash))
        {
            throw new ExecutionFaultException(FaultKind.HelperFailed, "callback function not allowed for map");
        }

        if (r4 != 0)
        {
            return unchecked((ulong)-Errno.EINVAL);
        }

        var engine = Engine(env);
        int keySize = (int)map.Spec.KeySize;
        Span<byte> key = stackalloc byte[keySize];
        Span<byte> next = stackalloc byte[keySize];
        ulong count = 0;
        bool first = true;
        while (map.GetNextKey(first ? ReadOnlySpan<byte>.Empty : key, next) == 0)
        {
            first = false;
            next.CopyTo(key);
            ulong value = map.Lookup(key, env.Cpu);
            if (value == 0)
            {
                continue;
            }

            count++;
            int regions = env.Regions.Count;
            ulong keyAddress = env.PushScratch(key, "map key");
            ulong ret;
            try
            {
                ret = engine.InvokeCallback(r2, map.Handle, keyAddress, value, r3, 0);
            }
            finally
            {
                env.PopScratch(regions);
            }

            // return value: 0 - continue, 1 - stop and return
            if (ret != 0)
            {
                break;
            }
        }

        return count;
    }

    private static IBpfCallbackInvoker Engine(RuntimeEnv env) =>
        env.Callbacks ?? throw new ExecutionFaultException(FaultKind.NotSupported, "this engine cannot run callbacks");
}
