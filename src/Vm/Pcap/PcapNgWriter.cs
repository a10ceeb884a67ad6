using System.Buffers.Binary;
using System.Text;

namespace VethXdp.Vm.Pcap;

/// <summary>Writes a pcapng file that tshark and Wireshark read: one Section Header Block (with <c>shb_userappl</c>),
/// one Interface Description Block per (ifindex, link type) used, written when first used, and an Enhanced Packet Block
/// per packet with nanosecond timestamps, an optional <c>opt_comment</c> and an optional <c>epb_flags</c>.</summary>
/// <remarks>Little-endian, pcapng 1.0, <c>if_tsresol</c> = 9 (nanoseconds) on every interface. Writing a packet
/// allocates nothing once the block buffer has grown to the largest packet.</remarks>
public sealed class PcapNgWriter : IDisposable
{
    private const uint BlockShb = 0x0a0d0d0a;
    private const uint BlockIdb = 1;
    private const uint BlockEpb = 6;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly List<(int Ifindex, uint LinkType)> _interfaces = [];
    private byte[] _block = new byte[2048];
    private bool _disposed;

    /// <summary>Starts a pcapng file on <paramref name="stream"/> by writing its Section Header Block.</summary>
    /// <param name="stream">Where to write.</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on <see cref="Dispose"/>.</param>
    /// <param name="userApplication">The <c>shb_userappl</c> option.</param>
    public PcapNgWriter(Stream stream, bool leaveOpen = false, string userApplication = "vethxdp")
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(userApplication);
        _stream = stream;
        _leaveOpen = leaveOpen;
        WriteSectionHeader(userApplication);
    }

    /// <summary>The number of Enhanced Packet Blocks written.</summary>
    public long PacketsWritten { get; private set; }

    /// <summary>The number of Interface Description Blocks written.</summary>
    public int InterfaceCount => _interfaces.Count;

    /// <summary>Creates (or truncates) the file at <paramref name="path"/> and starts a pcapng file in it.</summary>
    public static PcapNgWriter Create(string path, string userApplication = "vethxdp")
    {
        ArgumentNullException.ThrowIfNull(path);
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        return new PcapNgWriter(stream, leaveOpen: false, userApplication);
    }

    /// <summary>The interface id for (<paramref name="ifindex"/>, <paramref name="linkType"/>); on first use, writes
    /// its Interface Description Block (if_name when given, if_description "ifindex N", if_tsresol 9).</summary>
    /// <param name="ifindex">The device's ifindex (recorded in if_description).</param>
    /// <param name="linkType">The link type (<see cref="LinkTypes.Ethernet"/> for XDP frames).</param>
    /// <param name="name">The if_name option, or null for none (used only when the interface is new).</param>
    /// <param name="snapLength">The snaplen (0: unlimited; used only when the interface is new).</param>
    public int GetInterface(int ifindex, uint linkType = LinkTypes.Ethernet, string? name = null, uint snapLength = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (int i = 0; i < _interfaces.Count; i++)
        {
            if (_interfaces[i].Ifindex == ifindex && _interfaces[i].LinkType == linkType)
            {
                return i;
            }
        }

        if (linkType > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(linkType), linkType, "pcapng link types are 16 bits");
        }

        string description = "ifindex " + ifindex.ToString(System.Globalization.CultureInfo.InvariantCulture);
        int length = 8 + 8 // block header and link type, reserved, snaplen
            + OptionSize(name is null ? 0 : Encoding.UTF8.GetByteCount(name))
            + OptionSize(Encoding.UTF8.GetByteCount(description))
            + OptionSize(1) + 4 + 4; // if_tsresol, opt_endofopt, trailer
        var b = Block(length);
        W32(b, 0, BlockIdb);
        W32(b, 4, (uint)length);
        W16(b, 8, (ushort)linkType);
        W16(b, 10, 0);
        W32(b, 12, snapLength);
        int at = 16;
        if (name is not null)
        {
            at = PutOption(b, at, 2, name);
        }

        at = PutOption(b, at, 3, description);
        W16(b, at, 9);       // if_tsresol: 10^-9 seconds
        W16(b, at + 2, 1);
        b[at + 4] = 9;
        b[at + 5] = b[at + 6] = b[at + 7] = 0;
        at += 8;
        at = PutEndOfOptions(b, at);
        W32(b, at, (uint)length);
        _stream.Write(b[..length]);
        _interfaces.Add((ifindex, linkType));
        return _interfaces.Count - 1;
    }

    /// <summary>Writes one Enhanced Packet Block.</summary>
    /// <param name="interfaceId">An id from <see cref="GetInterface"/>.</param>
    /// <param name="timestampNs">Nanoseconds since the Unix epoch.</param>
    /// <param name="data">The captured bytes.</param>
    /// <param name="comment">The opt_comment (the verdict, e.g. "XDP_TX"), or empty for none; at most 65535 UTF-8 bytes.</param>
    /// <param name="flags">The epb_flags option (<see cref="EpbFlags"/>), or null for none.</param>
    /// <param name="originalLength">The length on the wire, or -1 for the captured length.</param>
    public void WritePacket(int interfaceId, long timestampNs, ReadOnlySpan<byte> data, ReadOnlySpan<char> comment = default,
        uint? flags = null, long originalLength = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)interfaceId >= (uint)_interfaces.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(interfaceId), interfaceId, "not an interface of this writer (call GetInterface)");
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(originalLength, uint.MaxValue);
        int commentBytes = comment.IsEmpty ? 0 : Encoding.UTF8.GetByteCount(comment);
        if (commentBytes > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(comment), "a pcapng option holds at most 65535 bytes");
        }

        int padded = (data.Length + 3) & ~3;
        bool anyOption = commentBytes > 0 || flags.HasValue;
        int length = 8 + 20 + padded
            + (commentBytes > 0 ? OptionSize(commentBytes) : 0)
            + (flags.HasValue ? OptionSize(4) : 0)
            + (anyOption ? 4 : 0) + 4;
        var b = Block(length);
        ulong ts = unchecked((ulong)timestampNs);
        W32(b, 0, BlockEpb);
        W32(b, 4, (uint)length);
        W32(b, 8, (uint)interfaceId);
        W32(b, 12, (uint)(ts >> 32));
        W32(b, 16, (uint)ts);
        W32(b, 20, (uint)data.Length);
        W32(b, 24, originalLength < 0 ? (uint)data.Length : (uint)originalLength);
        data.CopyTo(b[28..]);
        b.Slice(28 + data.Length, padded - data.Length).Clear();
        int at = 28 + padded;
        if (commentBytes > 0)
        {
            W16(b, at, 1); // opt_comment
            W16(b, at + 2, (ushort)commentBytes);
            Encoding.UTF8.GetBytes(comment, b[(at + 4)..]);
            at = Pad(b, at + 4 + commentBytes);
        }

        if (flags.HasValue)
        {
            W16(b, at, 2); // epb_flags
            W16(b, at + 2, 4);
            W32(b, at + 4, flags.Value);
            at += 8;
        }

        if (anyOption)
        {
            at = PutEndOfOptions(b, at);
        }

        W32(b, at, (uint)length);
        _stream.Write(b[..length]);
        PacketsWritten++;
    }

    /// <summary>Flushes the stream.</summary>
    public void Flush() => _stream.Flush();

    /// <summary>Flushes, and closes the stream unless it was to be left open.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stream.Flush();
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    private void WriteSectionHeader(string userApplication)
    {
        int appBytes = Encoding.UTF8.GetByteCount(userApplication);
        int length = 8 + 16 + (appBytes > 0 ? OptionSize(appBytes) + 4 : 0) + 4;
        var b = Block(length);
        W32(b, 0, BlockShb);
        W32(b, 4, (uint)length);
        W32(b, 8, 0x1a2b3c4d);   // byte-order magic
        W16(b, 12, 1);           // version 1.0
        W16(b, 14, 0);
        BinaryPrimitives.WriteInt64LittleEndian(b[16..], -1); // section length: not given
        int at = 24;
        if (appBytes > 0)
        {
            at = PutOption(b, at, 4, userApplication); // shb_userappl
            at = PutEndOfOptions(b, at);
        }

        W32(b, at, (uint)length);
        _stream.Write(b[..length]);
    }

    private Span<byte> Block(int length)
    {
        if (_block.Length < length)
        {
            _block = new byte[Math.Max(length, _block.Length * 2)];
        }

        return _block.AsSpan(0, length);
    }

    private static int OptionSize(int valueLength) => valueLength == 0 ? 0 : 4 + ((valueLength + 3) & ~3);

    private static int PutOption(Span<byte> b, int at, ushort code, string value)
    {
        int n = Encoding.UTF8.GetBytes(value, b[(at + 4)..]);
        W16(b, at, code);
        W16(b, at + 2, (ushort)n);
        return Pad(b, at + 4 + n);
    }

    private static int PutEndOfOptions(Span<byte> b, int at)
    {
        W32(b, at, 0); // opt_endofopt, length 0
        return at + 4;
    }

    private static int Pad(Span<byte> b, int at)
    {
        while ((at & 3) != 0)
        {
            b[at++] = 0;
        }

        return at;
    }

    private static void W16(Span<byte> b, int at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(b[at..], v);

    private static void W32(Span<byte> b, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b[at..], v);
}
