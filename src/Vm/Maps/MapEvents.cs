namespace VethXdp.Vm.Maps;

/// <summary>Receives the records programs emit through ring buffers and perf event arrays, in the order user space
/// would read them.</summary>
/// <remarks>Called on the program's path: implementations should copy <c>data</c> and return (it is only valid during
/// the call).</remarks>
public interface IMapEventSink
{
    /// <summary>One record: <paramref name="data"/> is the sample as the consumer sees it (without the ring buffer's
    /// 8-byte header; for perf, the program's data followed by the packet bytes BPF_F_CTXLEN_MASK asked for).</summary>
    /// <param name="map">The ring buffer or perf event array.</param>
    /// <param name="cpu">The perf event array index (the CPU) the record went to; -1 for ring buffers.</param>
    /// <param name="data">The record's bytes.</param>
    void OnEvent(BpfMap map, int cpu, ReadOnlySpan<byte> data);
}

/// <summary>A captured record: the map's name, the perf CPU index (-1 for ring buffers) and the bytes.</summary>
/// <param name="Map">The map's name.</param>
/// <param name="Cpu">The perf event array index, or -1 for ring buffers.</param>
/// <param name="Data">The record's bytes.</param>
public sealed record MapEvent(string Map, int Cpu, byte[] Data);
