using System.Text;

namespace VethXdp.Vm.Pcap;

/// <summary>One packet read from a capture file.</summary>
/// <remarks><see cref="Data"/> and <see cref="CommentUtf8"/> point into the reader's buffer: they are valid until the
/// next read. Copy them to keep them.</remarks>
public readonly struct PcapRecord
{
    /// <summary>Creates a record.</summary>
    public PcapRecord(long index, long timestampNs, uint originalLength, ReadOnlyMemory<byte> data, int interfaceId, uint linkType,
        long fileOffset, uint? flags, ReadOnlyMemory<byte> commentUtf8)
    {
        Index = index;
        TimestampNs = timestampNs;
        OriginalLength = originalLength;
        Data = data;
        InterfaceId = interfaceId;
        LinkType = linkType;
        FileOffset = fileOffset;
        Flags = flags;
        CommentUtf8 = commentUtf8;
    }

    /// <summary>The packet's index in the file, from 0 (pcapng: counting packet blocks of every section).</summary>
    public long Index { get; }

    /// <summary>The timestamp in nanoseconds since the Unix epoch (pcapng: with the interface's resolution and offset
    /// applied; a Simple Packet Block has none: 0).</summary>
    public long TimestampNs { get; }

    /// <summary>The packet's length on the wire (may be more than <see cref="Data"/>'s length when the capture truncated it).</summary>
    public uint OriginalLength { get; }

    /// <summary>The captured bytes; valid until the next read.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The interface id within its pcapng section; 0 for classic pcap.</summary>
    public int InterfaceId { get; }

    /// <summary>The link type of the packet's interface (<see cref="LinkTypes"/>).</summary>
    public uint LinkType { get; }

    /// <summary>The byte offset in the file of the record's header (pcapng: of its block).</summary>
    public long FileOffset { get; }

    /// <summary>The <c>epb_flags</c> (pcapng EPB) or <c>pack_flags</c> (OPB) option, or null when absent.</summary>
    public uint? Flags { get; }

    /// <summary>The first <c>opt_comment</c> option's UTF-8 bytes (pcapng), or empty; valid until the next read.</summary>
    public ReadOnlyMemory<byte> CommentUtf8 { get; }

    /// <summary>The first <c>opt_comment</c> as a string, or null when there is none (allocates).</summary>
    public string? GetComment() => CommentUtf8.IsEmpty ? null : Encoding.UTF8.GetString(CommentUtf8.Span);
}
