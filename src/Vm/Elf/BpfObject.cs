using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Elf;

/// <summary>What <see cref="ElfObjectReader"/> reads from a BPF ELF object: the license, the executable sections,
/// the functions in them and the raw symbol table.</summary>
/// <remarks>Sections are listed as they are; naming programs after their section (<c>xdp</c>, <c>xdp.frags</c>)
/// the way libbpf does, relocations and maps are later stages.</remarks>
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
    public override string ToString() => $"{FileName} ({Sections.Count} code sections, {Functions.Count} functions)";
}
