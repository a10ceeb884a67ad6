using System.Buffers.Binary;

namespace VethXdp.Vm.Btf;

/// <summary>CO-RE relocation kinds, with libbpf's values (enum bpf_core_relo_kind).</summary>
public enum BtfCoreReloKind : uint
{
    /// <summary>BPF_CORE_FIELD_BYTE_OFFSET: field byte offset.</summary>
    FieldByteOffset = 0,
    /// <summary>BPF_CORE_FIELD_BYTE_SIZE: field size in bytes.</summary>
    FieldByteSize = 1,
    /// <summary>BPF_CORE_FIELD_EXISTS: 1 when the field exists in the target.</summary>
    FieldExists = 2,
    /// <summary>BPF_CORE_FIELD_SIGNED: 1 when the field is signed.</summary>
    FieldSigned = 3,
    /// <summary>BPF_CORE_FIELD_LSHIFT_U64: left shift of a bitfield read.</summary>
    FieldLShiftU64 = 4,
    /// <summary>BPF_CORE_FIELD_RSHIFT_U64: right shift of a bitfield read.</summary>
    FieldRShiftU64 = 5,
    /// <summary>BPF_CORE_TYPE_ID_LOCAL: the type's id in the object.</summary>
    TypeIdLocal = 6,
    /// <summary>BPF_CORE_TYPE_ID_TARGET: the type's id in the target.</summary>
    TypeIdTarget = 7,
    /// <summary>BPF_CORE_TYPE_EXISTS: 1 when the type exists in the target.</summary>
    TypeExists = 8,
    /// <summary>BPF_CORE_TYPE_SIZE: the type's size in the target.</summary>
    TypeSize = 9,
    /// <summary>BPF_CORE_ENUMVAL_EXISTS: 1 when the enumerator exists in the target.</summary>
    EnumValueExists = 10,
    /// <summary>BPF_CORE_ENUMVAL_VALUE: the enumerator's value in the target.</summary>
    EnumValue = 11,
    /// <summary>BPF_CORE_TYPE_MATCHES: 1 when the type matches the target's.</summary>
    TypeMatches = 12,
}

/// <summary>A bpf_func_info record: a function starting at an instruction.</summary>
/// <param name="Slot">The first slot, relative to the ELF section start.</param>
/// <param name="TypeId">The BTF FUNC.</param>
public readonly record struct BtfFuncInfo(int Slot, uint TypeId);

/// <summary>A bpf_line_info record with its strings resolved.</summary>
/// <param name="Slot">The slot, relative to the ELF section start.</param>
/// <param name="FileName">The source file name.</param>
/// <param name="LineText">The source text of the line.</param>
/// <param name="Line">The 1-based line number.</param>
/// <param name="Column">The 1-based column (0 when unknown).</param>
public sealed record BtfLineInfo(int Slot, string FileName, string LineText, int Line, int Column);

/// <summary>A bpf_core_relo record.</summary>
/// <param name="Slot">The instruction, relative to the ELF section start.</param>
/// <param name="TypeId">The root type in the object's BTF.</param>
/// <param name="Access">The access string (<c>0:1:2</c>).</param>
/// <param name="Kind">What the instruction needs.</param>
public sealed record BtfCoreRelo(int Slot, uint TypeId, string Access, BtfCoreReloKind Kind);

/// <summary>A parsed <c>.BTF.ext</c> section: func_info, line_info and CO-RE relocations, by ELF section name.</summary>
/// <remarks>
/// Layout: a header <c>{u16 magic 0xeB9F, u8 version 1, u8 flags, u32 hdr_len, u32 func_info_off,
/// u32 func_info_len, u32 line_info_off, u32 line_info_len[, u32 core_relo_off, u32 core_relo_len]}</c>; each
/// part is <c>u32 rec_size</c> then, per section, <c>{u32 sec_name_off, u32 num_info, rec_size * num_info}</c>.
/// In an object file instruction offsets are byte offsets in the section; here they are slots.
/// </remarks>
public sealed class BtfExt
{
    private const int MinHeaderSize = 24;
    private const int CoreHeaderSize = 32;

