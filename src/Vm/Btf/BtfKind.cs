namespace VethXdp.Vm.Btf;

/// <summary>BTF type kinds, with the kernel's values (include/uapi/linux/btf.h, BTF_KIND_*).</summary>
/// <remarks>
/// The kind is bits 24-28 of a type's <c>info</c> word:
/// <code>
///  31  30..29  28......24  23......16  15..............0
/// +----+------+-----------+-----------+-----------------+
/// | kf | 0    | kind      | 0         | vlen            |
/// +----+------+-----------+-----------+-----------------+
/// </code>
/// kf (kind_flag) marks bitfield offsets in structs and unions, a union forward declaration, and a signed enum.
/// </remarks>
public enum BtfKind : byte
{
    /// <summary>BTF_KIND_UNKN: type id 0, void.</summary>
    Void = 0,
    /// <summary>BTF_KIND_INT: an integer (size, encoding, bit offset, bits).</summary>
    Int = 1,
    /// <summary>BTF_KIND_PTR: a pointer.</summary>
    Ptr = 2,
    /// <summary>BTF_KIND_ARRAY: an array (element type, index type, element count).</summary>
    Array = 3,
    /// <summary>BTF_KIND_STRUCT: a struct.</summary>
    Struct = 4,
    /// <summary>BTF_KIND_UNION: a union.</summary>
    Union = 5,
    /// <summary>BTF_KIND_ENUM: an enum with 32-bit values.</summary>
    Enum = 6,
    /// <summary>BTF_KIND_FWD: a forward declaration of a struct or union.</summary>
    Fwd = 7,
    /// <summary>BTF_KIND_TYPEDEF.</summary>
    Typedef = 8,
    /// <summary>BTF_KIND_VOLATILE.</summary>
    Volatile = 9,
    /// <summary>BTF_KIND_CONST.</summary>
    Const = 10,
    /// <summary>BTF_KIND_RESTRICT.</summary>
    Restrict = 11,
    /// <summary>BTF_KIND_FUNC: a function (name, linkage, prototype).</summary>
    Func = 12,
    /// <summary>BTF_KIND_FUNC_PROTO: a function prototype (return type, parameters).</summary>
    FuncProto = 13,
    /// <summary>BTF_KIND_VAR: a variable.</summary>
    Var = 14,
    /// <summary>BTF_KIND_DATASEC: the variables of one ELF section.</summary>
    Datasec = 15,
    /// <summary>BTF_KIND_FLOAT.</summary>
    Float = 16,
    /// <summary>BTF_KIND_DECL_TAG: an attribute on a declaration or one of its members.</summary>
    DeclTag = 17,
    /// <summary>BTF_KIND_TYPE_TAG: an attribute on a pointee type.</summary>
    TypeTag = 18,
    /// <summary>BTF_KIND_ENUM64: an enum with 64-bit values.</summary>
    Enum64 = 19,
}

/// <summary>BTF_INT_* encoding bits of an integer.</summary>
[Flags]
public enum BtfIntEncoding : byte
{
    /// <summary>Unsigned, not char, not bool.</summary>
    None = 0,
    /// <summary>BTF_INT_SIGNED.</summary>
    Signed = 1,
    /// <summary>BTF_INT_CHAR.</summary>
    Char = 2,
    /// <summary>BTF_INT_BOOL.</summary>
    Bool = 4,
}

/// <summary>Linkage of a BTF FUNC (enum btf_func_linkage).</summary>
public enum BtfFuncLinkage : ushort
{
    /// <summary>BTF_FUNC_STATIC.</summary>
    Static = 0,
    /// <summary>BTF_FUNC_GLOBAL.</summary>
    Global = 1,
    /// <summary>BTF_FUNC_EXTERN.</summary>
    Extern = 2,
}

/// <summary>Linkage of a BTF VAR (BTF_VAR_*).</summary>
public enum BtfVarLinkage : uint
{
    /// <summary>BTF_VAR_STATIC.</summary>
    Static = 0,
    /// <summary>BTF_VAR_GLOBAL_ALLOCATED.</summary>
    GlobalAllocated = 1,
    /// <summary>BTF_VAR_GLOBAL_EXTERN.</summary>
    GlobalExtern = 2,
}
