using System.Buffers.Binary;
using System.Text;

namespace VethXdp.Vm.Tests.Pcap;

/// <summary>Builds pcapng files byte by byte, in either byte order, for the reader's edge cases. Independent of
/// PcapNgWriter on purpose: the two must agree only through the format.</summary>
internal sealed class PcapNgBytes
{
    private readonly List<byte> _bytes = [];
    private bool _bigEndian;

    public int Length => _bytes.Count;

    public static (ushort Code, byte[] Value) Opt(ushort code, string text) => (code, Encoding.UTF8.GetBytes(text));

    public static (ushort Code, byte[] Value) Opt(ushort code, params byte[] value) => (code, value);

    public PcapNgBytes Shb(bool bigEndian = false, ushort major = 1, ushort minor = 0, params (ushort Code, byte[] Value)[] options)
    {
        _bigEndian = bigEndian;
        var body = new List<byte>();
        Put32(body, 0x1a2b3c4d);
        Put16(body, major);
        Put16(body, minor);
        Put32(body, 0xffffffff);
        Put32(body, 0xffffffff);
        PutOptions(body, options);
        return Block(0x0a0d0d0a, body);
    }

    public PcapNgBytes Idb(ushort linkType = 1, uint snapLength = 0, params (ushort Code, byte[] Value)[] options)
    {
        var body = new List<byte>();
        Put16(body, linkType);
        Put16(body, 0);
        Put32(body, snapLength);
        PutOptions(body, options);
        return Block(1, body);
    }

    public PcapNgBytes Epb(uint interfaceId, ulong timestamp, byte[] data, uint? originalLength = null, params (ushort Code, byte[] Value)[] options)
    {
        var body = new List<byte>();
        Put32(body, interfaceId);
        Put32(body, (uint)(timestamp >> 32));
        Put32(body, (uint)timestamp);
        Put32(body, (uint)data.Length);
        Put32(body, originalLength ?? (uint)data.Length);
        PutPadded(body, data);
        PutOptions(body, options);
        return Block(6, body);
    }

    public PcapNgBytes Opb(ushort interfaceId, ulong timestamp, byte[] data, params (ushort Code, byte[] Value)[] options)
    {
        var body = new List<byte>();
        Put16(body, interfaceId);
        Put16(body, 0);
        Put32(body, (uint)(timestamp >> 32));
        Put32(body, (uint)timestamp);
        Put32(body, (uint)data.Length);
        Put32(body, (uint)data.Length);
        PutPadded(body, data);
        PutOptions(body, options);
        return Block(2, body);
    }

    public PcapNgBytes Spb(uint originalLength, byte[] data)
    {
        var body = new List<byte>();
        Put32(body, originalLength);
        PutPadded(body, data);
        return Block(3, body);
    }

    /// <summary>Any block, with a body given in full (already padded by the caller if it wants).</summary>
    public PcapNgBytes Raw(uint type, byte[] body) => Block(type, [.. body]);

    public byte[] ToArray() => [.. _bytes];

    private PcapNgBytes Block(uint type, List<byte> body)
    {
        uint total = (uint)(body.Count + 12);
        if (type == 0x0a0d0d0a)
        {
            // The block type is the same in both byte orders.
            _bytes.AddRange([0x0a, 0x0d, 0x0d, 0x0a]);
        }
        else
        {
            Put32(_bytes, type);
        }

        Put32(_bytes, total);
        _bytes.AddRange(body);
        Put32(_bytes, total);
        return this;
    }

    private void PutOptions(List<byte> body, (ushort Code, byte[] Value)[] options)
    {
        if (options.Length == 0)
        {
            return;
        }

        foreach (var (code, value) in options)
        {
            Put16(body, code);
            Put16(body, (ushort)value.Length);
            PutPadded(body, value);
        }

        Put32(body, 0);
    }

    private static void PutPadded(List<byte> body, byte[] data)
    {
        body.AddRange(data);
        while (body.Count % 4 != 0)
        {
            body.Add(0);
        }
    }

    private void Put16(List<byte> to, ushort v)
    {
        var b = new byte[2];
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        }

        to.AddRange(b);
    }

    private void Put32(List<byte> to, uint v)
    {
        var b = new byte[4];
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        }

        to.AddRange(b);
    }

    public byte[] U64(ulong v)
    {
        var b = new byte[8];
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt64BigEndian(b, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        }

        return b;
    }

    public byte[] U32(uint v)
    {
        var b = new byte[4];
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        }

        return b;
    }
}
