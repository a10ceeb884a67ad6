namespace VethXdp.Vm.Btf;

/// <summary>One BTF type: its id, kind and name. Subclasses carry what each kind adds.</summary>
/// <remarks>Types refer to each other by id; <see cref="BtfSpec"/> resolves ids. Id 0 is <see cref="BtfVoid"/>.</remarks>
public abstract class BtfType
{
    private protected BtfType(uint id, BtfKind kind, string name)
    {
        Id = id;
        Kind = kind;
        Name = name;
    }

    /// <summary>The type id (its position in the type section, counting from 1; 0 is void).</summary>
    public uint Id { get; }

    /// <summary>The kind.</summary>
    public BtfKind Kind { get; }

    /// <summary>The name; empty for anonymous types.</summary>
    public string Name { get; }

    /// <summary>True when the type has no name.</summary>
    public bool IsAnonymous => Name.Length == 0;

    /// <summary>The kind as bpftool prints it (<c>STRUCT</c>, <c>FUNC_PROTO</c>, ...).</summary>
    public static string KindName(BtfKind kind) => kind switch
    {
        BtfKind.Void => "UNKN",
        BtfKind.Int => "INT",
        BtfKind.Ptr => "PTR",
        BtfKind.Array => "ARRAY",
        BtfKind.Struct => "STRUCT",
        BtfKind.Union => "UNION",
        BtfKind.Enum => "ENUM",
        BtfKind.Fwd => "FWD",
        BtfKind.Typedef => "TYPEDEF",
        BtfKind.Volatile => "VOLATILE",
        BtfKind.Const => "CONST",
        BtfKind.Restrict => "RESTRICT",
        BtfKind.Func => "FUNC",
        BtfKind.FuncProto => "FUNC_PROTO",
        BtfKind.Var => "VAR",
        BtfKind.Datasec => "DATASEC",
        BtfKind.Float => "FLOAT",
        BtfKind.DeclTag => "DECL_TAG",
        BtfKind.TypeTag => "TYPE_TAG",
        BtfKind.Enum64 => "ENUM64",
        _ => "UNKNOWN",
    };

    /// <inheritdoc/>
    public override string ToString() => $"[{Id}] {KindName(Kind)} '{(IsAnonymous ? "(anon)" : Name)}'";
}

/// <summary>Type id 0: void.</summary>
public sealed class BtfVoid : BtfType
{
    /// <summary>The one void type.</summary>
    public static readonly BtfVoid Instance = new();

    private BtfVoid()
        : base(0, BtfKind.Void, string.Empty)
    {
    }
}

/// <summary>A type that refers to one other type: PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG, VAR, FUNC, DECL_TAG.</summary>
public abstract class BtfRefType : BtfType
{
    private protected BtfRefType(uint id, BtfKind kind, string name, uint typeId)
        : base(id, kind, name)
    {
        TypeId = typeId;
    }

    /// <summary>The type referred to (the pointee, the aliased type, the variable's type, the prototype, the tagged declaration).</summary>
    public uint TypeId { get; }
}

/// <summary>BTF_KIND_INT.</summary>
public sealed class BtfInt : BtfType
{
    /// <summary>Creates the type.</summary>
    public BtfInt(uint id, string name, uint size, BtfIntEncoding encoding, byte bitOffset, byte bits)
        : base(id, BtfKind.Int, name)
    {
        Size = size;
        Encoding = encoding;
        BitOffset = bitOffset;
        Bits = bits;
    }

    /// <summary>Size in bytes.</summary>
    public uint Size { get; }

    /// <summary>Signed, char, bool.</summary>
    public BtfIntEncoding Encoding { get; }

    /// <summary>BTF_INT_OFFSET: the bit offset of the value (0 in everything clang writes).</summary>
    public byte BitOffset { get; }

    /// <summary>BTF_INT_BITS: the number of value bits.</summary>
    public byte Bits { get; }

    /// <summary>True for signed integers.</summary>
    public bool IsSigned => (Encoding & BtfIntEncoding.Signed) != 0;
}

/// <summary>BTF_KIND_PTR.</summary>
public sealed class BtfPtr : BtfRefType
{
    /// <summary>Creates the type.</summary>
    public BtfPtr(uint id, uint typeId)
        : base(id, BtfKind.Ptr, string.Empty, typeId)
    {
    }
}

