namespace VethXdp.Devices;

/// <summary>A named, ordered set of counters (one queue's ethtool -S lines without the queue prefix, or a device's
/// totals).</summary>
public sealed class Counters
{
    private readonly List<KeyValuePair<string, ulong>> _items = [];

    /// <summary>The counters, in the order ethtool prints them.</summary>
    public IReadOnlyList<KeyValuePair<string, ulong>> Items => _items;

    /// <summary>The counter named <paramref name="name"/> (0 when absent).</summary>
    public ulong this[string name]
    {
        get
        {
            foreach (var kv in _items)
            {
                if (kv.Key == name)
                {
                    return kv.Value;
                }
            }

            return 0;
        }
    }

    /// <summary>Adds a counter.</summary>
    public Counters Add(string name, ulong value)
    {
        _items.Add(new(name, value));
        return this;
    }
}

/// <summary>One device's counters at the end of a run.</summary>
/// <param name="Name">The device name.</param>
/// <param name="Kind">"nic", "veth" or "loopback".</param>
/// <param name="RxQueues">Per receive queue.</param>
/// <param name="TxQueues">Per transmit queue.</param>
/// <param name="Totals">What <c>ip -s link</c> shows.</param>
public sealed record DeviceCounters(string Name, string Kind, IReadOnlyList<Counters> RxQueues, IReadOnlyList<Counters> TxQueues, Counters Totals);
