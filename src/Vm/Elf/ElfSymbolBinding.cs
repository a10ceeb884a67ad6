namespace VethXdp.Vm.Elf;

/// <summary>The binding of an ELF symbol (<c>ELF64_ST_BIND(st_info)</c>, the high four bits).</summary>
public enum ElfSymbolBinding : byte
{
    /// <summary>STB_LOCAL: visible in this object only (static functions and data).</summary>
    Local = 0,
    /// <summary>STB_GLOBAL: visible to the linker.</summary>
    Global = 1,
    /// <summary>STB_WEAK: global with lower precedence.</summary>
    Weak = 2,
}
