using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace VethXdp.Vm.Isa;

/// <summary>One 8-byte eBPF instruction slot, exactly as it is encoded (little-endian).</summary>
/// <remarks>
/// <code>
///  byte 0      byte 1          bytes 2-3         bytes 4-7
/// +--------+--------+--------+-----------------+----------------------+
/// | opcode | src:4  | dst:4  | offset (s16)    | imm (s32)            |
/// +--------+--------+--------+-----------------+----------------------+
/// </code>
/// A 64-bit immediate load occupies two slots; the second carries the upper half in its imm.
/// Instruction indices everywhere are slot indices, as in the kernel.
/// </remarks>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly struct Instruction : IEquatable<Instruction>
{
    /// <summary>Size of one slot in bytes.</summary>
    public const int Size = 8;

    private readonly byte _opcode;
    private readonly byte _regs;
    private readonly short _offset;
    private readonly int _imm;

    /// <summary>Creates an instruction from its fields.</summary>
    public Instruction(byte opcode, Register dst, Register src, short offset, int imm)
        : this(opcode, (byte)(((int)src << 4) | ((int)dst & 0x0f)), offset, imm)
    {
    }

    /// <summary>Creates an instruction from its raw fields (regs: src in the high nibble, dst in the low).</summary>
    public Instruction(byte opcode, byte regs, short offset, int imm)
    {
        _opcode = opcode;
        _regs = regs;
        _offset = offset;
        _imm = imm;
    }

    /// <summary>The opcode byte.</summary>
    public byte Opcode => _opcode;
    /// <summary>The register byte as encoded (src in the high nibble, dst in the low).</summary>
    public byte Regs => _regs;
    /// <summary>The signed 16-bit offset.</summary>
    public short Offset => _offset;
    /// <summary>The signed 32-bit immediate.</summary>
    public int Imm => _imm;

    /// <summary>The instruction class.</summary>
    public OpClass Class => (OpClass)(_opcode & 0x07);
    /// <summary>The arithmetic operation (ALU, ALU64).</summary>
    public AluOp AluOp => (AluOp)(_opcode & 0xf0);
    /// <summary>The jump operation (JMP, JMP32).</summary>
    public JmpOp JmpOp => (JmpOp)(_opcode & 0xf0);
    /// <summary>The access size (loads and stores).</summary>
    public MemSize MemSize => (MemSize)(_opcode & 0x18);
    /// <summary>The addressing mode (loads and stores).</summary>
    public MemMode Mode => (MemMode)(_opcode & 0xe0);
    /// <summary>True when the source operand is a register (BPF_X).</summary>
    public bool SrcIsReg => (_opcode & 0x08) != 0;
    /// <summary>The destination register number (0-15 as encoded).</summary>
    public int DstReg => _regs & 0x0f;
    /// <summary>The source register number (0-15 as encoded).</summary>
    public int SrcReg => _regs >> 4;
    /// <summary>The destination register.</summary>
    public Register Dst => (Register)(_regs & 0x0f);
    /// <summary>The source register.</summary>
    public Register Src => (Register)(_regs >> 4);

    /// <summary>True for the first slot of a 64-bit immediate load.</summary>
    public bool IsLdImm64 => _opcode == Op.LdDw;

    /// <summary>Access width in bytes of a load or store.</summary>
    public int AccessBytes => SizeBytes(MemSize);

    /// <summary>Width in bytes of a <see cref="Isa.MemSize"/>.</summary>
    public static int SizeBytes(MemSize size) => size switch
    {
        MemSize.B => 1,
        MemSize.H => 2,
        MemSize.W => 4,
        _ => 8,
    };

    /// <summary>Reads one slot (little-endian, as every BPF object we load).</summary>
    public static Instruction Read(ReadOnlySpan<byte> slot) => new(
        slot[0],
        slot[1],
        BinaryPrimitives.ReadInt16LittleEndian(slot[2..]),
        BinaryPrimitives.ReadInt32LittleEndian(slot[4..]));

    /// <summary>Reads one slot of a big-endian object, where the register nibbles are swapped too.</summary>
    public static Instruction ReadBigEndian(ReadOnlySpan<byte> slot) => new(
        slot[0],
        (byte)((slot[1] >> 4) | (slot[1] << 4)),
        BinaryPrimitives.ReadInt16BigEndian(slot[2..]),
        BinaryPrimitives.ReadInt32BigEndian(slot[4..]));

    /// <summary>Writes this slot in little-endian order.</summary>
    public void Write(Span<byte> slot)
    {
        slot[0] = _opcode;
        slot[1] = _regs;
        BinaryPrimitives.WriteInt16LittleEndian(slot[2..], _offset);
        BinaryPrimitives.WriteInt32LittleEndian(slot[4..], _imm);
    }

    /// <summary>The raw 64-bit word of this slot (as bpf_conformance's <c>-- raw</c> writes it).</summary>
    public ulong ToRaw()
    {
        Span<byte> b = stackalloc byte[8];
        Write(b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    /// <summary>The slot whose raw 64-bit word is <paramref name="raw"/>.</summary>
    public static Instruction FromRaw(ulong raw)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, raw);
        return Read(b);
    }

    /// <inheritdoc/>
    public bool Equals(Instruction other) =>
        _opcode == other._opcode && _regs == other._regs && _offset == other._offset && _imm == other._imm;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Instruction i && Equals(i);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_opcode, _regs, _offset, _imm);

    /// <summary>Equality of all four fields.</summary>
    public static bool operator ==(Instruction left, Instruction right) => left.Equals(right);

    /// <summary>Inequality of any field.</summary>
    public static bool operator !=(Instruction left, Instruction right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() =>
        $"{{op=0x{_opcode:x2} dst=r{DstReg} src=r{SrcReg} off={_offset} imm={_imm}}}";
}
