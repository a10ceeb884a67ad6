using System.Buffers.Binary;
using System.Text;

namespace VethXdp.Cli.Tests;

/// <summary>Writes the ELF object the bpf_conformance runner sends with <c>--elf</c>, laid out as its ELFIO writer does.</summary>
/// <remarks>Sections: [0] null, [1] .shstrtab (also holds the symbol names, since .symtab's sh_link points at it),
/// [2] .symtab (a null symbol, then one STT_FUNC STB_GLOBAL symbol for the whole code section), [3] the code
/// section (SHF_ALLOC | SHF_EXECINSTR, alignment 4). ET_REL, EM_BPF (247), ELF64 little-endian.</remarks>
public static class RunnerElfWriter
{
    private const int EhSize = 64, ShEntSize = 64, SymEntSize = 24;

    /// <summary>The object for <paramref name="code"/> in <paramref name="sectionName"/> as function <paramref name="functionName"/>.</summary>
    public static byte[] Write(ReadOnlySpan<byte> code, string sectionName, string functionName = "main")
    {
        // String table: "\0.shstrtab\0.symtab\0<section>\0<function>\0"
        var strtab = new List<byte> { 0 };
        int AddString(string s)
        {
            int at = strtab.Count;
            strtab.AddRange(Encoding.ASCII.GetBytes(s));
            strtab.Add(0);
            return at;
        }

        int nShstrtab = AddString(".shstrtab"), nSymtab = AddString(".symtab"), nCode = AddString(sectionName), nFunc = AddString(functionName);

        var symtab = new byte[2 * SymEntSize];
        var sym = symtab.AsSpan(SymEntSize);
        BinaryPrimitives.WriteUInt32LittleEndian(sym, (uint)nFunc);
        sym[4] = (1 << 4) | 2;                                   // STB_GLOBAL, STT_FUNC
        sym[5] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(sym[6..], 3);   // st_shndx: the code section
        BinaryPrimitives.WriteUInt64LittleEndian(sym[8..], 0);   // st_value
        BinaryPrimitives.WriteUInt64LittleEndian(sym[16..], (ulong)code.Length);

        // Layout: header, .shstrtab, .symtab (8-aligned), code (8-aligned), section headers (8-aligned).
        int offStr = EhSize;
        int offSym = Align(offStr + strtab.Count, 8);
        int offCode = Align(offSym + symtab.Length, 8);
        int offSh = Align(offCode + code.Length, 8);
        var elf = new byte[offSh + (4 * ShEntSize)];
        var s = elf.AsSpan();

        s[0] = 0x7f; s[1] = (byte)'E'; s[2] = (byte)'L'; s[3] = (byte)'F';
        s[4] = 2; s[5] = 1; s[6] = 1;                            // ELFCLASS64, ELFDATA2LSB, EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(s[16..], 1);    // ET_REL
        BinaryPrimitives.WriteUInt16LittleEndian(s[18..], 247);  // EM_BPF
        BinaryPrimitives.WriteUInt32LittleEndian(s[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(s[40..], (ulong)offSh);
        BinaryPrimitives.WriteUInt16LittleEndian(s[52..], EhSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[58..], ShEntSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[60..], 4);    // e_shnum
        BinaryPrimitives.WriteUInt16LittleEndian(s[62..], 1);    // e_shstrndx

        strtab.ToArray().CopyTo(s[offStr..]);
        symtab.CopyTo(s[offSym..]);
        code.CopyTo(s[offCode..]);

        SectionHeader(s[(offSh + ShEntSize)..], nShstrtab, type: 3, flags: 0, offStr, strtab.Count, link: 0, info: 0, align: 1, entsize: 0);
        SectionHeader(s[(offSh + (2 * ShEntSize))..], nSymtab, type: 2, flags: 0, offSym, symtab.Length, link: 1, info: 1, align: 4, entsize: SymEntSize);
        SectionHeader(s[(offSh + (3 * ShEntSize))..], nCode, type: 1, flags: 0x6, offCode, code.Length, link: 0, info: 0, align: 4, entsize: 0);
        return elf;
    }

    private static void SectionHeader(Span<byte> h, int name, uint type, ulong flags, int offset, int size, uint link, uint info, ulong align, ulong entsize)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)name);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], type);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(h[24..], (ulong)offset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[32..], (ulong)size);
        BinaryPrimitives.WriteUInt32LittleEndian(h[40..], link);
        BinaryPrimitives.WriteUInt32LittleEndian(h[44..], info);
        BinaryPrimitives.WriteUInt64LittleEndian(h[48..], align);
        BinaryPrimitives.WriteUInt64LittleEndian(h[56..], entsize);
    }

    private static int Align(int x, int a) => (x + a - 1) / a * a;
}
