using System.Buffers.Binary;
using System.Globalization;

namespace VethXdp.Vm.Pcap;

/// <summary>Streams packets out of a classic pcap or a pcapng file, with flat memory: one buffer, reused for every
/// record, grown only when a larger record arrives.</summary>
/// <remarks>
/// <para>Classic pcap: both byte orders, microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magic, and the
/// "modified" (Kuznetzov, 0xa1b2cd34) variant whose record headers carry 8 more bytes; any snaplen and link type.</para>
/// <para>pcapng: Section Header Blocks in either byte order (a file may hold several sections, each with its own byte
/// order and interfaces), Interface Description Blocks (link type, snaplen, <c>if_name</c>, <c>if_tsresol</c> both
/// 10^-n and 2^-n, <c>if_tsoffset</c>), Enhanced, Simple and (obsolete) Packet Blocks with their comment and flags
/// options. Every other block type (name resolution, interface statistics, decryption secrets, custom, ...) is skipped.</para>
/// <para>Errors: <see cref="PcapFormatException"/>. A file that is neither format fails in the constructor; a truncated
/// or corrupt record fails in the <see cref="TryRead"/> call that would have returned it, after every earlier record
/// was returned. After a failure, <see cref="TryRead"/> returns false.</para>
/// </remarks>
public sealed class PcapReader : IDisposable
{
    /// <summary>The largest captured length accepted for one packet (larger is reported as corrupt).</summary>
    public const int MaxPacketLength = 16 * 1024 * 1024;

    /// <summary>The largest pcapng block accepted.</summary>
    public const int MaxBlockLength = MaxPacketLength + 64 * 1024;

    private const uint MagicMicro = 0xa1b2c3d4;
    private const uint MagicNano = 0xa1b23c4d;
    private const uint MagicModified = 0xa1b2cd34;
    private const uint ByteOrderMagic = 0x1a2b3c4d;
    private const uint BlockShb = 0x0a0d0d0a;
    private const uint BlockIdb = 1;
    private const uint BlockOpb = 2;
    private const uint BlockSpb = 3;
    private const uint BlockEpb = 6;
    private const byte DefaultTsResol = 6;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _hdr = new byte[32];
    private readonly List<PcapInterface> _interfaces = [];
    private byte[] _buf = new byte[2048];
    private long _position;
    private long _index;
    private bool _bigEndian;
    private bool _done;
    private bool _inFileHeader;

    // pcapng: a block read ahead by the constructor (after the leading interface descriptions), or the error it raised
    private bool _pending;
    private uint _pendingType;
    private int _pendingBody;
    private long _pendingOffset;
    private PcapFormatException? _pendingError;

    // classic pcap
    private bool _modified;
    private uint _classicLinkType;

    /// <summary>Reads the file header (classic) or the first Section Header Block (pcapng) from <paramref name="stream"/>.</summary>
    /// <param name="stream">The capture, positioned at its start; it need not be seekable.</param>
    /// <param name="fileName">The name used in messages.</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on <see cref="Dispose"/>.</param>
    /// <exception cref="PcapFormatException">The stream is not a pcap or pcapng capture, or its header is corrupt.</exception>
    public PcapReader(Stream stream, string fileName, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(fileName);
        _stream = stream;
        _leaveOpen = leaveOpen;
        FileName = fileName;
        try
        {
            ReadFileHeader();
        }
        catch
        {
            if (!leaveOpen)
            {
                stream.Dispose();
            }

            throw;
        }
    }

    /// <summary>The name used in messages.</summary>
    public string FileName { get; }

    /// <summary>The format.</summary>
    public PcapFileFormat Format { get; private set; }

    /// <summary>True when the file header (classic) or the current section (pcapng) is big-endian.</summary>
    public bool IsBigEndian => _bigEndian;

    /// <summary>Major version of the file header (classic: 2) or of the current section (pcapng: 1).</summary>
    public int VersionMajor { get; private set; }

    /// <summary>Minor version of the file header (classic: 4) or of the current section (pcapng: 0).</summary>
    public int VersionMinor { get; private set; }