/// <summary>BTF_KIND_TYPEDEF.</summary>
public sealed class BtfTypedef : BtfRefType
{
    /// <summary>Creates the type.</summary>
    public BtfTypedef(uint id, string name, uint typeId)
        : base(id, BtfKind.Typedef, name, typeId)
    {
    }
}

/// <summary>A modifier: BTF_KIND_VOLATILE, CONST, RESTRICT or TYPE_TAG (which has a name, the tag).</summary>
public sealed class BtfQualifier : BtfRefType
{
    /// <summary>Creates the type.</summary>
    public BtfQualifier(uint id, BtfKind kind, string name, uint typeId)
        : base(id, kind, name, typeId)
    {
        if (kind is not (BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.TypeTag))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a modifier kind");
        }
    }
}

/// <summary>BTF_KIND_ARRAY.</summary>
public sealed class BtfArray : BtfType
{
    /// <summary>Creates the type.</summary>
    public BtfArray(uint id, uint elementTypeId, uint indexTypeId, uint count)
        : base(id, BtfKind.Array, string.Empty)
    {
        ElementTypeId = elementTypeId;
        IndexTypeId = indexTypeId;
        Count = count;
    }

    /// <summary>The element type.</summary>
    public uint ElementTypeId { get; }

    /// <summary>The index type.</summary>
    public uint IndexTypeId { get; }

    /// <summary>The number of elements (0 for a flexible array member).</summary>
    public uint Count { get; }
}

/// <summary>A member of a struct or union.</summary>
/// <param name="Name">The name; empty for an anonymous (embedded) struct or union.</param>
/// <param name="TypeId">The member's type.</param>
/// <param name="BitOffset">Offset from the start of the struct, in bits.</param>
/// <param name="BitfieldSize">The bitfield width in bits, or 0 for an ordinary member.</param>
public sealed record BtfMember(string Name, uint TypeId, uint BitOffset, uint BitfieldSize);

/// <summary>BTF_KIND_STRUCT or BTF_KIND_UNION.</summary>
public sealed class BtfComposite : BtfType
{
    private readonly BtfMember[] _members;

    /// <summary>Creates the type.</summary>
    public BtfComposite(uint id, string name, bool isUnion, uint size, BtfMember[] members)
        : base(id, isUnion ? BtfKind.Union : BtfKind.Struct, name)
    {
        ArgumentNullException.ThrowIfNull(members);
        Size = size;
        _members = members;
    }

    /// <summary>Size in bytes.</summary>
    public uint Size { get; }

    /// <summary>True for a union.</summary>
    public bool IsUnion => Kind == BtfKind.Union;

    /// <summary>The members, in declaration order.</summary>
    public IReadOnlyList<BtfMember> Members => _members;
}

/// <summary>One enumerator.</summary>
/// <param name="Name">The enumerator's name.</param>
/// <param name="Value">Its value (for BTF_KIND_ENUM the stored signed 32-bit value, sign-extended).</param>
public sealed record BtfEnumValue(string Name, long Value);

/// <summary>BTF_KIND_ENUM or BTF_KIND_ENUM64.</summary>
public sealed class BtfEnum : BtfType
{
    private readonly BtfEnumValue[] _values;

    /// <summary>Creates the type.</summary>
    public BtfEnum(uint id, string name, bool is64, uint size, bool isSigned, BtfEnumValue[] values)
        : base(id, is64 ? BtfKind.Enum64 : BtfKind.Enum, name)
    {
        ArgumentNullException.ThrowIfNull(values);
        Size = size;
        IsSigned = isSigned;
        _values = values;
    }

    /// <summary>Size in bytes.</summary>
    public uint Size { get; }

    /// <summary>The kind_flag: the values are signed.</summary>
    public bool IsSigned { get; }

    /// <summary>The enumerators.</summary>
    public IReadOnlyList<BtfEnumValue> Values => _values;
}

/// <summary>BTF_KIND_FWD.</summary>
public sealed class BtfFwd : BtfType
{
    /// <summary>Creates the type.</summary>
    public BtfFwd(uint id, string name, bool isUnion)
        : base(id, BtfKind.Fwd, name)
    {
        IsUnion = isUnion;
    }

    /// <summary>True for <c>union x;</c>, false for <c>struct x;</c>.</summary>
    public bool IsUnion { get; }
}

