namespace VethXdp.Vm.Helpers;

/// <summary>What an engine (interpreter or JIT) offers helpers that call back into the program:
/// bpf_loop, bpf_for_each_map_elem and the like.</summary>
public interface IBpfCallbackInvoker
{
    /// <summary>Calls the BPF function at <paramref name="function"/> (a value a <c>BPF_PSEUDO_FUNC</c> 64-bit load gave
    /// the program) in a new call frame with r1-r5 as given, and returns its r0.</summary>
    ulong InvokeCallback(ulong function, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5);
}
