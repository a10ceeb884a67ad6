using System.Buffers.Binary;
using System.Text;

namespace VethXdp.Vm.Btf;

/// <summary>A parsed <c>.BTF</c> section: the type graph and the string table.</summary>
/// <remarks>
/// <para>Layout (include/uapi/linux/btf.h): a header <c>{u16 magic 0xeB9F, u8 version 1, u8 flags, u32 hdr_len,
/// u32 type_off, u32 type_len, u32 str_off, u32 str_len}</c>, then the type section (offsets relative to the end
/// of the header) and the string table. Each type is <c>{u32 name_off, u32 info, u32 size_or_type}</c> followed
/// by what its kind adds. Type ids count from 1 in section order; id 0 is void.</para>
/// <para>Parsing checks what the loader relies on (every type whole, every name inside the string table, every
/// referenced id defined, FUNC pointing at a FUNC_PROTO); cycles are tolerated and cut off by the resolve
/// helpers at 32 steps, as libbpf's MAX_RESOLVE_DEPTH does.</para>
/// </remarks>
public sealed class BtfSpec
{
    /// <summary>BTF_MAGIC.</summary>
    public const ushort Magic = 0xeB9F;

    /// <summary>libbpf's MAX_RESOLVE_DEPTH: the longest chain of modifiers, typedefs and arrays followed.</summary>
    public const int MaxResolveDepth = 32;

    private const int HeaderSize = 24;
    private const int TypeHeaderSize = 12;

    private readonly BtfType[] _types;
    private readonly byte[] _strings;
    private Dictionary<string, List<uint>>? _byName;

    private BtfSpec(BtfType[] types, byte[] strings)
    {
        _types = types;
        _strings = strings;
    }

    /// <summary>Every type by id; index 0 is <see cref="BtfVoid"/>.</summary>
    public IReadOnlyList<BtfType> Types => _types;

    /// <summary>The number of ids, void included.</summary>
    public int Count => _types.Length;

    /// <summary>The type with this id.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such id.</exception>
    public BtfType this[uint id] => id < (uint)_types.Length
        ? _types[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"no BTF type [{id}] (the object has {_types.Length - 1})");

    /// <summary>The type with this id, or null.</summary>
    public BtfType? TryGet(uint id) => id < (uint)_types.Length ? _types[id] : null;

    /// <summary>The string at <paramref name="offset"/> in the string table (what line_info and CO-RE
    /// access strings point at), or null when the offset is outside it.</summary>
    public string? GetString(uint offset) => ReadString(_strings, offset);

