namespace VethXdp.Vm.Elf;

/// <summary>One entry of the object's symbol table, as stored (the null entry 0 is left out).</summary>
/// <param name="Index">The entry's index in the symbol table (what relocations refer to).</param>
/// <param name="Name">The name, from the string table the symbol table links to; may be empty.</param>
/// <param name="Type">STT_*; values above 6 are kept as they are.</param>
/// <param name="Binding">STB_*; values above 2 are kept as they are.</param>
/// <param name="SectionIndex">st_shndx: 0 for undefined, 0xfff1 for absolute, 0xfff2 for common, else a section index.</param>
/// <param name="Value">st_value: for a symbol in a section, its byte offset in that section.</param>
/// <param name="Size">st_size in bytes.</param>
public sealed record ElfSymbol(
    int Index,
    string Name,
    ElfSymbolType Type,
    ElfSymbolBinding Binding,
    int SectionIndex,
    ulong Value,
    ulong Size)
{
    /// <summary>SHN_UNDEF.</summary>
    public const int UndefinedSection = 0;

    /// <summary>SHN_LORESERVE: indices from here on are special, not sections.</summary>
    public const int ReservedSectionStart = 0xff00;

    /// <summary>True when <see cref="SectionIndex"/> names a real section.</summary>
    public bool IsInSection => SectionIndex != UndefinedSection && SectionIndex < ReservedSectionStart;
}
