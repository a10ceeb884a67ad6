namespace VethXdp.Testing.Model;

/// <summary>One IPv4 or TCP option: kinds 0 (end of list) and 1 (no-operation) are a single byte; every other kind is
/// kind, length (2 + data), data.</summary>
/// <param name="Kind">The option kind (IPv4: the whole type byte, e.g. 0x07 record route, 0x83 loose source route;
/// TCP: 2 MSS, 3 window scale, 4 SACK permitted, 5 SACK, 8 timestamps).</param>
/// <param name="Data">The bytes after the length byte.</param>
/// <param name="LengthOverride">The length byte to write instead of 2 + <paramref name="Data"/>.Length (a malformed option).</param>
public sealed record HeaderOption(byte Kind, ReadOnlyMemory<byte> Data, byte? LengthOverride = null)
{
    /// <summary>End of option list (0).</summary>
    public static HeaderOption EndOfList { get; } = new(0, ReadOnlyMemory<byte>.Empty);

    /// <summary>No-operation (1).</summary>
    public static HeaderOption NoOperation { get; } = new(1, ReadOnlyMemory<byte>.Empty);

    /// <summary>True for the one-byte kinds 0 and 1.</summary>
    public bool IsSingleByte => Kind <= 1;

    /// <summary>Bytes the option occupies.</summary>
    public int Length => IsSingleByte ? 1 : 2 + Data.Length;

    /// <summary>The length byte as written (<see cref="LengthOverride"/> or the real length).</summary>
    public byte WireLength => LengthOverride ?? (byte)Math.Min(255, Length);

    internal int Write(Span<byte> destination)
    {
        destination[0] = Kind;
        if (IsSingleByte)
        {
            return 1;
        }

        destination[1] = WireLength;
        Data.Span.CopyTo(destination[2..]);
        return Length;
    }

    /// <summary>Writes <paramref name="options"/> and pads them with zero (end of list) bytes to a multiple of 4, at most
    /// <paramref name="max"/> bytes (options past that are left out).</summary>
    internal static int WriteList(IReadOnlyList<HeaderOption> options, Span<byte> destination, int max)
    {
        int n = PaddedLength(options, max);
        destination[..n].Clear();
        int at = 0;
        for (int i = 0; i < options.Count; i++)
        {
            var o = options[i];
            if (at + o.Length > n)
            {
                break;
            }

            at += o.Write(destination[at..]);
        }

        return n;
    }

    /// <summary>The options' length padded to a multiple of 4, capped at <paramref name="max"/> (whole options only).</summary>
    internal static int PaddedLength(IReadOnlyList<HeaderOption> options, int max)
    {
        int raw = 0;
        for (int i = 0; i < options.Count; i++)
        {
            var o = options[i];
            if (raw + o.Length > max)
            {
                break;
            }

            raw += o.Length;
        }

        return (raw + 3) & ~3;
    }
}