    /// <summary>Parses a .BTF section.</summary>
    /// <exception cref="BtfFormatException">The data is not well-formed little-endian BTF.</exception>
    public static BtfSpec Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderSize)
        {
            throw new BtfFormatException(0, $"truncated BTF header: {data.Length} of {HeaderSize} bytes");
        }

        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(data);
        if (magic == 0x9FeB)
        {
            throw new BtfFormatException(0, "big-endian BTF is not supported");
        }

        if (magic != Magic)
        {
            throw new BtfFormatException(0, $"bad BTF magic 0x{magic:x4} (expected 0x{Magic:x4})");
        }

        if (data[2] != 1)
        {
            throw new BtfFormatException(2, $"unsupported BTF version {data[2]}");
        }

        uint hdrLen = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        uint typeOff = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        uint typeLen = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
        uint strOff = BinaryPrimitives.ReadUInt32LittleEndian(data[16..]);
        uint strLen = BinaryPrimitives.ReadUInt32LittleEndian(data[20..]);
        if (hdrLen < HeaderSize || hdrLen > (uint)data.Length)
        {
            throw new BtfFormatException(4, $"BTF header length {hdrLen} is not within 24..{data.Length}");
        }

        var body = data[(int)hdrLen..];
        if ((ulong)typeOff + typeLen > (ulong)body.Length)
        {
            throw new BtfFormatException(8, $"type section ({typeLen} bytes at {typeOff}) extends past the end of the BTF data ({body.Length} bytes after the header)");
        }

        if ((ulong)strOff + strLen > (ulong)body.Length)
        {
            throw new BtfFormatException(16, $"string section ({strLen} bytes at {strOff}) extends past the end of the BTF data ({body.Length} bytes after the header)");
        }

        if (typeOff % 4 != 0 || typeLen % 4 != 0)
        {
            throw new BtfFormatException(8, $"type section at {typeOff} of {typeLen} bytes is not 4-byte aligned");
        }

        var strings = body.Slice((int)strOff, (int)strLen);
        if (strings.Length == 0 || strings[0] != 0 || strings[^1] != 0)
        {
            throw new BtfFormatException(hdrLen + strOff, "invalid string section: it must start and end with a NUL byte");
        }

        var stringCopy = strings.ToArray();
        var types = new List<BtfType> { BtfVoid.Instance };
        var section = body.Slice((int)typeOff, (int)typeLen);
        int pos = 0;
        long baseOffset = hdrLen + typeOff;
        while (pos < section.Length)
        {
            uint id = (uint)types.Count;
            types.Add(ReadType(section, ref pos, id, stringCopy, baseOffset));
        }

        var spec = new BtfSpec([.. types], stringCopy);
        spec.CheckReferences(baseOffset);
        return spec;
    }

    private static BtfType ReadType(ReadOnlySpan<byte> section, ref int pos, uint id, byte[] strings, long baseOffset)
    {
        long at = baseOffset + pos;
        if (section.Length - pos < TypeHeaderSize)
        {
            throw new BtfFormatException(at, $"type [{id}] is truncated");
        }

        uint nameOff = BinaryPrimitives.ReadUInt32LittleEndian(section[pos..]);
        uint info = BinaryPrimitives.ReadUInt32LittleEndian(section[(pos + 4)..]);
        uint sizeOrType = BinaryPrimitives.ReadUInt32LittleEndian(section[(pos + 8)..]);
        pos += TypeHeaderSize;
        int vlen = (int)(info & 0xffff);
        var kind = (BtfKind)((info >> 24) & 0x1f);
        bool kflag = (info >> 31) != 0;
        string name = ReadString(strings, nameOff)
            ?? throw new BtfFormatException(at, $"type [{id}]: name offset 0x{nameOff:x} is outside the string table ({strings.Length} bytes)");

        int extra = kind switch
        {
            BtfKind.Int or BtfKind.Var or BtfKind.DeclTag => 4,
            BtfKind.Array => 12,
            BtfKind.Struct or BtfKind.Union or BtfKind.Datasec => vlen * 12,
            BtfKind.Enum or BtfKind.FuncProto => vlen * 8,
            BtfKind.Enum64 => vlen * 12,
            BtfKind.Ptr or BtfKind.Fwd or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict
                or BtfKind.Func or BtfKind.Float or BtfKind.TypeTag => 0,
            _ => throw new BtfFormatException(at, $"type [{id}]: unknown kind {(int)kind}"),
        };
        if (section.Length - pos < extra)
        {
            throw new BtfFormatException(at, $"type [{id}] ({BtfType.KindName(kind)}, vlen {vlen}) runs past the end of the type section");
        }

        var x = section.Slice(pos, extra);
        pos += extra;
        string Str(uint off, string what) => ReadString(strings, off)
            ?? throw new BtfFormatException(at, $"type [{id}]: {what} name offset 0x{off:x} is outside the string table");
        static uint Word(ReadOnlySpan<byte> x, int i) => BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 4)..]);

        switch (kind)
        {
            case BtfKind.Int:
            {
                uint v = Word(x, 0);
                if (sizeOrType is not (1 or 2 or 4 or 8 or 16))
                {
                    throw new BtfFormatException(at, $"type [{id}] INT '{name}': invalid size {sizeOrType}");
                }

                return new BtfInt(id, name, sizeOrType, (BtfIntEncoding)((v >> 24) & 0x0f), (byte)((v >> 16) & 0xff), (byte)(v & 0xff));
            }

            case BtfKind.Ptr:
                return new BtfPtr(id, sizeOrType);
            case BtfKind.Typedef:
                return new BtfTypedef(id, name, sizeOrType);
            case BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.TypeTag:
                return new BtfQualifier(id, kind, name, sizeOrType);
            case BtfKind.Array:
                return new BtfArray(id, Word(x, 0), Word(x, 1), Word(x, 2));
            case BtfKind.Struct or BtfKind.Union:
            {
                var members = new BtfMember[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    uint off = Word(x, (i * 3) + 2);
                    members[i] = kflag
                        ? new BtfMember(Str(Word(x, i * 3), "member"), Word(x, (i * 3) + 1), off & 0xffffff, off >> 24)
                        : new BtfMember(Str(Word(x, i * 3), "member"), Word(x, (i * 3) + 1), off, 0);
                }

                return new BtfComposite(id, name, kind == BtfKind.Union, sizeOrType, members);
            }

            case BtfKind.Enum:
            {
                var values = new BtfEnumValue[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    values[i] = new BtfEnumValue(Str(Word(x, i * 2), "enumerator"), (int)Word(x, (i * 2) + 1));
                }

                return new BtfEnum(id, name, false, sizeOrType, kflag, values);
            }

            case BtfKind.Enum64:
            {
                var values = new BtfEnumValue[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    values[i] = new BtfEnumValue(Str(Word(x, i * 3), "enumerator"), (long)(Word(x, (i * 3) + 1) | ((ulong)Word(x, (i * 3) + 2) << 32)));
                }

                return new BtfEnum(id, name, true, sizeOrType, kflag, values);
            }

            case BtfKind.Fwd:
                return new BtfFwd(id, name, kflag);
            case BtfKind.Func:
                return new BtfFunc(id, name, sizeOrType, (BtfFuncLinkage)vlen);
            case BtfKind.FuncProto:
            {
                var ps = new BtfParam[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    ps[i] = new BtfParam(Str(Word(x, i * 2), "parameter"), Word(x, (i * 2) + 1));
                }

                return new BtfFuncProto(id, sizeOrType, ps);
            }

            case BtfKind.Var:
                return new BtfVar(id, name, sizeOrType, (BtfVarLinkage)Word(x, 0));
            case BtfKind.Datasec:
            {
                var vars = new BtfVarSecinfo[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    vars[i] = new BtfVarSecinfo(Word(x, i * 3), Word(x, (i * 3) + 1), Word(x, (i * 3) + 2));
                }

                return new BtfDatasec(id, name, sizeOrType, vars);
            }

            case BtfKind.Float:
                return new BtfFloat(id, name, sizeOrType);
            default: // DeclTag
                return new BtfDeclTag(id, name, sizeOrType, (int)Word(x, 0));
        }
    }

    private void CheckReferences(long baseOffset)
    {
        for (uint id = 1; id < (uint)_types.Length; id++)
        {
            var t = _types[id];
            switch (t)
            {
                case BtfFunc f:
                    Ref(id, f.TypeId);
                    if (_types[f.TypeId] is not BtfFuncProto)
                    {
                        throw new BtfFormatException(baseOffset, $"type [{id}] FUNC '{f.Name}' refers to [{f.TypeId}], which is not a FUNC_PROTO");
                    }

                    break;
                case BtfRefType r:
                    Ref(id, r.TypeId);
                    break;
                case BtfArray a:
                    Ref(id, a.ElementTypeId);
                    Ref(id, a.IndexTypeId);
                    break;
                case BtfComposite c:
                    foreach (var m in c.Members)
                    {
                        Ref(id, m.TypeId);
                    }

                    break;
                case BtfFuncProto p:
                    Ref(id, p.ReturnTypeId);
                    foreach (var prm in p.Parameters)
                    {
                        Ref(id, prm.TypeId);
                    }

                    break;
                case BtfDatasec d:
                    foreach (var v in d.Vars)
                    {
                        Ref(id, v.TypeId);
                    }

                    break;
            }
        }

        void Ref(uint from, uint to)
        {
            if (to >= (uint)_types.Length)
            {
                throw new BtfFormatException(baseOffset, $"type [{from}] {BtfType.KindName(_types[from].Kind)} refers to unknown type [{to}] (the object has {_types.Length - 1} types)");
            }
        }
    }

    /// <summary>Skips typedefs and modifiers (const, volatile, restrict, type tags) from <paramref name="id"/>,
    /// as libbpf's skip_mods_and_typedefs; null when the chain is longer than <see cref="MaxResolveDepth"/>.</summary>
    /// <param name="id">The start.</param>
    /// <param name="resolvedId">The id of the type returned.</param>
    public BtfType? SkipModsAndTypedefs(uint id, out uint resolvedId)
    {
        resolvedId = id;
        for (int depth = 0; depth <= MaxResolveDepth; depth++)
        {
            var t = TryGet(resolvedId);
            if (t is null)
            {
                return null;
            }

            if (t is not (BtfTypedef or BtfQualifier))
            {
                return t;
            }

            resolvedId = ((BtfRefType)t).TypeId;
        }

        return null;
    }

    /// <summary>The size in bytes of a type, as libbpf's btf__resolve_size: -1 for void, functions, forward
    /// declarations, too long chains and sizes beyond 32 bits.</summary>
    public long ResolveSize(uint id)
    {
        ulong elements = 1;
        for (int depth = 0; depth < MaxResolveDepth; depth++)
        {
            var t = TryGet(id);
            ulong size;
            switch (t)
            {
                case BtfInt i: size = i.Size; break;
                case BtfComposite c: size = c.Size; break;
                case BtfEnum e: size = e.Size; break;
                case BtfDatasec d: size = d.Size; break;
                case BtfFloat f: size = f.Size; break;
                case BtfPtr: size = 8; break;
                case BtfTypedef or BtfQualifier or BtfVar or BtfDeclTag:
                    id = ((BtfRefType)t).TypeId;
                    continue;
                case BtfArray a:
                    if (elements != 0 && a.Count > uint.MaxValue / elements)
                    {
                        return -1;
                    }

                    elements *= a.Count;
                    id = a.ElementTypeId;
                    continue;
                default:
                    return -1;
            }

            if (elements != 0 && size > uint.MaxValue / elements)
            {
                return -1;
            }

            return (long)(elements * size);
        }

        return -1;
    }

    /// <summary>The alignment in bytes of a type, as libbpf's btf__align_of (1 for packed structs); 0 when it has none.</summary>
    public int AlignOf(uint id) => AlignOf(id, 0);

    private int AlignOf(uint id, int depth)
    {
        if (depth > MaxResolveDepth)
        {
            return 0;
        }

        switch (TryGet(id))
        {
            case BtfInt i: return (int)Math.Min(8u, i.Size);
            case BtfEnum e: return (int)Math.Min(8u, e.Size);
            case BtfFloat f: return (int)Math.Min(8u, f.Size);
            case BtfPtr: return 8;
            case BtfTypedef or BtfQualifier: return AlignOf(((BtfRefType)TryGet(id)!).TypeId, depth + 1);
            case BtfArray a: return AlignOf(a.ElementTypeId, depth + 1);
            case BtfComposite c:
            {
                int max = 1;
                foreach (var m in c.Members)
                {
                    int align = AlignOf(m.TypeId, depth + 1);
                    if (align <= 0)
                    {
                        return 0;
                    }

                    max = Math.Max(max, align);
                    if (m.BitfieldSize == 0 && m.BitOffset % (uint)(8 * align) != 0)
                    {
                        return 1;
                    }
                }

                return c.Size % (uint)max != 0 ? 1 : max;
            }

            default: return 0;
        }
    }

    /// <summary>The ids of every type with this name, in id order.</summary>
    public IReadOnlyList<uint> FindAllByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_byName is null)
        {
            var map = new Dictionary<string, List<uint>>(StringComparer.Ordinal);
            for (uint id = 1; id < (uint)_types.Length; id++)
            {
                var n = _types[id].Name;
                if (n.Length == 0)
                {
                    continue;
                }

                if (!map.TryGetValue(n, out var list))
                {
                    list = [];
                    map.Add(n, list);
                }

                list.Add(id);
            }

            _byName = map;
        }

        return _byName.TryGetValue(name, out var ids) ? ids : [];
    }

    /// <summary>The first type with this name and kind, or null (libbpf's btf__find_by_name_kind).</summary>
    public BtfType? FindByName(string name, BtfKind kind)
    {
        foreach (uint id in FindAllByName(name))
        {
            if (_types[id].Kind == kind)
            {
                return _types[id];
            }
        }

        return null;
    }

    /// <summary>A short C-like name for messages: <c>struct my_hdr</c>, <c>union u</c>, <c>enum e</c>, <c>__u32</c>,
    /// <c>int *</c>, <c>(anon) struct</c>.</summary>
    public string Describe(uint id)
    {
        var t = TryGet(id);
        return t switch
        {
            null => $"[{id}]",
            BtfVoid => "void",
            BtfComposite c => (c.IsUnion ? "union " : "struct ") + (c.IsAnonymous ? "(anon)" : c.Name),
            BtfFwd f => (f.IsUnion ? "union " : "struct ") + f.Name,
            BtfEnum e => "enum " + (e.IsAnonymous ? "(anon)" : e.Name),
            BtfPtr p => DescribeShallow(p.TypeId) + " *",
            BtfArray a => DescribeShallow(a.ElementTypeId) + "[" + a.Count + "]",
            BtfFuncProto => "func_proto",
            _ => t.IsAnonymous ? BtfType.KindName(t.Kind).ToLowerInvariant() : t.Name,
        };
    }

    private string DescribeShallow(uint id) => TryGet(id) is BtfPtr or BtfArray ? BtfType.KindName(TryGet(id)!.Kind).ToLowerInvariant() : Describe(id);

    private static string? ReadString(byte[] table, uint offset)
    {
        if (offset >= (uint)table.Length)
        {
            return null;
        }

        var rest = table.AsSpan((int)offset);
        int end = rest.IndexOf((byte)0);
        return end < 0 ? null : Encoding.UTF8.GetString(rest[..end]);
    }

    /// <inheritdoc/>
    public override string ToString() => $"BTF ({_types.Length - 1} types, {_strings.Length} bytes of strings)";
}
