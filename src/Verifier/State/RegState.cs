using System.Runtime.InteropServices;
using VethXdp.Verifier.Domains;

namespace VethXdp.Verifier.State;

/// <summary>What the verifier knows about one register or spilled value (include/linux/bpf_verifier.h,
/// <c>struct bpf_reg_state</c>): its type and, for pointers, the fixed offset <see cref="Off"/> plus the variable part in
/// <see cref="Bounds"/>; for scalars, <see cref="Bounds"/> alone.</summary>
/// <remarks>A value type: assignment copies it, as the kernel's <c>*dst = *src</c> does. The fields the kernel keeps in
/// unions (map pointer, packet range, memory size, frame number, subprogram) sit side by side here.</remarks>
[StructLayout(LayoutKind.Auto)]
public struct RegState : IEquatable<RegState>
{
    /// <summary>The base type.</summary>
    public RegType Type;

    /// <summary>The modifier bits (PTR_MAYBE_NULL, MEM_RDONLY, ...).</summary>
    public RegTypeFlags Flags;

    /// <summary>The fixed part of a pointer's offset (<c>reg-&gt;off</c>).</summary>
    public int Off;

    /// <summary>The variable part of a pointer's offset, or a scalar's value (<c>var_off</c> and the ranges).</summary>
    public ScalarBounds Bounds;

    /// <summary>Shared by copies of one pointer (null checks, packet ranges) or linked scalars (<c>id</c>). A scalar
    /// computed as a linked scalar plus a constant carries <see cref="AddConst"/> here and the constant in
    /// <see cref="Off"/>.</summary>
    public int Id;

    /// <summary>The flag bit of <see cref="Id"/> marking a scalar as "the scalar with this id plus <see cref="Off"/>"
    /// (<c>BPF_ADD_CONST</c>, bit 31).</summary>
    public const int AddConst = int.MinValue;

    /// <summary>The id without the <see cref="AddConst"/> flag (<c>id &amp; ~BPF_ADD_CONST</c>).</summary>
    public readonly int BaseId => Id & ~AddConst;

    /// <summary>The reference this pointer holds (<c>ref_obj_id</c>): a ringbuf record, a socket.</summary>
    public int RefObjId;

    /// <summary>For packet pointers: bytes known to be inside the packet from the pointer (<c>range</c>).</summary>
    public int Range;

    /// <summary>For map pointers, keys and values: the map's index in the object (-1 for none).</summary>
    public int MapIndex;

    /// <summary>For PTR_TO_MEM: the region's size (<c>mem_size</c>).</summary>
    public int MemSize;

    /// <summary>For PTR_TO_STACK: the frame it points into (<c>frameno</c>).</summary>
    public int Frameno;

    /// <summary>For PTR_TO_FUNC: the callee's subprogram number (<c>subprogno</c>).</summary>
    public int Subprogno;

    /// <summary>For PTR_TO_BTF_ID: the kernel type's name (<c>ptr_</c> + name in the log).</summary>
    public string? BtfType;

    /// <summary>For a dynptr's stack slots: this is the dynptr's first (lower-numbered, higher-address) slot
    /// (<c>dynptr.first_slot</c>).</summary>
    public bool DynptrFirstSlot;

    /// <summary>For a slice of a dynptr (PTR_TO_MEM): the dynptr's id (<c>dynptr_id</c>).</summary>
    public int DynptrId;

    /// <summary>The scalar is needed exactly (precision tracking; printed as <c>P</c>).</summary>
    public bool Precise;

    /// <summary>A register that was never written (<c>NOT_INIT</c>).</summary>
    public static RegState NotInit => new() { Type = RegType.NotInit, MapIndex = -1, Bounds = ScalarBounds.Unknown };

    /// <summary>An unknown scalar (<c>mark_reg_unknown</c>).</summary>
    public static RegState UnknownScalar => new() { Type = RegType.Scalar, MapIndex = -1, Bounds = ScalarBounds.Unknown };

    /// <summary>A known scalar (<c>__mark_reg_known</c>).</summary>
    /// <param name="value">The value.</param>
    public static RegState KnownScalar(ulong value) =>
        new() { Type = RegType.Scalar, MapIndex = -1, Bounds = ScalarBounds.Const(value) };

    /// <summary>A pointer of the given type with offset 0 and a known zero variable part (<c>mark_reg_known_zero</c>
    /// followed by setting the type).</summary>
    /// <param name="type">The type.</param>
    /// <param name="flags">The modifiers.</param>
    public static RegState Pointer(RegType type, RegTypeFlags flags = RegTypeFlags.None) =>
        new() { Type = type, Flags = flags, MapIndex = -1, Bounds = ScalarBounds.Const(0UL) };

    /// <summary>True for a scalar.</summary>
    public readonly bool IsScalar => Type == RegType.Scalar;

    /// <summary>True for any pointer (<c>__is_pointer_value</c>: neither scalar nor uninitialised).</summary>
    public readonly bool IsPointer => Type is not (RegType.Scalar or RegType.NotInit);

    /// <summary>True for pkt, pkt_meta (<c>type_is_pkt_pointer</c>).</summary>
    public readonly bool IsPktPointer => Type is RegType.PtrToPacket or RegType.PtrToPacketMeta;

    /// <summary>True when the type carries PTR_MAYBE_NULL.</summary>
    public readonly bool MaybeNull => (Flags & RegTypeFlags.MaybeNull) != 0;

    /// <summary>True for a scalar whose value is known.</summary>
    public readonly bool IsConst => Type == RegType.Scalar && Bounds.VarOff.IsConst;

    /// <summary>A scalar known to be zero (<c>register_is_null</c>).</summary>
    public readonly bool IsNull => Type == RegType.Scalar && Bounds.VarOff.IsConst && Bounds.VarOff.Value == 0;

    /// <inheritdoc/>
    public readonly bool Equals(RegState other) =>
        Type == other.Type && Flags == other.Flags && Off == other.Off && Bounds == other.Bounds && Id == other.Id &&
        RefObjId == other.RefObjId && Range == other.Range && MapIndex == other.MapIndex && MemSize == other.MemSize &&
        Frameno == other.Frameno && Subprogno == other.Subprogno && BtfType == other.BtfType && Precise == other.Precise &&
        DynptrFirstSlot == other.DynptrFirstSlot && DynptrId == other.DynptrId;

    /// <inheritdoc/>
    public override readonly bool Equals(object? obj) => obj is RegState r && Equals(r);

    /// <inheritdoc/>
    public override readonly int GetHashCode() => HashCode.Combine(Type, Flags, Off, Bounds, Id, Range, MapIndex);

    /// <summary>Equality.</summary>
    public static bool operator ==(RegState left, RegState right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(RegState left, RegState right) => !left.Equals(right);
}
