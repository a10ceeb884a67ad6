using System.Buffers.Binary;
using System.Text;
using ELFSharp.ELF;
using ELFSharp.ELF.Sections;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Elf;

/// <summary>Reads a BPF ELF object (what <c>clang -target bpf -c</c> writes) into a <see cref="BpfObject"/>, the way
/// libbpf and cilium/ebpf open one. The only user of ELFSharp in the solution.</summary>
/// <remarks>
/// <para>Accepted: ELF64, little-endian, <c>e_machine</c> 247 (EM_BPF), <c>e_type</c> ET_REL, as libbpf requires.
/// Big-endian objects (<c>-target bpfeb</c>) are refused with an <see cref="ElfLoadException"/> that says so:
/// the VM runs little-endian bytecode only.</para>
/// <para>The header, the section header table, section names and every section's extent are checked first, on the
/// raw bytes, so that each problem gets a precise message with its section and offset. ELFSharp then reads the
/// sections, their contents and the symbol entries (names come from the string table the symbol table's
/// <c>sh_link</c> names; the bpf_conformance runner's objects, written by ELFIO, link <c>.symtab</c> to
/// <c>.shstrtab</c>). Then, in libbpf's order: license, BTF (<c>.BTF</c>, <c>.BTF.ext</c>, DATASEC fixup),
/// symbols, relocations, externs (<c>.kconfig</c>, <c>.ksyms</c>), maps (legacy <c>maps</c>, BTF <c>.maps</c>,
/// global data, <c>.kconfig</c>), programs (section names, <c>.rel.maps</c> initial slots, CO-RE, data
/// relocations, linking with subprograms).</para>
/// <para>An object loads whole or not at all: every problem is an <see cref="ElfLoadException"/> naming the file,
/// the section and, where there is one, the instruction (<c>prog.o: section "xdp": insn 14: ...</c>). Exceptions
/// of the ELF library on malformed input are wrapped in one. <see cref="BpfObject.Sections"/> keep the bytes as they
/// are in the file (for the disassembler); <see cref="BpfObject.Programs"/> hold the linked, relocated copies.</para>
/// </remarks>
public static partial class ElfObjectReader
{
    /// <summary>EM_BPF, the ELF machine number of BPF objects.</summary>
    public const int EmBpf = 247;

    private const int EhdrSize = 64;
    private const int ShdrSize = 64;
    private const int SymSize = 24;
    private const ushort EtRel = 1;
    private const uint ShtNull = 0;
    private const uint ShtSymtab = 2;
    private const uint ShtStrtab = 3;
    private const uint ShtNobits = 8;
    private const ulong ShfExecinstr = 0x4;

    /// <summary>Loads the object at <paramref name="path"/>; messages name the file without its directory.</summary>
    /// <param name="path">The object file.</param>
    /// <exception cref="ElfLoadException">The file is not a well-formed little-endian BPF relocatable object.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static BpfObject Load(string path) => Load(path, ElfLoadOptions.Default);

