namespace VethXdp.Verifier.State;

/// <summary>What one stack byte holds (<c>enum bpf_stack_slot_type</c>); the log prints each as one character.</summary>
public enum SlotType : byte
{
    /// <summary>STACK_INVALID '?': never written.</summary>
    Invalid = 0,

    /// <summary>STACK_SPILL 'r': part of a spilled register.</summary>
    Spill,

    /// <summary>STACK_MISC 'm': written with something unknown.</summary>
    Misc,

    /// <summary>STACK_ZERO '0': written with zero.</summary>
    Zero,

    /// <summary>STACK_DYNPTR 'd'.</summary>
    Dynptr,

    /// <summary>STACK_ITER 'i'.</summary>
    Iter,

    /// <summary>STACK_IRQ_FLAG 'f'.</summary>
    IrqFlag,
}
