using System.Buffers.Binary;

namespace VethXdp.Vm.Pcap;

/// <summary>Writes a classic pcap file (version 2.4) in either byte order and either timestamp resolution.</summary>
public sealed class PcapWriter : IDisposable
{
    /// <summary>The default snaplen, as tcpdump's.</summary>
    public const uint DefaultSnapLength = 262144;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly bool _bigEndian;
    private readonly bool _nano;
    private readonly uint _snapLength;
    private bool _disposed;

    /// <summary>Starts a pcap file on <paramref name="stream"/> by writing its header.</summary>
    /// <param name="stream">Where to write.</param>
    /// <param name="linkType">The link type (<see cref="LinkTypes"/>).</param>
    /// <param name="resolution">Microsecond (magic 0xa1b2c3d4) or nanosecond (0xa1b23c4d) timestamps.</param>
    /// <param name="snapLength">The snaplen; longer packets are cut to it (0: no limit, written as 262144).</param>
    /// <param name="bigEndian">True to write a big-endian file.</param>
    /// <param name="leaveOpen">True to leave <paramref name="stream"/> open on <see cref="Dispose"/>.</param>
    public PcapWriter(Stream stream, uint linkType = LinkTypes.Ethernet, PcapTimestampResolution resolution = PcapTimestampResolution.Microseconds,
        uint snapLength = DefaultSnapLength, bool bigEndian = false, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _bigEndian = bigEndian;
        _nano = resolution == PcapTimestampResolution.Nanoseconds;
        _snapLength = snapLength == 0 ? DefaultSnapLength : snapLength;
        Span<byte> h = stackalloc byte[24];
        W32(h, 0, _nano ? 0xa1b23c4du : 0xa1b2c3d4u);
        W16(h, 4, 2);
        W16(h, 6, 4);
        W32(h, 8, 0);           // thiszone
        W32(h, 12, 0);          // sigfigs
        W32(h, 16, _snapLength);
        W32(h, 20, linkType);
        _stream.Write(h);
    }

    /// <summary>The number of records written.</summary>
    public long PacketsWritten { get; private set; }

    /// <summary>Creates (or truncates) the file at <paramref name="path"/> and starts a pcap file in it.</summary>
    public static PcapWriter Create(string path, uint linkType = LinkTypes.Ethernet,
        PcapTimestampResolution resolution = PcapTimestampResolution.Microseconds)
    {
        ArgumentNullException.ThrowIfNull(path);
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        return new PcapWriter(stream, linkType, resolution);
    }

    /// <summary>Writes one record; the data is cut to the snaplen.</summary>
    /// <param name="timestampNs">Nanoseconds since the Unix epoch (not negative; microsecond files round down).</param>
    /// <param name="data">The packet.</param>
    /// <param name="originalLength">The length on the wire, or -1 for the data's length.</param>
    public void WritePacket(long timestampNs, ReadOnlySpan<byte> data, long originalLength = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(timestampNs);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(originalLength, uint.MaxValue);
        int captured = (int)Math.Min((uint)data.Length, _snapLength);
        long seconds = timestampNs / 1_000_000_000;
        long fraction = timestampNs % 1_000_000_000;
        Span<byte> h = stackalloc byte[16];
        W32(h, 0, (uint)seconds);
        W32(h, 4, (uint)(_nano ? fraction : fraction / 1000));
        W32(h, 8, (uint)captured);
        W32(h, 12, originalLength < 0 ? (uint)data.Length : (uint)originalLength);
        _stream.Write(h);
        _stream.Write(data[..captured]);
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

    private void W16(Span<byte> b, int at, ushort v)
    {
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b[at..], v);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b[at..], v);
        }
    }

    private void W32(Span<byte> b, int at, uint v)
    {
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b[at..], v);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b[at..], v);
        }
    }
}
