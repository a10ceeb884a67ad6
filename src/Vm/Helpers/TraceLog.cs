using System.Text;

namespace VethXdp.Vm.Helpers;

/// <summary>The messages a run's program printed with bpf_trace_printk / bpf_trace_vprintk, in order, as they are
/// formatted (what trace_pipe shows after the <c>bpf_trace_printk: </c> prefix).</summary>
/// <remarks>Cleared before every packet. Message strings are pooled by content, so a program that prints the same
/// text packet after packet allocates it once. At most <see cref="MaxMessages"/> are kept per packet; the rest are
/// counted in <see cref="Dropped"/>.</remarks>
public sealed class TraceLog : IReadOnlyList<string>
{
    /// <summary>Messages kept per packet.</summary>
    public const int MaxMessages = 65_536;

    private const int MaxPooled = 4096;

    private readonly HashSet<string> _pool = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private string[] _items = new string[8];
    private char[] _chars = new char[256];
    private int _count;

    /// <summary>Creates an empty log.</summary>
    public TraceLog()
    {
        _lookup = _pool.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Number of messages.</summary>
    public int Count => _count;

    /// <summary>Messages that did not fit (more than <see cref="MaxMessages"/> in one packet).</summary>
    public int Dropped { get; private set; }

    /// <summary>The message at <paramref name="index"/>.</summary>
    public string this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);
            return _items[index];
        }
    }

    /// <summary>The messages.</summary>
    public ReadOnlySpan<string> AsSpan() => _items.AsSpan(0, _count);

    /// <inheritdoc/>
    public IEnumerator<string> GetEnumerator()
    {
        for (int i = 0; i < _count; i++)
        {
            yield return _items[i];
        }
    }

    /// <inheritdoc/>
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Forgets the messages (not the pool).</summary>
    public void Clear()
    {
        if (_count == 0 && Dropped == 0)
        {
            // The common case per packet: nothing was printed, so there is nothing to clear.
            return;
        }

        Array.Clear(_items, 0, _count);
        _count = 0;
        Dropped = 0;
    }

    /// <summary>Adds a message given as the bytes the kernel would write (decoded as UTF-8).</summary>
    public void Add(ReadOnlySpan<byte> message)
    {
        int max = Encoding.UTF8.GetMaxCharCount(message.Length);
        if (_chars.Length < max)
        {
            _chars = new char[Math.Max(max, _chars.Length * 2)];
        }

        int n = Encoding.UTF8.GetChars(message, _chars);
        Add(_chars.AsSpan(0, n));
    }

    /// <summary>Adds a message.</summary>
    public void Add(ReadOnlySpan<char> message)
    {
        if (_count >= MaxMessages)
        {
            Dropped++;
            return;
        }

        if (!_lookup.TryGetValue(message, out string? text))
        {
            text = message.ToString();
            if (_pool.Count < MaxPooled)
            {
                _pool.Add(text);
            }
        }

        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[_count++] = text;
    }
}
