using VethXdp.Verifier.Domains;
using VethXdp.Verifier.State;

namespace VethXdp.Verifier;

/// <summary>One register as the verifier knew it when a path reached an instruction (a frozen copy of the kernel's
/// <c>struct bpf_reg_state</c>, recorded with <see cref="VerifierOptions.RecordStates"/>).</summary>
/// <remarks>
/// For a scalar, <see cref="VarOff"/> and the eight bounds describe the value itself. For a pointer they describe the
/// variable part of its offset: a concrete pointer <c>p</c> into a region starting at <c>base</c> (the packet's data,
/// the context, the frame's <c>fp</c>, a map value) satisfies <c>p - base - Off ∈ bounds</c>.
/// </remarks>
/// <param name="Type">The base type (<c>SCALAR_VALUE</c>, <c>PTR_TO_PACKET</c>, ...); <see cref="RegType.NotInit"/>
/// for a register the path never wrote.</param>
/// <param name="Flags">The modifier bits (<c>PTR_MAYBE_NULL</c>, <c>MEM_RDONLY</c>, ...).</param>
/// <param name="Off">The fixed part of a pointer's offset (<c>off</c>).</param>
/// <param name="VarOff">The known bits (<c>var_off</c>).</param>
/// <param name="SMin">Signed 64-bit minimum (<c>smin_value</c>).</param>
/// <param name="SMax">Signed 64-bit maximum (<c>smax_value</c>).</param>
/// <param name="UMin">Unsigned 64-bit minimum (<c>umin_value</c>).</param>
/// <param name="UMax">Unsigned 64-bit maximum (<c>umax_value</c>).</param>
/// <param name="S32Min">Signed minimum of the low 32 bits (<c>s32_min_value</c>).</param>
/// <param name="S32Max">Signed maximum of the low 32 bits (<c>s32_max_value</c>).</param>
/// <param name="U32Min">Unsigned minimum of the low 32 bits (<c>u32_min_value</c>).</param>
/// <param name="U32Max">Unsigned maximum of the low 32 bits (<c>u32_max_value</c>).</param>
/// <param name="Id">Shared by copies of one pointer or linked scalars (<c>id</c>), 0 for none.</param>
/// <param name="Range">For packet pointers: bytes from <c>p - Off</c> proven to lie inside the packet
/// (<c>range</c>); -1 (<c>AT_PKT_END</c>) and -2 (<c>BEYOND_PKT_END</c>) say the pointer is at or past
/// <c>data_end</c>.</param>
/// <param name="MapIndex">For map pointers, keys and values: the map's index in the object, -1 for none.</param>
/// <param name="MemSize">For <c>PTR_TO_MEM</c>: the region's size (<c>mem_size</c>).</param>
/// <param name="Frameno">For <c>PTR_TO_STACK</c>: the frame whose stack it points into (<c>frameno</c>).</param>
/// <param name="Precise">The scalar is tracked precisely (<c>precise</c>; <c>P</c> in the log).</param>
public readonly record struct RecordedRegister(
    RegType Type,
    RegTypeFlags Flags,
    int Off,
    Tnum VarOff,
    long SMin,
    long SMax,
    ulong UMin,
    ulong UMax,
    int S32Min,
    int S32Max,
    uint U32Min,
    uint U32Max,
    int Id,
    int Range,
    int MapIndex,
    int MemSize,
    int Frameno,
    bool Precise)
{
    /// <summary><c>AT_PKT_END</c>: the packet pointer is at or past <c>data_end</c>.</summary>
    public const int AtPktEnd = -1;

    /// <summary><c>BEYOND_PKT_END</c>: the packet pointer is past <c>data_end</c>.</summary>
    public const int BeyondPktEnd = -2;

    /// <summary>True for a register the path never wrote (<c>NOT_INIT</c>): the verifier claims nothing about it.</summary>
    public bool IsInit => Type != RegType.NotInit;

    /// <summary>True for a scalar.</summary>
    public bool IsScalar => Type == RegType.Scalar;

    /// <summary>True when the type carries <c>PTR_MAYBE_NULL</c>: the pointer may still be 0.</summary>
    public bool MaybeNull => (Flags & RegTypeFlags.MaybeNull) != 0;

    /// <summary>The tnum and the eight bounds together, as the verifier's domain.</summary>
    public ScalarBounds Bounds => new()
    {
        VarOff = VarOff,
        SMin = SMin,
        SMax = SMax,
        UMin = UMin,
        UMax = UMax,
        S32Min = S32Min,
        S32Max = S32Max,
        U32Min = U32Min,
        U32Max = U32Max,
    };

    /// <summary>True when <paramref name="x"/> lies in the tnum and in all four ranges, the 32-bit ones applied to its
    /// low half: for a scalar, <paramref name="x"/> is its value; for a pointer, the variable part of its offset.</summary>
    /// <param name="x">A concrete 64-bit value.</param>
    public bool BoundsContain(ulong x) =>
        VarOff.Contains(x) && (long)x >= SMin && (long)x <= SMax && x >= UMin && x <= UMax &&
        (int)(uint)x >= S32Min && (int)(uint)x <= S32Max && (uint)x >= U32Min && (uint)x <= U32Max;

    /// <summary>A frozen copy of a verifier register.</summary>
    /// <param name="r">The register.</param>
    public static RecordedRegister From(in RegState r) => new(
        r.Type, r.Flags, r.Off, r.Bounds.VarOff, r.Bounds.SMin, r.Bounds.SMax, r.Bounds.UMin, r.Bounds.UMax,
        r.Bounds.S32Min, r.Bounds.S32Max, r.Bounds.U32Min, r.Bounds.U32Max, r.Id, r.Range, r.MapIndex, r.MemSize,
        r.Frameno, r.Precise);
}
