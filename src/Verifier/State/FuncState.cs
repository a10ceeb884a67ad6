using System.Runtime.CompilerServices;

namespace VethXdp.Verifier.State;

/// <summary>The eleven registers of a frame.</summary>
[InlineArray(11)]
public struct RegFile
{
    private RegState _r0;
}

/// <summary>One call frame (<c>struct bpf_func_state</c>): its registers and stack.</summary>
public sealed class FuncState
{
    /// <summary>MAX_BPF_STACK / BPF_REG_SIZE: the most slots a frame can have.</summary>
    public const int MaxSlots = 64;

    /// <summary>The registers.</summary>
    public RegFile Regs;

    /// <summary>The stack slots; slot i covers <c>fp-8*(i+1)</c> .. <c>fp-8*i-1</c>. Only the first
    /// <see cref="AllocatedStack"/>/8 are meaningful.</summary>
    public StackSlot[] Stack { get; private set; } = [];

    /// <summary>Bytes of stack in use, a multiple of 8 (<c>allocated_stack</c>).</summary>
    public int AllocatedStack { get; set; }

    /// <summary>The call instruction that created this frame, or -1 for frame 0 (<c>callsite</c>).</summary>
    public int CallSite { get; set; } = -1;

    /// <summary>The frame's depth (<c>frameno</c>).</summary>
    public int Frameno { get; set; }

    /// <summary>The function this frame runs (<c>subprogno</c>).</summary>
    public int Subprogno { get; set; }

    /// <summary>A callback's frame (bpf_loop, for_each_map_elem) (<c>in_callback_fn</c>).</summary>
    public bool InCallbackFn { get; set; }

    /// <summary>An asynchronous callback's frame (bpf_timer_set_callback), verified as a state of its own with this
    /// frame as frame 0 (<c>in_async_callback_fn</c>).</summary>
    public bool InAsyncCallbackFn { get; set; }

    /// <summary>For a callback frame: the scalar range its return value must lie in.</summary>
    public (long Min, long Max) CallbackRetRange { get; set; } = (0, 1);

    /// <summary>How many iterations of a callback this frame has started on the current path (<c>callback_depth</c>):
    /// bpf_loop stops pushing iterations once it reaches the loop count's maximum.</summary>
    public int CallbackDepth { get; set; }

    /// <summary>Makes sure slots down to <paramref name="size"/> bytes exist (<c>grow_stack_state</c>).</summary>
    public void GrowStack(int size)
    {
        int n = (size + 7) / 8 * 8;
        if (n <= AllocatedStack)
        {
            return;
        }

        if (Stack.Length < n / 8)
        {
            var grown = new StackSlot[Math.Min(MaxSlots, Math.Max(n / 8, Stack.Length * 2))];
            Array.Copy(Stack, grown, AllocatedStack / 8);
            Stack = grown;
        }

        for (int i = AllocatedStack / 8; i < n / 8; i++)
        {
            Stack[i] = StackSlot.Empty;
        }

        AllocatedStack = n;
    }

    /// <summary>Copies <paramref name="src"/> into this frame (<c>copy_func_state</c>).</summary>
    public void CopyFrom(FuncState src)
    {
        ArgumentNullException.ThrowIfNull(src);
        Regs = src.Regs;
        if (Stack.Length < src.AllocatedStack / 8)
        {
            Stack = new StackSlot[src.AllocatedStack / 8];
        }

        Array.Copy(src.Stack, Stack, src.AllocatedStack / 8);
        AllocatedStack = src.AllocatedStack;
        CallSite = src.CallSite;
        Frameno = src.Frameno;
        Subprogno = src.Subprogno;
        InCallbackFn = src.InCallbackFn;
        InAsyncCallbackFn = src.InAsyncCallbackFn;
        CallbackRetRange = src.CallbackRetRange;
        CallbackDepth = src.CallbackDepth;
    }
}