/// <summary>BTF_KIND_FUNC: <see cref="BtfRefType.TypeId"/> is the FUNC_PROTO.</summary>
public sealed class BtfFunc : BtfRefType
{
    /// <summary>Creates the type.</summary>
    public BtfFunc(uint id, string name, uint protoId, BtfFuncLinkage linkage)
        : base(id, BtfKind.Func, name, protoId)
    {
        Linkage = linkage;
    }

    /// <summary>Static, global or extern.</summary>
    public BtfFuncLinkage Linkage { get; }
}

/// <summary>A parameter of a function prototype.</summary>
/// <param name="Name">The name (may be empty).</param>
/// <param name="TypeId">The type; 0 for a trailing <c>...</c>.</param>
public sealed record BtfParam(string Name, uint TypeId);

/// <summary>BTF_KIND_FUNC_PROTO.</summary>
public sealed class BtfFuncProto : BtfType
{
    private readonly BtfParam[] _params;

    /// <summary>Creates the type.</summary>
    public BtfFuncProto(uint id, uint returnTypeId, BtfParam[] parameters)
        : base(id, BtfKind.FuncProto, string.Empty)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ReturnTypeId = returnTypeId;
        _params = parameters;
    }

    /// <summary>The return type (0 for void).</summary>
    public uint ReturnTypeId { get; }

    /// <summary>The parameters.</summary>
    public IReadOnlyList<BtfParam> Parameters => _params;
}

/// <summary>BTF_KIND_VAR.</summary>
public sealed class BtfVar : BtfRefType
{
    /// <summary>Creates the type.</summary>
    public BtfVar(uint id, string name, uint typeId, BtfVarLinkage linkage)
        : base(id, BtfKind.Var, name, typeId)
    {
        Linkage = linkage;
    }

    /// <summary>Static, global or extern. The loader sets .kconfig externs to global, as libbpf does.</summary>
    public BtfVarLinkage Linkage { get; internal set; }
}

/// <summary>One variable of a DATASEC.</summary>
/// <param name="TypeId">The VAR (or, in .ksyms, FUNC).</param>
/// <param name="Offset">Byte offset in the section.</param>
/// <param name="Size">Size in bytes.</param>
public readonly record struct BtfVarSecinfo(uint TypeId, uint Offset, uint Size);

/// <summary>BTF_KIND_DATASEC: the variables of one ELF section.</summary>
/// <remarks>clang leaves the size and the offsets zero; the loader fills them in from the ELF section and its
/// symbols and sorts the variables by offset, as libbpf's <c>btf_fixup_datasec</c> does.</remarks>
public sealed class BtfDatasec : BtfType
{
    private BtfVarSecinfo[] _vars;

    /// <summary>Creates the type.</summary>
    public BtfDatasec(uint id, string name, uint size, BtfVarSecinfo[] vars)
        : base(id, BtfKind.Datasec, name)
    {
        ArgumentNullException.ThrowIfNull(vars);
        Size = size;
        _vars = vars;
    }

    /// <summary>The section size in bytes.</summary>
    public uint Size { get; internal set; }

    /// <summary>The variables.</summary>
    public IReadOnlyList<BtfVarSecinfo> Vars => _vars;

    internal void SetVars(BtfVarSecinfo[] vars) => _vars = vars;
}

/// <summary>BTF_KIND_FLOAT.</summary>
public sealed class BtfFloat : BtfType
{
    /// <summary>Creates the type.</summary>
    public BtfFloat(uint id, string name, uint size)
        : base(id, BtfKind.Float, name)
    {
        Size = size;
    }

    /// <summary>Size in bytes.</summary>
    public uint Size { get; }
}

/// <summary>BTF_KIND_DECL_TAG: <see cref="BtfType.Name"/> is the tag, <see cref="BtfRefType.TypeId"/> the tagged declaration.</summary>
public sealed class BtfDeclTag : BtfRefType
{
    /// <summary>Creates the type.</summary>
    public BtfDeclTag(uint id, string name, uint typeId, int componentIndex)
        : base(id, BtfKind.DeclTag, name, typeId)
    {
        ComponentIndex = componentIndex;
    }

    /// <summary>-1 for the declaration itself, else the member or parameter index.</summary>
    public int ComponentIndex { get; }
}
