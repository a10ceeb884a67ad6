namespace VethXdp.Vm.Elf;

/// <summary>The type of an ELF symbol (<c>ELF64_ST_TYPE(st_info)</c>, the low four bits).</summary>
public enum ElfSymbolType : byte
{
    /// <summary>STT_NOTYPE: a label (assembler labels, some global entry points).</summary>
    NoType = 0,
    /// <summary>STT_OBJECT: data (maps, globals, the license string).</summary>
    Object = 1,
    /// <summary>STT_FUNC: a function (a BPF program or subprogram).</summary>
    Func = 2,
    /// <summary>STT_SECTION: the section itself (relocation anchor).</summary>
    Section = 3,
    /// <summary>STT_FILE: the source file name.</summary>
    File = 4,
    /// <summary>STT_COMMON: an uninitialised common block.</summary>
    Common = 5,
    /// <summary>STT_TLS: thread-local data.</summary>
    Tls = 6,
}
