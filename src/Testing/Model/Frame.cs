using System.Globalization;
using System.Text;

namespace VethXdp.Testing.Model;

/// <summary>A frame as a model: its headers, outermost first, the payload after them, and optionally where it is cut.
/// It renders to bytes (<see cref="Render"/>); generators produce it and shrinking works on it, so a failing property
/// reports a frame a person can read (<see cref="ToString"/>).</summary>
/// <remarks>The model is immutable: change it with <c>with</c>. Fields a header does not set (next protocol, lengths,
/// checksums) are computed when rendering; malformed frames set them through overrides (see
/// <see cref="Malformations"/>). A frame without headers is raw bytes (its payload).</remarks>
/// <param name="Headers">The headers, outermost first.</param>
/// <param name="Payload">The bytes after the last header.</param>
/// <param name="Cut">Where the frame is truncated; null: it is whole.</param>
public sealed record Frame(IReadOnlyList<Header> Headers, ReadOnlyMemory<byte> Payload, FrameCut? Cut = null)
{
    /// <summary>The EtherType written when the next header has none: 0x88b5, IEEE 802 local experimental 1.</summary>
    public const ushort ExperimentalEtherType = 0x88b5;

    /// <summary>The IP protocol written when payload follows but the next header has no number: 253 (RFC 3692).</summary>
    public const byte ExperimentalProtocol = 253;

    /// <summary>The IP protocol written when nothing follows: 59, IPv6 No Next Header.</summary>
    public const byte NoNextHeader = 59;

    /// <summary>A frame of headers and no payload.</summary>
    public static Frame Of(params Header[] headers) => new(headers, ReadOnlyMemory<byte>.Empty);

    /// <summary>A frame that is only bytes (no headers).</summary>
    public static Frame Raw(ReadOnlyMemory<byte> bytes) => new([], bytes);

    /// <summary>The length without the cut.</summary>
    public int FullLength => OffsetOf(Headers.Count) + Payload.Length;

    /// <summary>The rendered length (with the cut).</summary>
    public int Length => Cut is null ? FullLength : Math.Min(FullLength, OffsetOf(Math.Min(Cut.HeaderIndex, Headers.Count)) + Cut.Into);

    /// <summary>True when the model has at least one defect (<see cref="Malformations"/>).</summary>
    public bool IsMalformed => Malformations.Count > 0;

    /// <summary>The defects of this frame, found by reading the model against its rendering.</summary>
    public IReadOnlyList<Malformation> Malformations => MalformationFinder.Find(this);

    /// <summary>The offset of header <paramref name="index"/> (the payload's when it is the header count).</summary>
    public int OffsetOf(int index)
    {
        int off = 0;
        for (int i = 0; i < index && i < Headers.Count; i++)
        {
            off += Headers[i].Length;
        }

        return off;
    }