    /// <summary>Classic pcap: the timestamp resolution its magic gives; pcapng: nanoseconds (each interface has its own).</summary>
    public PcapTimestampResolution TimestampResolution { get; private set; }

    /// <summary>Classic pcap: the snaplen of the file header; pcapng: that of the first interface of the current section
    /// (0 before one is read).</summary>
    public uint SnapLength => Format == PcapFileFormat.Pcap ? _interfaces[0].SnapLength : _interfaces.Count > 0 ? _interfaces[0].SnapLength : 0;

    /// <summary>Classic pcap: the link type of the file header; pcapng: that of the first interface of the current
    /// section (the constructor reads the interface descriptions that lead the file), or null when none was read yet.</summary>
    public uint? LinkType => Format == PcapFileFormat.Pcap ? _classicLinkType : _interfaces.Count > 0 ? _interfaces[0].LinkType : null;

    /// <summary>The interfaces of the current section read so far (classic pcap: one, from the file header).</summary>
    public IReadOnlyList<PcapInterface> Interfaces => _interfaces;

    /// <summary>pcapng: the current section's <c>shb_userappl</c> option, or null.</summary>
    public string? UserApplication { get; private set; }

    /// <summary>The number of records returned so far (the next record's <see cref="PcapRecord.Index"/>).</summary>
    public long RecordsRead => _index;

