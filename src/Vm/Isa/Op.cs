namespace VethXdp.Vm.Isa;

/// <summary>Opcode byte values by name (class | operation | source, as ubpf names them).</summary>
public static class Op
{
#pragma warning disable CS1591 // each constant is its own documentation
    // ALU64
    public const byte Add64Imm = 0x07, Add64Reg = 0x0f, Sub64Imm = 0x17, Sub64Reg = 0x1f;
    public const byte Mul64Imm = 0x27, Mul64Reg = 0x2f, Div64Imm = 0x37, Div64Reg = 0x3f;
    public const byte Or64Imm = 0x47, Or64Reg = 0x4f, And64Imm = 0x57, And64Reg = 0x5f;
    public const byte Lsh64Imm = 0x67, Lsh64Reg = 0x6f, Rsh64Imm = 0x77, Rsh64Reg = 0x7f;
    public const byte Neg64 = 0x87, Mod64Imm = 0x97, Mod64Reg = 0x9f, Xor64Imm = 0xa7, Xor64Reg = 0xaf;
    public const byte Mov64Imm = 0xb7, Mov64Reg = 0xbf, Arsh64Imm = 0xc7, Arsh64Reg = 0xcf;
    public const byte Bswap = 0xd7;

    // ALU (32-bit)
    public const byte Add32Imm = 0x04, Add32Reg = 0x0c, Sub32Imm = 0x14, Sub32Reg = 0x1c;
    public const byte Mul32Imm = 0x24, Mul32Reg = 0x2c, Div32Imm = 0x34, Div32Reg = 0x3c;
    public const byte Or32Imm = 0x44, Or32Reg = 0x4c, And32Imm = 0x54, And32Reg = 0x5c;
    public const byte Lsh32Imm = 0x64, Lsh32Reg = 0x6c, Rsh32Imm = 0x74, Rsh32Reg = 0x7c;
    public const byte Neg32 = 0x84, Mod32Imm = 0x94, Mod32Reg = 0x9c, Xor32Imm = 0xa4, Xor32Reg = 0xac;
    public const byte Mov32Imm = 0xb4, Mov32Reg = 0xbc, Arsh32Imm = 0xc4, Arsh32Reg = 0xcc;
    public const byte Le = 0xd4, Be = 0xdc;

    // JMP
    public const byte Ja = 0x05, JeqImm = 0x15, JeqReg = 0x1d, JgtImm = 0x25, JgtReg = 0x2d;
    public const byte JgeImm = 0x35, JgeReg = 0x3d, JsetImm = 0x45, JsetReg = 0x4d;
    public const byte JneImm = 0x55, JneReg = 0x5d, JsgtImm = 0x65, JsgtReg = 0x6d;
    public const byte JsgeImm = 0x75, JsgeReg = 0x7d, Call = 0x85, CallX = 0x8d, Exit = 0x95;
    public const byte JltImm = 0xa5, JltReg = 0xad, JleImm = 0xb5, JleReg = 0xbd;
    public const byte JsltImm = 0xc5, JsltReg = 0xcd, JsleImm = 0xd5, JsleReg = 0xdd;

    // JMP32
    public const byte Ja32 = 0x06, Jeq32Imm = 0x16, Jeq32Reg = 0x1e, Jgt32Imm = 0x26, Jgt32Reg = 0x2e;
    public const byte Jge32Imm = 0x36, Jge32Reg = 0x3e, Jset32Imm = 0x46, Jset32Reg = 0x4e;
    public const byte Jne32Imm = 0x56, Jne32Reg = 0x5e, Jsgt32Imm = 0x66, Jsgt32Reg = 0x6e;
    public const byte Jsge32Imm = 0x76, Jsge32Reg = 0x7e;
    public const byte Jlt32Imm = 0xa6, Jlt32Reg = 0xae, Jle32Imm = 0xb6, Jle32Reg = 0xbe;
    public const byte Jslt32Imm = 0xc6, Jslt32Reg = 0xce, Jsle32Imm = 0xd6, Jsle32Reg = 0xde;

    // LD
    public const byte LdDw = 0x18;
    public const byte LdAbsW = 0x20, LdAbsH = 0x28, LdAbsB = 0x30;
    public const byte LdIndW = 0x40, LdIndH = 0x48, LdIndB = 0x50;

    // LDX
    public const byte LdxW = 0x61, LdxH = 0x69, LdxB = 0x71, LdxDw = 0x79;
    public const byte LdxSW = 0x81, LdxSH = 0x89, LdxSB = 0x91;

    // ST / STX
    public const byte StW = 0x62, StH = 0x6a, StB = 0x72, StDw = 0x7a;
    public const byte StxW = 0x63, StxH = 0x6b, StxB = 0x73, StxDw = 0x7b;
    public const byte AtomicW = 0xc3, AtomicDw = 0xdb;
#pragma warning restore CS1591
}
