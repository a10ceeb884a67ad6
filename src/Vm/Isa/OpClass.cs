namespace VethXdp.Vm.Isa;

/// <summary>The instruction class: the low three bits of the opcode.</summary>
/// <remarks>
/// <code>
///   7 6 5 4 3 2 1 0
///  +---------+-+-----+
///  |  code   |s| cls |   ALU, ALU64, JMP, JMP32: code = operation, s = source (0 K, 1 X)
///  +-----+---+-+-----+
///  |mode |sz | cls   |   LD, LDX, ST, STX: mode, size
///  +-----+---+-------+
/// </code>
/// </remarks>
public enum OpClass : byte
{
    /// <summary>BPF_LD: 64-bit immediate load and the legacy packet loads.</summary>
    Ld = 0x00,
    /// <summary>BPF_LDX: load from memory into a register.</summary>
    Ldx = 0x01,
    /// <summary>BPF_ST: store an immediate.</summary>
    St = 0x02,
    /// <summary>BPF_STX: store a register, and atomics.</summary>
    Stx = 0x03,
    /// <summary>BPF_ALU: 32-bit arithmetic.</summary>
    Alu = 0x04,
    /// <summary>BPF_JMP: 64-bit jumps, calls and exit.</summary>
    Jmp = 0x05,
    /// <summary>BPF_JMP32: 32-bit compares and gotol.</summary>
    Jmp32 = 0x06,
    /// <summary>BPF_ALU64: 64-bit arithmetic.</summary>
    Alu64 = 0x07,
}

/// <summary>Arithmetic operation: bits 4-7 of an ALU or ALU64 opcode.</summary>
public enum AluOp : byte
{
    /// <summary>dst += src</summary>
    Add = 0x00,
    /// <summary>dst -= src</summary>
    Sub = 0x10,
    /// <summary>dst *= src</summary>
    Mul = 0x20,
    /// <summary>dst /= src (offset 1: signed)</summary>
    Div = 0x30,
    /// <summary>dst |= src</summary>
    Or = 0x40,
    /// <summary>dst &amp;= src</summary>
    And = 0x50,
    /// <summary>dst &lt;&lt;= src</summary>
    Lsh = 0x60,
    /// <summary>dst &gt;&gt;= src (logical)</summary>
    Rsh = 0x70,
    /// <summary>dst = -dst</summary>
    Neg = 0x80,
    /// <summary>dst %= src (offset 1: signed)</summary>
    Mod = 0x90,
    /// <summary>dst ^= src</summary>
    Xor = 0xa0,
    /// <summary>dst = src (offset 8/16/32: sign-extending)</summary>
    Mov = 0xb0,
    /// <summary>dst s&gt;&gt;= src</summary>
    Arsh = 0xc0,
    /// <summary>Byte swap: le/be (ALU), unconditional bswap (ALU64).</summary>
    End = 0xd0,
}

/// <summary>Jump operation: bits 4-7 of a JMP or JMP32 opcode.</summary>
public enum JmpOp : byte
{
    /// <summary>goto (JMP: 16-bit offset; JMP32: gotol, 32-bit offset in imm).</summary>
    Ja = 0x00,
    /// <summary>==</summary>
    Jeq = 0x10,
    /// <summary>&gt; unsigned</summary>
    Jgt = 0x20,
    /// <summary>&gt;= unsigned</summary>
    Jge = 0x30,
    /// <summary>dst &amp; src != 0</summary>
    Jset = 0x40,
    /// <summary>!=</summary>
    Jne = 0x50,
    /// <summary>&gt; signed</summary>
    Jsgt = 0x60,
    /// <summary>&gt;= signed</summary>
    Jsge = 0x70,
    /// <summary>Helper, BPF-to-BPF or kfunc call (BPF_X: callx).</summary>
    Call = 0x80,
    /// <summary>Return from the function.</summary>
    Exit = 0x90,
    /// <summary>&lt; unsigned</summary>
    Jlt = 0xa0,
    /// <summary>&lt;= unsigned</summary>
    Jle = 0xb0,
    /// <summary>&lt; signed</summary>
    Jslt = 0xc0,
    /// <summary>&lt;= signed</summary>
    Jsle = 0xd0,
}