    /// <summary>Opens the file at <paramref name="path"/>; messages name it without its directory.</summary>
    /// <exception cref="PcapFormatException">Not a pcap or pcapng file, or its header is corrupt.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static PcapReader Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return new PcapReader(stream, Path.GetFileName(path), leaveOpen: false);
    }

    /// <summary>Reads the next packet. Its <see cref="PcapRecord.Data"/> is valid until the next call.</summary>
    /// <param name="record">The packet, when the result is true.</param>
    /// <returns>False at the end of the file (and after a failure).</returns>
    /// <exception cref="PcapFormatException">The next record is truncated or corrupt.</exception>
    public bool TryRead(out PcapRecord record)
    {
        record = default;
        if (_done)
        {
            return false;
        }

        try
        {
            bool got = Format == PcapFileFormat.Pcap ? TryReadClassic(out record) : TryReadPcapNg(out record);
            if (got)
            {
                _index++;
            }
            else
            {
                _done = true;
            }

            return got;
        }
        catch
        {
            _done = true;
            throw;
        }
    }

    /// <summary>Every remaining packet, in order; each one's data is valid until the enumeration moves on.</summary>
    /// <exception cref="PcapFormatException">A record is truncated or corrupt (thrown when the enumeration reaches it).</exception>
    public IEnumerable<PcapRecord> ReadAll()
    {
        while (TryRead(out var record))
        {
            yield return record;
        }
    }

    /// <summary>Closes the stream unless it was to be left open.</summary>
    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    // ---- file header ----

    private void ReadFileHeader()
    {
        int got = Fill(_hdr.AsSpan(0, 4));
        if (got == 0)
        {
            throw new PcapFormatException(FileName, -1, -1, "empty file: not a pcap or pcapng file");
        }

        if (got < 4)
        {
            throw new PcapFormatException(FileName, -1, -1, $"not a pcap or pcapng file (only {got} bytes)");
        }

        uint le = BinaryPrimitives.ReadUInt32LittleEndian(_hdr);
        uint be = BinaryPrimitives.ReadUInt32BigEndian(_hdr);
        if (le == BlockShb)
        {
            Format = PcapFileFormat.PcapNg;
            TimestampResolution = PcapTimestampResolution.Nanoseconds;
            _inFileHeader = true;
            _ = TryReadBlock(4, out _, out int bodyLength, out long blockOffset);
            ParseShb(bodyLength, blockOffset);
            _inFileHeader = false;
            ReadLeadingInterfaces();
            return;
        }

        if (le is MagicMicro or MagicNano or MagicModified)
        {
            _bigEndian = false;
        }
        else if (be is MagicMicro or MagicNano or MagicModified)
        {
            _bigEndian = true;
        }
        else
        {
            throw new PcapFormatException(FileName, -1, -1,
                $"not a pcap or pcapng file (it starts with {_hdr[0]:x2} {_hdr[1]:x2} {_hdr[2]:x2} {_hdr[3]:x2})");
        }

        uint magic = _bigEndian ? be : le;
        Format = PcapFileFormat.Pcap;
        _modified = magic == MagicModified;
        TimestampResolution = magic == MagicNano ? PcapTimestampResolution.Nanoseconds : PcapTimestampResolution.Microseconds;
        got = Fill(_hdr.AsSpan(4, 20));
        if (got < 20)
        {
            throw new PcapFormatException(FileName, -1, 0, $"truncated pcap file header: 24 bytes needed, {4 + got} remain");
        }

        var h = _hdr.AsSpan(0, 24);
        VersionMajor = U16(h[4..]);
        VersionMinor = U16(h[6..]);
        if (VersionMajor != 2)
        {
            throw new PcapFormatException(FileName, -1, 0, $"unsupported pcap version {VersionMajor}.{VersionMinor} (2.4 expected)");
        }

        uint snapLen = U32(h[16..]);
        // The link-type field's upper bits carry the FCS length (LT_LINKTYPE masks them off, as libpcap does).
        _classicLinkType = U32(h[20..]) & 0x03ffffff;
        _interfaces.Add(new PcapInterface(0, _classicLinkType, snapLen, null,
            TimestampResolution == PcapTimestampResolution.Nanoseconds ? (byte)9 : DefaultTsResol, 0));
    }

    // ---- classic pcap ----

    private bool TryReadClassic(out PcapRecord record)
    {
        record = default;
        long offset = _position;
        int headerLength = _modified ? 24 : 16;
        int got = Fill(_hdr.AsSpan(0, headerLength));
        if (got == 0)
        {
            return false;
        }

        if (got < headerLength)
        {
            throw Bad(offset, $"truncated record header: {headerLength} bytes needed, {got} remain");
        }

        var h = _hdr.AsSpan(0, headerLength);
        uint seconds = U32(h);
        uint fraction = U32(h[4..]);
        uint captured = U32(h[8..]);
        uint original = U32(h[12..]);
        if (captured > MaxPacketLength)
        {
            throw Bad(offset, $"corrupt: captured length {captured} is larger than the maximum {MaxPacketLength}");
        }

        int length = (int)captured;
        EnsureBuffer(length);
        got = Fill(_buf.AsSpan(0, length));
        if (got < length)
        {
            throw Bad(offset, $"truncated: header says {captured} bytes, {got} remain");
        }

        long ns = (seconds * 1_000_000_000L) + (TimestampResolution == PcapTimestampResolution.Nanoseconds ? fraction : fraction * 1000L);
        record = new PcapRecord(_index, ns, original, _buf.AsMemory(0, length), 0, _classicLinkType, offset, null, default);
        return true;
    }

    // ---- pcapng ----

    /// <summary>Reads the Interface Description Blocks that follow the first Section Header Block, so that
    /// <see cref="LinkType"/> is known before the first packet. The first other block is kept for <see cref="TryRead"/>;
    /// an error is kept too, and thrown by the first <see cref="TryRead"/>.</summary>
    private void ReadLeadingInterfaces()
    {
        try
        {
            while (TryReadBlock(0, out uint type, out int bodyLength, out long offset))
            {
                if (type != BlockIdb)
                {
                    (_pending, _pendingType, _pendingBody, _pendingOffset) = (true, type, bodyLength, offset);
                    return;
                }

                ParseIdb(bodyLength, offset);
            }
        }
        catch (PcapFormatException ex)
        {
            _pendingError = ex;
        }
    }

    private bool TryReadPcapNg(out PcapRecord record)
    {
        record = default;
        if (_pendingError is not null)
        {
            throw _pendingError;
        }

        while (TryNextBlock(out uint type, out int bodyLength, out long offset))
        {
            switch (type)
            {
                case BlockShb:
                    ParseShb(bodyLength, offset);
                    break;
                case BlockIdb:
                    ParseIdb(bodyLength, offset);
                    break;
                case BlockEpb:
                    record = ParseEpb(bodyLength, offset);
                    return true;
                case BlockSpb:
                    record = ParseSpb(bodyLength, offset);
                    return true;
                case BlockOpb:
                    record = ParseOpb(bodyLength, offset);
                    return true;
                default:
                    break; // name resolution, interface statistics, decryption secrets, custom, ...: not ours
            }
        }

        return false;
    }

    private bool TryNextBlock(out uint type, out int bodyLength, out long offset)
    {
        if (_pending)
        {
            _pending = false;
            (type, bodyLength, offset) = (_pendingType, _pendingBody, _pendingOffset);
            return true;
        }

        return TryReadBlock(0, out type, out bodyLength, out offset);
    }

    /// <summary>Reads one whole block into <see cref="_buf"/>: on return the body is <c>_buf[0..bodyLength]</c>
    /// (for a Section Header Block, the body after the byte-order magic). False at a clean end of file.</summary>
    private bool TryReadBlock(int prefilled, out uint type, out int bodyLength, out long offset)
    {
        offset = _position - prefilled;
        bodyLength = 0;
        int got = prefilled + Fill(_hdr.AsSpan(prefilled, 8 - prefilled));
        type = 0;
        if (got == 0)
        {
            return false;
        }

        if (got < 8)
        {
            throw Bad(offset, $"truncated block header: 8 bytes needed, {got} remain");
        }

        type = U32(_hdr);
        int headerLength = 8;
        if (type == BlockShb)
        {
            // A new section: its byte-order magic decides how everything from its length field on is read.
            got = Fill(_hdr.AsSpan(8, 4));
            if (got < 4)
            {
                throw Bad(offset, $"truncated section header block: 12 bytes needed, {8 + got} remain");
            }

            uint bom = BinaryPrimitives.ReadUInt32LittleEndian(_hdr.AsSpan(8));
            if (bom == ByteOrderMagic)
            {
                _bigEndian = false;
            }
            else if (BinaryPrimitives.ReverseEndianness(bom) == ByteOrderMagic)
            {
                _bigEndian = true;
            }
            else
            {
                throw Bad(offset, $"corrupt section header block: byte-order magic 0x{bom:x8} is neither 0x1a2b3c4d nor 0x4d3c2b1a");
            }

            headerLength = 12;
        }

        uint total = U32(_hdr.AsSpan(4));
        uint minimum = type == BlockShb ? 28u : 12u;
        if (total < minimum)
        {
            throw Bad(offset, $"corrupt {BlockName(type)}: block length {total} is less than the minimum {minimum}");
        }

        if (total % 4 != 0)
        {
            throw Bad(offset, $"corrupt {BlockName(type)}: block length {total} is not a multiple of 4");
        }

        if (total > MaxBlockLength)
        {
            throw Bad(offset, $"corrupt {BlockName(type)}: block length {total} is larger than the maximum {MaxBlockLength}");
        }

        int rest = (int)total - headerLength;
        EnsureBuffer(rest);
        got = Fill(_buf.AsSpan(0, rest));
        if (got < rest)
        {
            throw Bad(offset, $"truncated {BlockName(type)}: header says {total} bytes, {headerLength + got} remain");
        }

        uint trailer = U32(_buf.AsSpan(rest - 4));
        if (trailer != total)
        {
            throw Bad(offset, $"corrupt {BlockName(type)}: trailing block length {trailer} differs from the leading {total}");
        }

        bodyLength = rest - 4;
        return true;
    }

    private void ParseShb(int bodyLength, long offset)
    {
        // body (after the byte-order magic): major u16, minor u16, section length i64, options
        if (bodyLength < 12)
        {
            throw Bad(offset, "corrupt section header block: too short");
        }

        var body = _buf.AsSpan(0, bodyLength);
        int major = U16(body), minor = U16(body[2..]);
        if (major != 1)
        {
            throw Bad(offset, $"unsupported pcapng version {major}.{minor} (1.0 expected)");
        }

        VersionMajor = major;
        VersionMinor = minor;
        _interfaces.Clear();
        UserApplication = null;
        var options = body[12..];
        while (NextOption(ref options, offset, "section header block", out ushort code, out var value))
        {
            if (code == 4 && UserApplication is null)
            {
                UserApplication = System.Text.Encoding.UTF8.GetString(value);
            }
        }
    }

    private void ParseIdb(int bodyLength, long offset)
    {
        // body: link type u16, reserved u16, snaplen u32, options
        if (bodyLength < 8)
        {
            throw Bad(offset, "corrupt interface description block: too short");
        }

        var body = _buf.AsSpan(0, bodyLength);
        uint linkType = U16(body);
        uint snapLen = U32(body[4..]);
        string? name = null;
        byte tsResol = DefaultTsResol;
        long tsOffset = 0;
        var options = body[8..];
        while (NextOption(ref options, offset, "interface description block", out ushort code, out var value))
        {
            switch (code)
            {
                case 2 when name is null: // if_name
                    name = System.Text.Encoding.UTF8.GetString(value);
                    break;
                case 9 when value.Length >= 1: // if_tsresol
                    tsResol = value[0];
                    break;
                case 14 when value.Length >= 8: // if_tsoffset
                    tsOffset = (long)U64(value);
                    break;
                default:
                    break;
            }
        }

        _interfaces.Add(new PcapInterface(_interfaces.Count, linkType, snapLen, name, tsResol, tsOffset));
    }

    private PcapRecord ParseEpb(int bodyLength, long offset)
    {
        // body: interface id u32, timestamp high u32, low u32, captured length u32, original length u32, data (padded), options
        if (bodyLength < 20)
        {
            throw Bad(offset, "corrupt enhanced packet block: too short");
        }

        var body = _buf.AsSpan(0, bodyLength);
        uint ifId = U32(body);
        ulong ts = ((ulong)U32(body[4..]) << 32) | U32(body[8..]);
        uint captured = U32(body[12..]);
        uint original = U32(body[16..]);
        return PacketWithOptions(body, offset, "enhanced packet block", ifId, ts, captured, original, 20);
    }

    private PcapRecord ParseOpb(int bodyLength, long offset)
    {
        // body: interface id u16, drops count u16, timestamp high u32, low u32, captured length u32, length u32, data, options
        if (bodyLength < 20)
        {
            throw Bad(offset, "corrupt packet block: too short");
        }

        var body = _buf.AsSpan(0, bodyLength);
        uint ifId = U16(body);
        ulong ts = ((ulong)U32(body[4..]) << 32) | U32(body[8..]);
        uint captured = U32(body[12..]);
        uint original = U32(body[16..]);
        return PacketWithOptions(body, offset, "packet block", ifId, ts, captured, original, 20);
    }

    private PcapRecord PacketWithOptions(Span<byte> body, long offset, string what, uint ifId, ulong ts, uint captured, uint original, int dataStart)
    {
        if (ifId >= (uint)_interfaces.Count)
        {
            throw Bad(offset, $"corrupt {what}: interface {ifId} is not described ({_interfaces.Count} interface description block(s) in this section)");
        }

        long padded = (captured + 3L) & ~3L;
        if (dataStart + padded > body.Length)
        {
            throw Bad(offset, $"corrupt {what}: captured length {captured} overruns the block ({body.Length - dataStart} bytes of data)");
        }

        var itf = _interfaces[(int)ifId];
        var options = body[(dataStart + (int)padded)..];
        uint? flags = null;
        int commentStart = 0, commentLength = 0;
        while (NextOption(ref options, offset, what, out ushort code, out var value))
        {
            if (code == 1 && commentLength == 0)
            {
                // the option's position in _buf: value is a slice of body, which starts at _buf[0]
                commentStart = body.Length - options.Length - ((value.Length + 3) & ~3);
                commentLength = value.Length;
            }
            else if (code == 2 && value.Length >= 4 && flags is null)
            {
                flags = U32(value);
            }
        }

        long ns = ToNanoseconds(ts, itf.TsResolutionCode, itf.TsOffsetSeconds);
        return new PcapRecord(_index, ns, original, _buf.AsMemory(dataStart, (int)captured), (int)ifId, itf.LinkType, offset, flags,
            _buf.AsMemory(commentStart, commentLength));
    }

    private PcapRecord ParseSpb(int bodyLength, long offset)
    {
        // body: original length u32, data (padded); no timestamp, always interface 0
        if (bodyLength < 4)
        {
            throw Bad(offset, "corrupt simple packet block: too short");
        }

        if (_interfaces.Count == 0)
        {
            throw Bad(offset, "corrupt simple packet block: no interface is described in this section");
        }

        var itf = _interfaces[0];
        uint original = U32(_buf.AsSpan(0, 4));
        // The captured length is what the block holds, cut to the original length and the snaplen.
        long captured = Math.Min(bodyLength - 4, (long)original);
        if (itf.SnapLength != 0)
        {
            captured = Math.Min(captured, itf.SnapLength);
        }

        return new PcapRecord(_index, 0, original, _buf.AsMemory(4, (int)captured), 0, itf.LinkType, offset, null, default);
    }

    /// <summary>Takes the next option off <paramref name="options"/>: false at opt_endofopt or when none remain.</summary>
    private bool NextOption(ref Span<byte> options, long offset, string what, out ushort code, out Span<byte> value)
    {
        value = default;
        code = 0;
        if (options.Length < 4)
        {
            return false;
        }

        code = U16(options);
        int length = U16(options[2..]);
        if (code == 0)
        {
            return false;
        }

        int padded = (length + 3) & ~3;
        if (4 + padded > options.Length)
        {
            throw Bad(offset, $"corrupt {what}: option {code} of length {length} overruns the block");
        }

        value = options.Slice(4, length);
        options = options[(4 + padded)..];
        return true;
    }

    /// <summary>A pcapng timestamp in <paramref name="resolution"/> units (if_tsresol: bit 7 clear = 10^-n s, set =
    /// 2^-n s) plus <paramref name="offsetSeconds"/> (if_tsoffset), in nanoseconds.</summary>
    internal static long ToNanoseconds(ulong units, byte resolution, long offsetSeconds)
    {
        int n = resolution & 0x7f;
        UInt128 ns;
        if ((resolution & 0x80) != 0)
        {
            ns = n >= 127 ? 0 : ((UInt128)units * 1_000_000_000UL) >> n;
        }
        else if (n <= 9)
        {
            ns = (UInt128)units * Pow10(9 - n);
        }
        else
        {
            ns = n - 9 > 19 ? 0 : (UInt128)(units / Pow10(n - 9));
        }

        return unchecked((long)(ulong)ns + (offsetSeconds * 1_000_000_000L));
    }

    private static ulong Pow10(int n)
    {
        ulong p = 1;
        for (int i = 0; i < n; i++)
        {
            p *= 10;
        }

        return p;
    }

    private static string BlockName(uint type) => type switch
    {
        BlockShb => "section header block",
        BlockIdb => "interface description block",
        BlockOpb => "packet block",
        BlockSpb => "simple packet block",
        4 => "name resolution block",
        5 => "interface statistics block",
        BlockEpb => "enhanced packet block",
        _ => "block of type 0x" + type.ToString("x", CultureInfo.InvariantCulture),
    };

    // ---- bytes ----

    private int Fill(Span<byte> destination)
    {
        int got = _stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        _position += got;
        return got;
    }

    private void EnsureBuffer(int length)
    {
        if (_buf.Length < length)
        {
            _buf = new byte[Math.Max(length, Math.Min(_buf.Length * 2, MaxBlockLength))];
        }
    }

    private PcapFormatException Bad(long offset, string reason) => new(FileName, _inFileHeader ? -1 : _index, offset, reason);

    private ushort U16(ReadOnlySpan<byte> b) => _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);

    private uint U32(ReadOnlySpan<byte> b) => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);

    private ulong U64(ReadOnlySpan<byte> b) => _bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b);
}
