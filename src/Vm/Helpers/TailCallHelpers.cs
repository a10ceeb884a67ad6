using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>bpf_tail_call.</summary>
public static class TailCallHelpers
{
    /// <summary>MAX_TAIL_CALL_CNT: tail calls one run may take.</summary>
    public const int MaxTailCallCount = 33;

    /// <summary>bpf_tail_call(ctx, prog_array, index) (12): jumps to the program in slot index, which starts with r1 =
    /// ctx on the same stack frame and never returns here. When the index is past the end, the slot is empty, or 33
    /// tail calls were already taken, the program continues after the call. A call to an empty slot does not count
    /// towards the 33 (measured on Linux 6.18 x86-64, for constant and variable indexes alike).</summary>
    public static ulong TailCall(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, RuntimeEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var map = env.ResolveMap(r2, arg: 2);
        MapFuncCompat.Check(map, HelperId.TailCall);
        uint index = (uint)r3;
        if (index >= map.Spec.MaxEntries || ((ProgArrayMap)map).GetProgram(index) is not { } target
            || env.TailCallCount >= MaxTailCallCount)
        {
            return 0;
        }

        env.TailCallCount++;
        env.PendingTailCall = target;
        return 0;
    }
}