    private BtfExt(
        Dictionary<string, IReadOnlyList<BtfFuncInfo>> funcs,
        Dictionary<string, IReadOnlyList<BtfLineInfo>> lines,
        Dictionary<string, IReadOnlyList<BtfCoreRelo>> relos)
    {
        FuncInfos = funcs;
        LineInfos = lines;
        CoreRelos = relos;
    }

    /// <summary>func_info records by ELF section name, in file order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<BtfFuncInfo>> FuncInfos { get; }

    /// <summary>line_info records by ELF section name, in file order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<BtfLineInfo>> LineInfos { get; }

    /// <summary>CO-RE relocations by ELF section name, in file order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<BtfCoreRelo>> CoreRelos { get; }

    /// <summary>Parses a .BTF.ext section; names and strings come from <paramref name="btf"/>'s string table.</summary>
    /// <exception cref="BtfFormatException">The data is malformed.</exception>
    public static BtfExt Parse(ReadOnlySpan<byte> data, BtfSpec btf)
    {
        ArgumentNullException.ThrowIfNull(btf);
        if (data.Length < MinHeaderSize)
        {
            throw new BtfFormatException(0, $"truncated BTF.ext header: {data.Length} of {MinHeaderSize} bytes");
        }

        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(data);
        if (magic != BtfSpec.Magic)
        {
            throw new BtfFormatException(0, $"bad BTF.ext magic 0x{magic:x4} (expected 0x{BtfSpec.Magic:x4})");
        }

        if (data[2] != 1)
        {
            throw new BtfFormatException(2, $"unsupported BTF.ext version {data[2]}");
        }

        uint hdrLen = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        if (hdrLen < MinHeaderSize || hdrLen > (uint)data.Length)
        {
            throw new BtfFormatException(4, $"BTF.ext header length {hdrLen} is not within {MinHeaderSize}..{data.Length}");
        }

        var body = data[(int)hdrLen..];
        var funcs = new Dictionary<string, IReadOnlyList<BtfFuncInfo>>(StringComparer.Ordinal);
        var lines = new Dictionary<string, IReadOnlyList<BtfLineInfo>>(StringComparer.Ordinal);
        var relos = new Dictionary<string, IReadOnlyList<BtfCoreRelo>>(StringComparer.Ordinal);

        ReadPart(body, hdrLen, Part(data, 8), "func_info", 8, btf, (sec, rec, at) =>
        {
            Add(funcs, sec, new BtfFuncInfo(Slot(rec, at, "func_info"), BinaryPrimitives.ReadUInt32LittleEndian(rec[4..])));
        });
        ReadPart(body, hdrLen, Part(data, 16), "line_info", 16, btf, (sec, rec, at) =>
        {
            uint file = BinaryPrimitives.ReadUInt32LittleEndian(rec[4..]);
            uint line = BinaryPrimitives.ReadUInt32LittleEndian(rec[8..]);
            uint col = BinaryPrimitives.ReadUInt32LittleEndian(rec[12..]);
            Add(lines, sec, new BtfLineInfo(
                Slot(rec, at, "line_info"),
                Str(btf, file, at, "line_info file name"),
                Str(btf, line, at, "line_info line text"),
                (int)(col >> 10),
                (int)(col & 0x3ff)));
        });
        if (hdrLen >= CoreHeaderSize)
        {
            ReadPart(body, hdrLen, Part(data, 24), "core_relo", 16, btf, (sec, rec, at) =>
            {
                uint type = BinaryPrimitives.ReadUInt32LittleEndian(rec[4..]);
                uint access = BinaryPrimitives.ReadUInt32LittleEndian(rec[8..]);
                uint kind = BinaryPrimitives.ReadUInt32LittleEndian(rec[12..]);
                if (kind > (uint)BtfCoreReloKind.TypeMatches)
                {
                    throw new BtfFormatException(at, $"core_relo: unknown relocation kind {kind}");
                }

                if (btf.TryGet(type) is null)
                {
                    throw new BtfFormatException(at, $"core_relo: type [{type}] does not exist");
                }

                Add(relos, sec, new BtfCoreRelo(Slot(rec, at, "core_relo"), type, Str(btf, access, at, "core_relo access string"), (BtfCoreReloKind)kind));
            });
        }

        return new BtfExt(funcs, lines, relos);
    }

