namespace VethXdp.Testing.Model;

/// <summary>What a header sees while it is written: the whole (uncut) frame, in which every later header and the payload
/// are already in place, and its neighbours in the model.</summary>
internal readonly ref struct RenderContext
{
    public RenderContext(Span<byte> frame, IReadOnlyList<Header> headers, int index, int offset)
    {
        Frame = frame;
        Headers = headers;
        Index = index;
        Offset = offset;
    }

    /// <summary>The uncut frame.</summary>
    public Span<byte> Frame { get; }

    /// <summary>The model's headers.</summary>
    public IReadOnlyList<Header> Headers { get; }

    /// <summary>This header's index in <see cref="Headers"/>.</summary>
    public int Index { get; }

    /// <summary>This header's offset in <see cref="Frame"/>.</summary>
    public int Offset { get; }

    /// <summary>The header after this one, or null.</summary>
    public Header? Next => Index + 1 < Headers.Count ? Headers[Index + 1] : null;

    /// <summary>Bytes from this header's start to the end of the frame.</summary>
    public int Remaining => Frame.Length - Offset;

    /// <summary>This header's bytes.</summary>
    public Span<byte> Here => Frame.Slice(Offset, Headers[Index].Length);

    /// <summary>True when something (a header or payload) follows this header.</summary>
    public bool SomethingFollows => Offset + Headers[Index].Length < Frame.Length;

    /// <summary>The nearest IPv4 or IPv6 header before this one (the owner of the pseudo-header), or null.</summary>
    public Header? EnclosingIp
    {
        get
        {
            for (int i = Index - 1; i >= 0; i--)
            {
                if (Headers[i].IsIp)
                {
                    return Headers[i];
                }
            }

            return null;
        }
    }
}
