namespace VethXdp.Testing.Generation;

/// <summary>The generator's randomness: SplitMix64, seeded from FsCheck's generator, so a seed replays the same frame on
/// every platform and runtime.</summary>
internal sealed class FrameRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextULong()
    {
        ulong z = _state += 0x9e3779b97f4a7c15;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
        z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
        return z ^ (z >> 31);
    }

    /// <summary>A value in [<paramref name="low"/>, <paramref name="high"/>] (both included).</summary>
    public int Next(int low, int high)
    {
        if (high <= low)
        {
            return low;
        }

        return low + (int)(NextULong() % (ulong)((long)high - low + 1));
    }

    public uint NextUInt() => (uint)NextULong();

    public ushort NextUShort() => (ushort)NextULong();

    public byte NextByte() => (byte)NextULong();

    /// <summary>True with probability <paramref name="percent"/>/100.</summary>
    public bool Percent(int percent) => percent > 0 && (percent >= 100 || Next(0, 99) < percent);

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Chance(double p) => p > 0 && (p >= 1 || (NextULong() >> 11) * (1.0 / (1UL << 53)) < p);

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(0, items.Count - 1)];

    /// <summary>An index drawn with the given weights, or -1 when they are all zero.</summary>
    public int Weighted(ReadOnlySpan<int> weights)
    {
        long total = 0;
        foreach (int w in weights)
        {
            total += Math.Max(0, w);
        }

        if (total == 0)
        {
            return -1;
        }

        long r = (long)(NextULong() % (ulong)total);
        for (int i = 0; i < weights.Length; i++)
        {
            r -= Math.Max(0, weights[i]);
            if (r < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }

    public byte[] Bytes(int count)
    {
        var b = new byte[count];
        for (int i = 0; i < count; i++)
        {
            b[i] = NextByte();
        }

        return b;
    }
}
