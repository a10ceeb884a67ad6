using System.Collections.ObjectModel;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Elf;

/// <summary>An executable (SHF_EXECINSTR) section of the object, split into instruction slots but not validated.</summary>
public sealed class ElfCodeSection
{
    private readonly Instruction[] _slots;

    /// <summary>Creates the section.</summary>
    /// <param name="name">The section name.</param>
    /// <param name="index">The section header index.</param>
    /// <param name="address">sh_addr.</param>
    /// <param name="slots">The slots (the array is kept, not copied).</param>
    public ElfCodeSection(string name, int index, ulong address, Instruction[] slots)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(slots);
        Name = name;
        Index = index;
        Address = address;
        _slots = slots;
    }

    /// <summary>The section name (<c>xdp</c>, <c>.text</c>, <c>xdp.frags</c>, ...).</summary>
    public string Name { get; }

    /// <summary>The section header index.</summary>
    public int Index { get; }

    /// <summary>sh_addr (0 in objects written by clang); llvm-objdump adds it to every address it prints.</summary>
    public ulong Address { get; }

    /// <summary>The slots, little-endian decoded; may be empty (clang always emits an empty <c>.text</c>).</summary>
    public ReadOnlyCollection<Instruction> Slots => Array.AsReadOnly(_slots);

    /// <summary>The slots as a span.</summary>
    public ReadOnlySpan<Instruction> SlotSpan => _slots;

    /// <summary>The number of slots.</summary>
    public int SlotCount => _slots.Length;

    /// <summary>The section size in bytes.</summary>
    public int SizeBytes => _slots.Length * Instruction.Size;

    /// <inheritdoc/>
    public override string ToString() => $"{Name} (section {Index}, {_slots.Length} slots)";
}
