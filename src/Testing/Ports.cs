namespace VethXdp.Testing;

/// <summary>A port range, both ends included. Converts from a port (<c>22</c>) and from a C# range, which excludes its
/// end as ranges do everywhere in C#: <c>20..25</c> is 20 to 24.</summary>
/// <param name="Low">The lowest port.</param>
/// <param name="High">The highest port.</param>
public readonly record struct Ports(ushort Low, ushort High)
{
    /// <summary>Just <paramref name="port"/>.</summary>
    public static implicit operator Ports(int port) => FromInt32(port);

    /// <summary><c>a..b</c>: a to b - 1.</summary>
    public static implicit operator Ports(Range range) => FromRange(range);

    /// <summary>Just <paramref name="port"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not 0 to 65535.</exception>
    public static Ports FromInt32(int port) => Between(port, port);

    /// <summary><c>a..b</c>: a to b - 1; <c>a..</c>: a to 65535.</summary>
    /// <exception cref="ArgumentException">A from-end index, or an empty range.</exception>
    public static Ports FromRange(Range range)
    {
        if (range.Start.IsFromEnd || (range.End.IsFromEnd && range.End.Value != 0))
        {
            throw new ArgumentException($"ports {range}: from-end indexes have no meaning here", nameof(range));
        }

        int high = range.End.IsFromEnd ? ushort.MaxValue : range.End.Value - 1;
        return Between(range.Start.Value, high);
    }

    /// <summary><paramref name="low"/> to <paramref name="high"/>, both included.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not 0 to 65535, or low above high.</exception>
    public static Ports Between(int low, int high)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(low);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(high, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(low, high);
        return new Ports((ushort)low, (ushort)high);
    }

    /// <summary>True when <paramref name="port"/> is in the range.</summary>
    public bool Contains(int port) => port >= Low && port <= High;

    /// <summary>"22" or "20-24".</summary>
    public override string ToString() => Low == High ? $"{Low}" : $"{Low}-{High}";
}
