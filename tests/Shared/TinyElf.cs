using System.Buffers.Binary;
using System.Text;

namespace VethXdp.Tests.Shared;

// Linked into VethXdp.Vm.Tests and VethXdp.Cli.Tests (one writer for both).

/// <summary>A symbol of <see cref="TinyElf"/>: st_info is (binding &lt;&lt; 4) | type.</summary>
public sealed record TinySymbol(string Name, byte Info, ushort Shndx, ulong Value, ulong Size);

/// <summary>A minimal BPF relocatable object laid out like ELFIO writes it for bpf_conformance:
/// [0] null, [1] .shstrtab (all names, symbol names too), [2] .symtab (sh_link 1), [3] the code.</summary>
public sealed class TinyElf
{
    public string CodeSection { get; init; } = ".text";

    // r0 = 1; r0 += 2; exit
    public byte[] Code { get; init; } = Convert.FromHexString("b7000000010000000700000002000000" + "9500000000000000");

    public List<TinySymbol> Symbols { get; } = [new TinySymbol("main", 0x12, 3, 0, 24)];

    public bool HeadersFirst { get; init; }

    public uint SymtabLink { get; set; } = 1;

    public uint? SymbolNameOffsetOverride { get; set; }

    public ulong? CodeOffsetOverride { get; set; }

    /// <summary>The object bpf_conformance's runner sends with --elf: <paramref name="code"/> in
    /// <paramref name="section"/> (".text", or "xdp" with --xdp_prolog) as one global function "main"
    /// covering the whole section.</summary>
    public static byte[] ForRunner(byte[] code, string section)
    {
        var elf = new TinyElf { CodeSection = section, Code = code };
        elf.Symbols.Clear();
        elf.Symbols.Add(new TinySymbol("main", (1 << 4) | 2, 3, 0, (ulong)code.Length));
        return elf.Build();
    }

    public byte[] Build()
    {
        var names = new List<byte> { 0 };
        int AddName(string s)
        {
            int at = names.Count;
            names.AddRange(Encoding.ASCII.GetBytes(s));
            names.Add(0);
            return at;
        }

        int nShstrtab = AddName(".shstrtab"), nSymtab = AddName(".symtab"), nCode = AddName(CodeSection);
        var symtab = new byte[24 * (Symbols.Count + 1)];
        for (int i = 0; i < Symbols.Count; i++)
        {
            var s = Symbols[i];
            var e = symtab.AsSpan(24 * (i + 1));
            BinaryPrimitives.WriteUInt32LittleEndian(e, SymbolNameOffsetOverride ?? (uint)AddName(s.Name));
            e[4] = s.Info;
            BinaryPrimitives.WriteUInt16LittleEndian(e[6..], s.Shndx);
            BinaryPrimitives.WriteUInt64LittleEndian(e[8..], s.Value);
            BinaryPrimitives.WriteUInt64LittleEndian(e[16..], s.Size);
        }

        const int sectionCount = 4, ehdr = 64;
        int tableSize = 64 * sectionCount;
        int dataStart = HeadersFirst ? ehdr + tableSize : ehdr;
        int shstrtabOff = dataStart, symtabOff = Align(shstrtabOff + names.Count), codeOff = Align(symtabOff + symtab.Length);
        int end = codeOff + Code.Length;
        int shoff = HeadersFirst ? ehdr : Align(end);
        var file = new byte[Math.Max(end, HeadersFirst ? end : shoff + tableSize)];

        "\x7f"u8.CopyTo(file);
        "ELF"u8.CopyTo(file.AsSpan(1));
        file[4] = 2;
        file[5] = 1;
        file[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(0x10), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(0x12), 247);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(0x14), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(0x28), (ulong)shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(0x34), ehdr);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(0x3a), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(0x3c), sectionCount);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(0x3e), 1);

        names.ToArray().CopyTo(file, shstrtabOff);
        symtab.CopyTo(file, symtabOff);
        Code.CopyTo(file, codeOff);

        WriteHeader(file, shoff, 1, nShstrtab, 3, 0, (ulong)shstrtabOff, (ulong)names.Count, 0, 0, 1);
        WriteHeader(file, shoff, 2, nSymtab, 2, 0, (ulong)symtabOff, (ulong)symtab.Length, SymtabLink, 24, 4);
        WriteHeader(file, shoff, 3, nCode, 1, 0x6, CodeOffsetOverride ?? (ulong)codeOff, (ulong)Code.Length, 0, 0, 4);
        return file;
    }

    private static int Align(int value) => (value + 7) & ~7;

    private static void WriteHeader(byte[] file, int shoff, int index, int name, uint type, ulong flags, ulong offset, ulong size, uint link, ulong entsize, ulong align)
    {
        var h = file.AsSpan(shoff + (64 * index), 64);
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)name);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], type);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(h[0x18..], offset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[0x20..], size);
        BinaryPrimitives.WriteUInt32LittleEndian(h[0x28..], link);
        BinaryPrimitives.WriteUInt32LittleEndian(h[0x2c..], type == 2 ? 1u : 0u);
        BinaryPrimitives.WriteUInt64LittleEndian(h[0x30..], align);
        BinaryPrimitives.WriteUInt64LittleEndian(h[0x38..], entsize);
    }
}