    /// <summary>Loads the object at <paramref name="path"/> with the given kconfig values.</summary>
    /// <param name="path">The object file.</param>
    /// <param name="options">LINUX_KERNEL_VERSION and CONFIG_* values for .kconfig externs.</param>
    /// <exception cref="ElfLoadException">The object is malformed or uses something the VM does not provide.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static BpfObject Load(string path, ElfLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Load(File.ReadAllBytes(path), Path.GetFileName(path), options);
    }

    /// <summary>Loads an object from its bytes.</summary>
    /// <param name="bytes">The whole file.</param>
    /// <param name="fileName">The name used in messages and in disassembly headers.</param>
    /// <exception cref="ElfLoadException">The bytes are not a well-formed little-endian BPF relocatable object.</exception>
    public static BpfObject Load(byte[] bytes, string fileName) => Load(bytes, fileName, ElfLoadOptions.Default);

    /// <summary>Loads an object from its bytes with the given kconfig values.</summary>
    /// <param name="bytes">The whole file.</param>
    /// <param name="fileName">The name used in messages and in disassembly headers.</param>
    /// <param name="options">LINUX_KERNEL_VERSION and CONFIG_* values for .kconfig externs.</param>
    /// <exception cref="ElfLoadException">The object is malformed or uses something the VM does not provide.</exception>
    public static BpfObject Load(byte[] bytes, string fileName, ElfLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(options);
        var raw = ReadSectionHeaders(bytes, fileName);
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            using var elf = ELFReader.Load<ulong>(stream, shouldOwnStream: false);
            return Build(elf, raw, bytes, fileName, options);
        }
        catch (Exception ex) when (ex is not ElfLoadException && IsInputError(ex))
        {
            throw new ElfLoadException(fileName, null, -1, "malformed ELF object: " + ex.Message, ex);
        }
    }

    // The exceptions a parser of untrusted bytes can raise; anything else (out of memory, ...) is not ours to wrap.
    private static bool IsInputError(Exception ex) =>
        ex is ArgumentException or InvalidOperationException or IOException or IndexOutOfRangeException
            or ArithmeticException or NullReferenceException or InvalidCastException or FormatException
            or NotSupportedException or KeyNotFoundException or BpfFormatException;

    /// <summary>What the raw section header table says about one section.</summary>
    private readonly record struct RawSection(string Name, uint Type, ulong Flags, ulong Offset, ulong Size, uint Link, uint Info, ulong EntrySize);

    private static RawSection[] ReadSectionHeaders(byte[] bytes, string file)
    {
        ReadOnlySpan<byte> b = bytes;
        if (b.Length < 4 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
        {
            throw new ElfLoadException(file, null, 0, "not an ELF file (bad magic number)");
        }

        if (b.Length < EhdrSize)
        {
            throw new ElfLoadException(file, null, b.Length, $"truncated ELF header: {b.Length} of {EhdrSize} bytes");
        }

        if (b[4] != 2)
        {
            throw new ElfLoadException(file, null, 4, $"not a 64-bit ELF object (EI_CLASS {b[4]}); BPF objects are ELF64");
        }

        if (b[5] == 2)
        {
            throw new ElfLoadException(file, null, 5,
                "big-endian BPF objects (clang -target bpfeb) are not supported; build with -target bpf or bpfel");
        }

        if (b[5] != 1)
        {
            throw new ElfLoadException(file, null, 5, $"unknown data encoding (EI_DATA {b[5]})");
        }

        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(b[0x10..]);
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(b[0x12..]);
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(b[0x14..]);
        if (machine != EmBpf)
        {
            throw new ElfLoadException(file, null, 0x12, $"e_machine is {machine}, not EM_BPF ({EmBpf}): not a BPF object");
        }

        if (type != EtRel)
        {
            throw new ElfLoadException(file, null, 0x10, $"e_type is {type}, not ET_REL: BPF objects are relocatable objects");
        }

        if (b[6] != 1 || version != 1)
        {
            throw new ElfLoadException(file, null, 0x14, $"unknown ELF version {version}");
        }

        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(b[0x20..]);
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(b[0x28..]);
        ushort phentsize = BinaryPrimitives.ReadUInt16LittleEndian(b[0x36..]);
        ushort phnum = BinaryPrimitives.ReadUInt16LittleEndian(b[0x38..]);
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(b[0x3a..]);
        ushort shnum = BinaryPrimitives.ReadUInt16LittleEndian(b[0x3c..]);
        ushort shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(b[0x3e..]);

        if (phnum != 0)
        {
            // Relocatable objects have no segments; ELFSharp would try to read them.
            throw new ElfLoadException(file, null, (long)Math.Min(phoff, long.MaxValue),
                $"relocatable object with {phnum} program headers (phentsize {phentsize}); BPF objects have none");
        }

        if (shnum == 0 || shoff == 0)
        {
            throw new ElfLoadException(file, null, 0x28, "the object has no section header table");
        }

        if (shentsize != ShdrSize)
        {
            throw new ElfLoadException(file, null, 0x3a, $"section header size is {shentsize}, expected {ShdrSize}");
        }

        if (!Fits(shoff, (ulong)shnum * ShdrSize, b.Length))
        {
            throw new ElfLoadException(file, null, (long)Math.Min(shoff, long.MaxValue),
                $"section header table ({shnum} entries) extends past the end of the file ({b.Length} bytes)");
        }

        if (shstrndx == 0 || shstrndx >= shnum)
        {
            throw new ElfLoadException(file, null, 0x3e, $"section name table index {shstrndx} is not a section (of {shnum})");
        }

        var headers = new (uint Name, uint Type, ulong Flags, ulong Offset, ulong Size, uint Link, uint Info, ulong EntrySize)[shnum];
        for (int i = 0; i < shnum; i++)
        {
            var h = b.Slice((int)shoff + (i * ShdrSize), ShdrSize);
            headers[i] = (
                BinaryPrimitives.ReadUInt32LittleEndian(h),
                BinaryPrimitives.ReadUInt32LittleEndian(h[4..]),
                BinaryPrimitives.ReadUInt64LittleEndian(h[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(h[0x18..]),
                BinaryPrimitives.ReadUInt64LittleEndian(h[0x20..]),
                BinaryPrimitives.ReadUInt32LittleEndian(h[0x28..]),
                BinaryPrimitives.ReadUInt32LittleEndian(h[0x2c..]),
                BinaryPrimitives.ReadUInt64LittleEndian(h[0x38..]));
        }

        var names = headers[shstrndx];
        if (names.Type != ShtStrtab || !Fits(names.Offset, names.Size, b.Length))
        {
            throw new ElfLoadException(file, null, (long)Math.Min(names.Offset, long.MaxValue),
                $"section name table (section {shstrndx}) is not a string table inside the file");
        }

        var nameTable = b.Slice((int)names.Offset, (int)names.Size);
        var result = new RawSection[shnum];
        for (int i = 0; i < shnum; i++)
        {
            var h = headers[i];
            var name = ReadCString(nameTable, h.Name)
                ?? throw new ElfLoadException(file, null, (long)shoff + (i * ShdrSize),
                    $"section {i}: name offset 0x{h.Name:x} is outside the section name table ({names.Size} bytes)");
            if (h.Type != ShtNull && h.Type != ShtNobits && !Fits(h.Offset, h.Size, b.Length))
            {
                throw new ElfLoadException(file, name, 0,
                    $"contents (0x{h.Size:x} bytes at file offset 0x{h.Offset:x}) extend past the end of the file ({b.Length} bytes)");
            }

            result[i] = new RawSection(name, h.Type, h.Flags, h.Offset, h.Size, h.Link, h.Info, h.EntrySize);
        }

        for (int i = 0; i < shnum; i++)
        {
            // ELFSharp casts these two by name to string tables.
            if ((result[i].Name is ".strtab" or ".dynstr") && result[i].Type != ShtStrtab)
            {
                throw new ElfLoadException(file, result[i].Name, -1, $"section type {result[i].Type} is not a string table (SHT_STRTAB)");
            }
        }

        for (int i = 0; i < shnum; i++)
        {
            if (result[i].Type == ShtSymtab)
            {
                CheckSymbolTable(b, result, i, file);
            }
        }

        return result;
    }

    // Every entry whole, the string table sh_link names present, every name inside it and NUL-terminated,
    // every section index either special or existing. ELFSharp then reads the entries without surprises.
    private static void CheckSymbolTable(ReadOnlySpan<byte> b, RawSection[] raw, int index, string file)
    {
        var symtab = raw[index];
        if (symtab.Size % SymSize != 0 || (symtab.EntrySize != SymSize && symtab.EntrySize != 0))
        {
            throw new ElfLoadException(file, symtab.Name, 0,
                $"symbol table of {symtab.Size} bytes with entry size {symtab.EntrySize} is not a whole number of {SymSize}-byte entries");
        }

        if (symtab.Link == 0 || symtab.Link >= raw.Length || raw[symtab.Link].Type != ShtStrtab)
        {
            throw new ElfLoadException(file, symtab.Name, -1, $"sh_link {symtab.Link} does not name a string table");
        }

        var strings = raw[symtab.Link];
        var stringTable = b.Slice((int)strings.Offset, (int)strings.Size);
        var entries = b.Slice((int)symtab.Offset, (int)symtab.Size);
        for (int i = 1; i < entries.Length / SymSize; i++)
        {
            var e = entries.Slice(i * SymSize, SymSize);
            uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(e);
            var name = ReadCString(stringTable, nameOffset)
                ?? throw new ElfLoadException(file, symtab.Name, i * SymSize,
                    $"symbol {i}: name offset 0x{nameOffset:x} is outside the string table \"{strings.Name}\" ({strings.Size} bytes)");
            int shndx = BinaryPrimitives.ReadUInt16LittleEndian(e[6..]);
            if (shndx != ElfSymbol.UndefinedSection && shndx < ElfSymbol.ReservedSectionStart && shndx >= raw.Length)
            {
                throw new ElfLoadException(file, symtab.Name, i * SymSize,
                    $"symbol \"{name}\" refers to section {shndx}, but the object has {raw.Length} sections");
            }
        }
    }

    private static BpfObject Build(ELF<ulong> elf, RawSection[] raw, byte[] bytes, string file, ElfLoadOptions options)
    {
        var sections = elf.Sections;
        if (sections.Count != raw.Length)
        {
            throw new ElfLoadException(file, null, -1, $"ELF reader found {sections.Count} sections, the header declares {raw.Length}");
        }

        string? license = null;
        var code = new List<ElfCodeSection>();
        var codeByIndex = new Dictionary<int, ElfCodeSection>();
        int symtabIndex = -1;
        for (int i = 1; i < sections.Count; i++)
        {
            var s = sections[i];
            if (s.Name != raw[i].Name)
            {
                throw new ElfLoadException(file, raw[i].Name, -1, $"ELF reader names section {i} \"{s.Name}\"");
            }

            if (s.Type == SectionType.NoBits)
            {
                continue;
            }

            if (license is null && s.Name == "license")
            {
                license = ReadCString(s.GetContents(), 0) ?? Encoding.UTF8.GetString(s.GetContents());
            }

            if (symtabIndex < 0 && raw[i].Type == ShtSymtab)
            {
                symtabIndex = i;
            }

            if ((s.RawFlags & ShfExecinstr) != 0)
            {
                var contents = s.GetContents();
                if (contents.Length % Instruction.Size != 0)
                {
                    throw new ElfLoadException(file, s.Name, contents.Length - (contents.Length % Instruction.Size),
                        $"size {contents.Length} is not a multiple of {Instruction.Size} (the instruction slot size)");
                }

                var section = new ElfCodeSection(s.Name, i, s.LoadAddress, BpfProgram.DecodeSlots(contents));
                code.Add(section);
                codeByIndex.Add(i, section);
            }
        }

        List<ElfSymbol> symbols = symtabIndex < 0 ? [] : ReadSymbols(elf, raw, symtabIndex, bytes, file);
        var functions = new List<BpfFunction>();
        foreach (var sym in symbols)
        {
            bool isFunction = sym.Type == ElfSymbolType.Func
                || (sym.Type == ElfSymbolType.NoType && sym.Binding != ElfSymbolBinding.Local);
            if (isFunction && codeByIndex.TryGetValue(sym.SectionIndex, out var section))
            {
                functions.Add(MakeFunction(sym, section, file));
            }
        }

        functions.Sort(static (x, y) =>
        {
            int c = x.SectionIndex.CompareTo(y.SectionIndex);
            if (c == 0)
            {
                c = x.StartSlot.CompareTo(y.StartSlot);
            }

            return c != 0 ? c : string.CompareOrdinal(x.Name, y.Name);
        });
        var ctx = new LoadContext(file, bytes, raw, options, license ?? string.Empty, codeByIndex, functions, symbols, symtabIndex);
        var loaded = LoadObject(ctx);
        return new BpfObject(file, license, code, functions, symbols)
        {
            Btf = ctx.Btf,
            BtfExt = ctx.Ext,
            Maps = loaded.Maps,
            Programs = loaded.Programs,
        };
    }

    private static List<ElfSymbol> ReadSymbols(ELF<ulong> elf, RawSection[] raw, int index, byte[] bytes, string file)
    {
        // Checked by CheckSymbolTable: whole entries, a string table link, names inside it, existing sections.
        var symtab = raw[index];
        var strings = raw[symtab.Link];
        ReadOnlySpan<byte> stringTable = bytes.AsSpan((int)strings.Offset, (int)strings.Size);
        ReadOnlySpan<byte> entriesRaw = bytes.AsSpan((int)symtab.Offset, (int)symtab.Size);

        // ELFSharp reads the entries (value, size, info, section); the names come from sh_link's table.
        if (elf.Sections[index] is not SymbolTable<ulong> table)
        {
            throw new ElfLoadException(file, symtab.Name, -1, "ELF reader did not read the section as a symbol table");
        }

        var entries = table.Entries.ToList();
        int count = (int)(symtab.Size / SymSize);
        if (entries.Count != count)
        {
            throw new ElfLoadException(file, symtab.Name, -1, $"ELF reader found {entries.Count} symbols, expected {count}");
        }

        var result = new List<ElfSymbol>(Math.Max(0, count - 1));
        for (int i = 1; i < count; i++)
        {
            var e = entries[i];
            uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(entriesRaw[(i * SymSize)..]);
            var name = ReadCString(stringTable, nameOffset)!;
            result.Add(new ElfSymbol(i, name, (ElfSymbolType)(int)e.Type, (ElfSymbolBinding)(int)e.Binding, e.PointedSectionIndex, e.Value, e.Size));
        }

        return result;
    }

    private static BpfFunction MakeFunction(ElfSymbol sym, ElfCodeSection section, string file)
    {
        ulong sectionSize = (ulong)section.SizeBytes;
        long at = (long)Math.Min(sym.Value, long.MaxValue);
        if (sym.Value > sectionSize)
        {
            throw new ElfLoadException(file, section.Name, at,
                $"function \"{sym.Name}\" starts beyond the end of the section ({sectionSize} bytes)");
        }

        if (sym.Value % Instruction.Size != 0)
        {
            throw new ElfLoadException(file, section.Name, at,
                $"function \"{sym.Name}\" does not start on an instruction slot boundary");
        }

        if (sym.Size % Instruction.Size != 0)
        {
            throw new ElfLoadException(file, section.Name, at,
                $"function \"{sym.Name}\" has size {sym.Size}, not a whole number of instruction slots");
        }

        if (sym.Size > sectionSize - sym.Value)
        {
            throw new ElfLoadException(file, section.Name, at,
                $"function \"{sym.Name}\" ({sym.Size} bytes) runs past the end of the section ({sectionSize} bytes)");
        }

        int start = (int)(sym.Value / Instruction.Size);
        int count = sym.Size == 0 ? section.SlotCount - start : (int)(sym.Size / Instruction.Size);
        return new BpfFunction(sym.Name, section.Name, section.Index, start, count, sym.Binding != ElfSymbolBinding.Local);
    }

    private static bool Fits(ulong offset, ulong size, int fileLength) =>
        offset <= (ulong)fileLength && size <= (ulong)fileLength - offset;

    // A NUL-terminated string at offset; null when the offset or the terminator lies outside the table.
    private static string? ReadCString(ReadOnlySpan<byte> table, ulong offset)
    {
        if (offset >= (ulong)table.Length)
        {
            return offset == 0 ? string.Empty : null;
        }

        var rest = table[(int)offset..];
        int end = rest.IndexOf((byte)0);
        return end < 0 ? null : Encoding.UTF8.GetString(rest[..end]);
    }
}
