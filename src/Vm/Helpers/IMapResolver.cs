using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>Turns the value a program holds for a map (what a map reference loads: the map's
/// <see cref="BpfMap.Handle"/>) back into the map, and a ring buffer record back into its ring.</summary>
public interface IMapResolver
{
    /// <summary>The map whose handle is <paramref name="handle"/>, or null when it is none.</summary>
    BpfMap? ResolveMap(ulong handle);

    /// <summary>The ring buffer whose data area holds <paramref name="sample"/> (a record bpf_ringbuf_reserve returned),
    /// or null. The kernel finds it from the record's header.</summary>
    RingBufMap? FindRingBuffer(ulong sample);
}
