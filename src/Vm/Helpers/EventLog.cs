namespace VethXdp.Vm.Helpers;

/// <summary>Where an event record came from.</summary>
public enum EventSource
{
    /// <summary>A BPF_MAP_TYPE_RINGBUF record (bpf_ringbuf_output, or reserve and submit).</summary>
    Ringbuf,
    /// <summary>A BPF_MAP_TYPE_PERF_EVENT_ARRAY sample (bpf_perf_event_output).</summary>
    PerfEvent,
}

/// <summary>One record a program emitted.</summary>
/// <param name="Map">The map's name.</param>
/// <param name="Source">Ring buffer or perf event array.</param>
/// <param name="Data">The record's bytes; valid until the log is cleared (the next packet).</param>
public readonly record struct BpfEvent(string Map, EventSource Source, ReadOnlyMemory<byte> Data);

/// <summary>The ring buffer and perf event records of one packet, in the order the program emitted them.</summary>
/// <remarks>Bytes are kept in one arena reused from packet to packet, so steady state allocates nothing.
/// At most <see cref="MaxBytes"/> bytes are kept per packet; later records are counted in <see cref="Dropped"/>.</remarks>
public sealed class EventLog : IReadOnlyList<BpfEvent>
{
    /// <summary>Bytes of records kept per packet.</summary>
    public const int MaxBytes = 64 << 20;

    private byte[] _arena = new byte[1024];
    private Entry[] _entries = new Entry[8];
    private int _count;
    private int _used;

    /// <summary>Number of records.</summary>
    public int Count => _count;

    /// <summary>Records that did not fit.</summary>
    public int Dropped { get; private set; }

    /// <summary>The record at <paramref name="index"/>.</summary>
    public BpfEvent this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);
            ref readonly Entry e = ref _entries[index];
            return new BpfEvent(e.Map, e.Source, new ReadOnlyMemory<byte>(_arena, e.Offset, e.Length));
        }
    }

    /// <inheritdoc/>
    public IEnumerator<BpfEvent> GetEnumerator()
    {
        for (int i = 0; i < _count; i++)
        {
            yield return this[i];
        }
    }

    /// <inheritdoc/>
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Forgets every record.</summary>
    public void Clear()
    {
        if (_count == 0 && _used == 0 && Dropped == 0)
        {
            // The common case per packet: nothing was emitted.
            return;
        }

        Array.Clear(_entries, 0, _count);
        _count = 0;
        _used = 0;
        Dropped = 0;
    }

    /// <summary>Adds a record made of <paramref name="first"/> followed by <paramref name="second"/>.</summary>
    public void Add(string map, EventSource source, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second = default)
    {
        ArgumentNullException.ThrowIfNull(map);
        int length = first.Length + second.Length;
        if (_used + length > MaxBytes)
        {
            Dropped++;
            return;
        }

        if (_used + length > _arena.Length)
        {
            Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _used + length));
        }

        first.CopyTo(_arena.AsSpan(_used));
        second.CopyTo(_arena.AsSpan(_used + first.Length));
        if (_count == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }

        _entries[_count++] = new Entry(map, source, _used, length);
        _used += length;
    }

    private readonly record struct Entry(string Map, EventSource Source, int Offset, int Length);
}
