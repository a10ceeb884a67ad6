using System.Buffers.Binary;
using System.Text;

namespace VethXdp.Vm.Tests.Btf;

/// <summary>Writes raw .BTF bytes type by type, for tests of every kind and of malformed data.</summary>
internal sealed class BtfBuilder
{
    private readonly List<byte> _types = [];
    private readonly List<byte> _strings = [0];
    private readonly Dictionary<string, uint> _offsets = new(StringComparer.Ordinal) { [string.Empty] = 0 };

    public uint Count { get; private set; }

    public uint Str(string s)
    {
        if (!_offsets.TryGetValue(s, out uint off))
        {
            off = (uint)_strings.Count;
            _strings.AddRange(Encoding.UTF8.GetBytes(s));
            _strings.Add(0);
            _offsets.Add(s, off);
        }

        return off;
    }

    /// <summary>Adds a type: name, kind, vlen, kind_flag, size_or_type, then the extra words. Returns its id.</summary>
    public uint Type(string name, int kind, int vlen, bool kflag, uint sizeOrType, params uint[] extra)
    {
        Word(Str(name));
        Word((uint)vlen | ((uint)kind << 24) | (kflag ? 1u << 31 : 0));
        Word(sizeOrType);
        foreach (var w in extra)
        {
            Word(w);
        }

        return ++Count;
    }

    public uint Int(string name, uint size, uint encoding, uint bits) => Type(name, 1, 0, false, size, (encoding << 24) | bits);

    private void Word(uint w)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, w);
        _types.AddRange(b.ToArray());
    }

    public byte[] Build(ushort magic = 0xeB9F, byte version = 1)
    {
        var bytes = new byte[24 + _types.Count + _strings.Count];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, magic);
        bytes[2] = version;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 24);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), (uint)_types.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), (uint)_types.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), (uint)_strings.Count);
        _types.CopyTo(bytes, 24);
        _strings.CopyTo(bytes, 24 + _types.Count);
        return bytes;
    }
}
