using VethXdp.Vm.Btf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Elf;

/// <summary>What <see cref="ElfObjectReader"/> reads from a BPF ELF object: the license, the executable sections as
/// they are in the file (for disassembly), the functions and symbols, and the loaded object: BTF, maps and linked
/// programs.</summary>
/// <remarks><see cref="Sections"/> keep the unrelocated bytes; <see cref="Programs"/> are linked and relocated the
/// way libbpf prepares them for BPF_PROG_LOAD, with map references as indices into <see cref="Maps"/>.</remarks>
public sealed class BpfObject
{
    /// <summary>Creates the object model (normally done by <see cref="ElfObjectReader"/>).</summary>
    /// <param name="fileName">The file name shown in messages and in the disassembly header.</param>
    /// <param name="license">The <c>license</c> section's string, or null.</param>
    /// <param name="sections">Every executable section, in section header order.</param>
    /// <param name="functions">The functions in those sections.</param>
    /// <param name="symbols">Every symbol table entry but the null one.</param>
    public BpfObject(
        string fileName,
        string? license,
        IReadOnlyList<ElfCodeSection> sections,
        IReadOnlyList<BpfFunction> functions,
        IReadOnlyList<ElfSymbol> symbols)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(sections);
        ArgumentNullException.ThrowIfNull(functions);
        ArgumentNullException.ThrowIfNull(symbols);
        FileName = fileName;
        License = license;
        Sections = sections;
        Functions = functions;
        Symbols = symbols;
    }

    /// <summary>The file name (without directories when loaded from a path).</summary>
    public string FileName { get; }

    /// <summary>The string in the <c>license</c> section, up to its NUL; null when there is no such section.</summary>
    public string? License { get; }

    /// <summary>Every executable (SHF_EXECINSTR) section, in section header order, including empty ones.</summary>
    public IReadOnlyList<ElfCodeSection> Sections { get; }

    /// <summary>The functions: STT_FUNC symbols, and global symbols without a type, in executable sections;
    /// ordered by section, then by start.</summary>
    public IReadOnlyList<BpfFunction> Functions { get; }

    /// <summary>Every symbol table entry except the null entry 0, in table order.</summary>
    public IReadOnlyList<ElfSymbol> Symbols { get; }

    /// <summary>The maps, in libbpf's order: the legacy <c>maps</c> section, BTF-defined <c>.maps</c> (by offset),
    /// global data sections (in section order), <c>.kconfig</c>. Programs refer to them by index.</summary>
    public IReadOnlyList<MapSpec> Maps { get; init; } = [];

    /// <summary>The programs: one per function symbol in a program section (not <c>.text</c>), ordered by section
    /// and then by offset, each linked with the subprograms it calls.</summary>
    public IReadOnlyList<ProgramSpec> Programs { get; init; } = [];

    /// <summary>The object's BTF (<c>.BTF</c>), with DATASEC sizes and offsets filled in; null when it has none.</summary>
    public BtfSpec? Btf { get; init; }

    /// <summary>The object's <c>.BTF.ext</c>; null when it has none.</summary>
    public BtfExt? BtfExt { get; init; }

    /// <summary>The program whose function symbol is <paramref name="name"/>, or null.</summary>
    /// <param name="name">The function name (what <c>--prog</c> selects).</param>
    public ProgramSpec? FindProgram(string name)
    {
        foreach (var p in Programs)
        {
            if (p.Name == name)
            {
                return p;
            }
        }

        return null;
    }

    /// <summary>The map named <paramref name="name"/> (a variable's name, or a section's for global data), or null.</summary>
    /// <param name="name">The map name.</param>
    public MapSpec? FindMap(string name)
    {
        foreach (var m in Maps)
        {
            if (m.Name == name)
            {
                return m;
            }
        }

        return null;
    }

    /// <summary>The index of the map named <paramref name="name"/> in <see cref="Maps"/>, or -1.</summary>
    /// <param name="name">The map name.</param>
    public int IndexOfMap(string name)
    {
        for (int i = 0; i < Maps.Count; i++)
        {
            if (Maps[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The first executable section with this name, or null.</summary>
    /// <param name="name">The section name.</param>
    public ElfCodeSection? FindSection(string name)
    {
        foreach (var s in Sections)
        {
            if (s.Name == name)
            {
                return s;
            }
        }

        return null;
    }

    /// <summary>The function with this name in the named section, or null.</summary>
    /// <param name="sectionName">The section name.</param>
    /// <param name="functionName">The symbol name.</param>
    public BpfFunction? FindFunction(string sectionName, string functionName)
    {
        foreach (var f in Functions)
        {
            if (f.SectionName == sectionName && f.Name == functionName)
            {
                return f;
            }
        }

        return null;
    }

    /// <summary>The function's slots as a validated program named after the function.</summary>
    /// <param name="function">A function of this object.</param>
    /// <exception cref="BpfFormatException">The slots are not a well-formed program.</exception>
    public BpfProgram GetProgram(BpfFunction function)
    {
        ArgumentNullException.ThrowIfNull(function);
        ElfCodeSection? section = null;
        foreach (var s in Sections)
        {
            if (s.Index == function.SectionIndex)
            {
                section = s;
                break;
            }
        }

        if (section is null || function.StartSlot < 0 || function.SlotCount < 0
            || function.StartSlot + function.SlotCount > section.SlotCount)
        {
            throw new ArgumentException($"function {function.Name} is not in an executable section of {FileName}", nameof(function));
        }

        return BpfProgram.Create(section.SlotSpan.Slice(function.StartSlot, function.SlotCount), function.Name);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{FileName} ({Sections.Count} code sections, {Functions.Count} functions, {Programs.Count} programs, {Maps.Count} maps)";
}