/// <summary>Access size: bits 3-4 of a load or store opcode.</summary>
public enum MemSize : byte
{
    /// <summary>4 bytes (BPF_W).</summary>
    W = 0x00,
    /// <summary>2 bytes (BPF_H).</summary>
    H = 0x08,
    /// <summary>1 byte (BPF_B).</summary>
    B = 0x10,
    /// <summary>8 bytes (BPF_DW).</summary>
    DW = 0x18,
}

/// <summary>Addressing mode: bits 5-7 of a load or store opcode.</summary>
public enum MemMode : byte
{
    /// <summary>BPF_IMM: the 64-bit immediate load.</summary>
    Imm = 0x00,
    /// <summary>BPF_ABS: legacy packet load at a constant offset.</summary>
    Abs = 0x20,
    /// <summary>BPF_IND: legacy packet load at a register offset.</summary>
    Ind = 0x40,
    /// <summary>BPF_MEM: regular load or store.</summary>
    Mem = 0x60,
    /// <summary>BPF_MEMSX: sign-extending load.</summary>
    MemSx = 0x80,
    /// <summary>BPF_ATOMIC: atomic read-modify-write.</summary>
    Atomic = 0xc0,
}

/// <summary>The imm field of an atomic instruction.</summary>
public enum AtomicOp
{
    /// <summary>*(dst + off) += src</summary>
    Add = 0x00,
    /// <summary>*(dst + off) |= src</summary>
    Or = 0x40,
    /// <summary>*(dst + off) &amp;= src</summary>
    And = 0x50,
    /// <summary>*(dst + off) ^= src</summary>
    Xor = 0xa0,
    /// <summary>BPF_FETCH modifier: the old value goes to src.</summary>
    Fetch = 0x01,
    /// <summary>src = xchg(dst + off, src)</summary>
    Xchg = 0xe1,
    /// <summary>r0 = cmpxchg(dst + off, r0, src)</summary>
    CmpXchg = 0xf1,
}

/// <summary>BPF registers; R10 is the read-only frame pointer.</summary>
public enum Register : byte
{
    /// <summary>Return value.</summary>
    R0, /// <summary>Argument 1 / context.</summary>
    R1, /// <summary>Argument 2.</summary>
    R2, /// <summary>Argument 3.</summary>
    R3, /// <summary>Argument 4.</summary>
    R4, /// <summary>Argument 5.</summary>
    R5, /// <summary>Callee-saved.</summary>
    R6, /// <summary>Callee-saved.</summary>
    R7, /// <summary>Callee-saved.</summary>
    R8, /// <summary>Callee-saved.</summary>
    R9, /// <summary>Frame pointer (read only).</summary>
    R10,
}

/// <summary>The src field of a 64-bit immediate load (BPF_LD | BPF_IMM | BPF_DW).</summary>
public enum PseudoSrc : byte
{
    /// <summary>A plain 64-bit constant.</summary>
    Imm64 = 0,
    /// <summary>BPF_PSEUDO_MAP_FD: imm is a map fd.</summary>
    MapFd = 1,
    /// <summary>BPF_PSEUDO_MAP_VALUE: imm is a map fd, next imm an offset into its value.</summary>
    MapValue = 2,
    /// <summary>BPF_PSEUDO_BTF_ID: a kernel variable by BTF id.</summary>
    BtfId = 3,
    /// <summary>BPF_PSEUDO_FUNC: the address of a BPF function, imm relative.</summary>
    Func = 4,
    /// <summary>BPF_PSEUDO_MAP_IDX: imm is an index into the program's map array.</summary>
    MapIdx = 5,
    /// <summary>BPF_PSEUDO_MAP_IDX_VALUE: map by index, next imm an offset into its value.</summary>
    MapIdxValue = 6,
}

/// <summary>The src field of a call instruction.</summary>
public enum CallKind : byte
{
    /// <summary>A helper by id (imm).</summary>
    Helper = 0,
    /// <summary>BPF_PSEUDO_CALL: a BPF-to-BPF call, imm relative to the next instruction.</summary>
    Local = 1,
    /// <summary>BPF_PSEUDO_KFUNC_CALL: a kernel function by BTF id.</summary>
    Kfunc = 2,
}