    /// <summary>The index of the first header of type <typeparamref name="T"/>, or -1.</summary>
    public int IndexOf<T>()
        where T : Header
    {
        for (int i = 0; i < Headers.Count; i++)
        {
            if (Headers[i] is T)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The first header of type <typeparamref name="T"/>, or null.</summary>
    public T? Find<T>()
        where T : Header
    {
        for (int i = 0; i < Headers.Count; i++)
        {
            if (Headers[i] is T t)
            {
                return t;
            }
        }

        return null;
    }

    /// <summary>The last (innermost) header of type <typeparamref name="T"/>, or null.</summary>
    public T? FindLast<T>()
        where T : Header
    {
        for (int i = Headers.Count - 1; i >= 0; i--)
        {
            if (Headers[i] is T t)
            {
                return t;
            }
        }

        return null;
    }

    /// <summary>True when header <paramref name="index"/> is entirely inside the (cut) frame.</summary>
    public bool IsWhole(int index) => OffsetOf(index) + (index < Headers.Count ? Headers[index].Length : Payload.Length) <= Length;

    /// <summary>Renders the frame into <paramref name="destination"/>, which must hold <see cref="FullLength"/> bytes (the
    /// frame is written whole, then cut); returns <see cref="Length"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="FullLength"/>.</exception>
    public int WriteTo(Span<byte> destination)
    {
        int full = FullLength;
        if (destination.Length < full)
        {
            throw new ArgumentException($"the frame needs {full} bytes, the buffer has {destination.Length}", nameof(destination));
        }

        var frame = destination[..full];
        int n = Headers.Count;
        Span<int> offsets = n <= 64 ? stackalloc int[n + 1] : new int[n + 1];
        for (int i = 0; i < n; i++)
        {
            offsets[i + 1] = offsets[i] + Headers[i].Length;
        }

        Payload.Span.CopyTo(frame[offsets[n]..]);

        // Innermost first: a header's checksum covers what follows it, which must be final.
        for (int i = n - 1; i >= 0; i--)
        {
            Headers[i].Write(new RenderContext(frame, Headers, i, offsets[i]));
        }

        return Length;
    }

    /// <summary>The frame's bytes.</summary>
    public byte[] Render()
    {
        var buffer = new byte[FullLength];
        int n = WriteTo(buffer);
        return n == buffer.Length ? buffer : buffer[..n];
    }

    /// <summary>The frame's bytes without the cut.</summary>
    public byte[] RenderFull() => (this with { Cut = null }).Render();

    /// <summary>One line per header (as written, so overrides show), the payload, the defects, and a hex dump.</summary>
    public override string ToString() => Describe(includeHex: true);

    /// <summary>One line per header, the payload, the defects and, when <paramref name="includeHex"/>, a hex dump.</summary>
    public string Describe(bool includeHex = true)
    {
        var full = RenderFull();
        int length = Length;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"frame of {length} bytes");
        if (length != full.Length)
        {
            sb.Append(CultureInfo.InvariantCulture, $" (cut from {full.Length})");
        }

        sb.AppendLine();
        int off = 0;
        for (int i = 0; i < Headers.Count; i++)
        {
            var h = Headers[i];
            sb.Append("  ").Append(h.Name.PadRight(13)).Append(h.Describe(full.AsSpan(off, h.Length)));
            AppendCut(sb, off, h.Length, length);
            sb.AppendLine();
            off += h.Length;
        }

        if (Payload.Length > 0 || Headers.Count == 0)
        {
            sb.Append("  ").Append((Headers.Count == 0 ? "bytes" : "payload").PadRight(13))
                .Append(CultureInfo.InvariantCulture, $"{Payload.Length} bytes");
            AppendCut(sb, off, Payload.Length, length);
            sb.AppendLine();
        }

        var defects = Malformations;
        if (defects.Count > 0)
        {
            sb.Append("  ").Append("malformed".PadRight(13)).AppendJoin("; ", defects).AppendLine();
        }

        if (includeHex)
        {
            FrameFormatter.AppendHex(sb, full.AsSpan(0, length), "  ");
        }

        return sb.ToString().TrimEnd();
    }

    private static void AppendCut(StringBuilder sb, int offset, int size, int length)
    {
        if (offset + size > length)
        {
            int kept = Math.Max(0, length - offset);
            sb.Append(CultureInfo.InvariantCulture, $"  [cut: {kept} of {size} bytes in the frame]");
        }
    }

    /// <summary>Equal when the headers, payload bytes and cut are equal.</summary>
    public bool Equals(Frame? other)
    {
        if (other is null || other.Headers.Count != Headers.Count || Cut != other.Cut || !Payload.Span.SequenceEqual(other.Payload.Span))
        {
            return false;
        }

        for (int i = 0; i < Headers.Count; i++)
        {
            if (!Equals(Headers[i], other.Headers[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A hash of the header count, the length and the cut.</summary>
    public override int GetHashCode() => HashCode.Combine(Headers.Count, Payload.Length, Cut);
}