    private static (uint Off, uint Len) Part(ReadOnlySpan<byte> data, int at) =>
        (BinaryPrimitives.ReadUInt32LittleEndian(data[at..]), BinaryPrimitives.ReadUInt32LittleEndian(data[(at + 4)..]));

    private delegate void RecordReader(string section, ReadOnlySpan<byte> record, long offset);

    private static void ReadPart(ReadOnlySpan<byte> body, uint hdrLen, (uint Off, uint Len) part, string what, int minRecord, BtfSpec btf, RecordReader read)
    {
        if (part.Len == 0)
        {
            return;
        }

        if ((ulong)part.Off + part.Len > (ulong)body.Length)
        {
            throw new BtfFormatException(hdrLen + part.Off, $"{what} ({part.Len} bytes at {part.Off}) extends past the end of the BTF.ext data");
        }

        var s = body.Slice((int)part.Off, (int)part.Len);
        long baseAt = hdrLen + part.Off;
        if (s.Length < 4)
        {
            throw new BtfFormatException(baseAt, $"{what}: truncated record size");
        }

        uint recSize = BinaryPrimitives.ReadUInt32LittleEndian(s);
        if (recSize < minRecord || recSize > 0xffff || recSize % 4 != 0)
        {
            throw new BtfFormatException(baseAt, $"{what}: invalid record size {recSize}");
        }

        int pos = 4;
        while (pos < s.Length)
        {
            if (s.Length - pos < 8)
            {
                throw new BtfFormatException(baseAt + pos, $"{what}: truncated section header");
            }

            uint nameOff = BinaryPrimitives.ReadUInt32LittleEndian(s[pos..]);
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(s[(pos + 4)..]);
            string section = Str(btf, nameOff, baseAt + pos, what + " section name");
            pos += 8;
            if (count == 0)
            {
                throw new BtfFormatException(baseAt + pos - 8, $"{what}: section \"{section}\" has no records");
            }

            if ((ulong)count * recSize > (ulong)(s.Length - pos))
            {
                throw new BtfFormatException(baseAt + pos, $"{what}: section \"{section}\": {count} records of {recSize} bytes run past the end of the part");
            }

            for (uint i = 0; i < count; i++)
            {
                read(section, s.Slice(pos, (int)recSize), baseAt + pos);
                pos += (int)recSize;
            }
        }
    }

    private static int Slot(ReadOnlySpan<byte> rec, long at, string what)
    {
        uint off = BinaryPrimitives.ReadUInt32LittleEndian(rec);
        if (off % 8 != 0 || off / 8 > int.MaxValue)
        {
            throw new BtfFormatException(at, $"{what}: instruction offset {off} is not on a slot boundary");
        }

        return (int)(off / 8);
    }

    private static string Str(BtfSpec btf, uint offset, long at, string what) =>
        btf.GetString(offset) ?? throw new BtfFormatException(at, $"{what} offset 0x{offset:x} is outside the BTF string table");

    private static void Add<T>(Dictionary<string, IReadOnlyList<T>> map, string section, T item)
    {
        if (!map.TryGetValue(section, out var list))
        {
            list = new List<T>();
            map.Add(section, list);
        }

        ((List<T>)list).Add(item);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"BTF.ext ({FuncInfos.Values.Sum(l => l.Count)} func_info, {LineInfos.Values.Sum(l => l.Count)} line_info, {CoreRelos.Values.Sum(l => l.Count)} core_relo)";
}
