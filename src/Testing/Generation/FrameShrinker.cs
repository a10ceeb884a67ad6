using VethXdp.Testing.Model;

namespace VethXdp.Testing.Generation;

/// <summary>Shrink candidates of a frame, most aggressive first. Every candidate is strictly smaller by the measure
/// (rendered length, then headers, options, non-zero fields and overrides, non-zero payload bytes), so shrinking ends.</summary>
/// <remarks>FsCheck takes the first candidate that still fails and asks again, so the order is: drop everything after a
/// header, drop one header, shorten the payload, cut the frame shorter (at a header boundary, halfway, one byte less),
/// simplify each header (drop its overrides and options, zero its fields), zero payload bytes. No candidate is longer
/// than the frame: the smallest failing frame wins over a well-formed one (a spec that allows no truncation gets no
/// cut candidates: see <see cref="FrameSpec.Admits"/>).</remarks>
internal static class FrameShrinker
{
    private const int PerBytePayloadLimit = 32;

    public static IEnumerable<Frame> Candidates(Frame frame)
    {
        var h = frame.Headers;

        // Everything after header i (and the payload) gone.
        for (int i = 1; i < h.Count; i++)
        {
            yield return new Frame(Take(h, i), ReadOnlyMemory<byte>.Empty, CutWithin(frame.Cut, i));
        }

        // Header i gone.
        for (int i = 1; i < h.Count; i++)
        {
            yield return frame with { Headers = Without(h, i), Cut = CutAfterRemoving(frame, i) };
        }

        // A shorter payload.
        int p = frame.Payload.Length;
        if (p > 0)
        {
            yield return Payload(frame, 0);
            if (p > 1)
            {
                yield return Payload(frame, p / 2);
                yield return Payload(frame, p - 1);
            }
        }

        // The frame cut shorter: at each header boundary, halfway, one byte less (a cut only ever moves earlier).
        int length = frame.Length;
        var seen = new HashSet<int>();
        for (int k = 1; k <= h.Count; k++)
        {
            int at = frame.OffsetOf(k);
            if (at < length && (k < h.Count || p > 0) && seen.Add(at))
            {
                yield return frame with { Cut = new FrameCut(k, 0) };
            }
        }

        for (int t = 0; t < 2 && h.Count > 0; t++)
        {
            int target = t == 0 ? Frames.MinLength + ((length - Frames.MinLength) / 2) : length - 1;
            if (target >= Frames.MinLength && target < length && seen.Add(target))
            {
                yield return frame with { Cut = CutAt(frame, target) };
            }
        }

        // Each header simpler.
        for (int i = 0; i < h.Count; i++)
        {
            foreach (var simpler in h[i].Simplify())
            {
                yield return frame with { Headers = MalformationFinder.Replace(h, i, simpler) };
            }
        }

        // Payload bytes zeroed: all at once, then (for short payloads) one by one.
        var span = frame.Payload.Span;
        if (span.ContainsAnyExcept((byte)0))
        {
            yield return frame with { Payload = new byte[p] };
            if (p <= PerBytePayloadLimit)
            {
                for (int i = 0; i < p; i++)
                {
                    if (frame.Payload.Span[i] != 0)
                    {
                        var copy = frame.Payload.ToArray();
                        copy[i] = 0;
                        yield return frame with { Payload = copy };
                    }
                }
            }
        }

        // Raw bytes: shorter from the front too.
        if (h.Count == 0 && p > 1)
        {
            yield return frame with { Payload = frame.Payload[1..] };
        }

    }

    // The cut that ends the frame after `length` bytes: in the header (or payload) that holds byte `length`.
    private static FrameCut CutAt(Frame frame, int length)
    {
        int off = 0;
        for (int k = 0; k < frame.Headers.Count; k++)
        {
            int size = frame.Headers[k].Length;
            if (length < off + size)
            {
                return new FrameCut(k, length - off);
            }

            off += size;
        }

        return new FrameCut(frame.Headers.Count, length - off);
    }

    private static Frame Payload(Frame frame, int length) => frame with
    {
        Payload = frame.Payload[..length],
        Cut = frame.Cut is { } c && c.HeaderIndex >= frame.Headers.Count ? (c.Into < length ? c : null) : frame.Cut,
    };

    private static Header[] Take(IReadOnlyList<Header> headers, int count)
    {
        var list = new Header[count];
        for (int i = 0; i < count; i++)
        {
            list[i] = headers[i];
        }

        return list;
    }

    private static Header[] Without(IReadOnlyList<Header> headers, int index)
    {
        var list = new Header[headers.Count - 1];
        for (int i = 0, j = 0; i < headers.Count; i++)
        {
            if (i != index)
            {
                list[j++] = headers[i];
            }
        }

        return list;
    }

    // A cut kept when the headers are cut down to count (the payload gone): only if it falls inside them.
    private static FrameCut? CutWithin(FrameCut? cut, int count)
    {
        return cut is not null && cut.HeaderIndex < count ? cut : null;
    }

    // After removing header i, the cut refers to the same header as before; a cut in header i moves to its start.
    private static FrameCut? CutAfterRemoving(Frame frame, int i)
    {
        if (frame.Cut is not { } cut || cut.HeaderIndex < i)
        {
            return frame.Cut;
        }

        return cut.HeaderIndex == i ? new FrameCut(i, 0) : cut with { HeaderIndex = cut.HeaderIndex - 1 };
    }
}
