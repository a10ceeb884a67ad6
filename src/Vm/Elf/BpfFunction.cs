namespace VethXdp.Vm.Elf;

/// <summary>A function in an executable section: a program entry point or a BPF-to-BPF subprogram.</summary>
/// <param name="Name">The symbol name.</param>
/// <param name="SectionName">The section holding the code.</param>
/// <param name="SectionIndex">That section's header index.</param>
/// <param name="StartSlot">The first slot, relative to the section start.</param>
/// <param name="SlotCount">The number of slots: st_size / 8, or up to the end of the section when st_size is 0.</param>
/// <param name="IsGlobal">True for STB_GLOBAL (and STB_WEAK) symbols; static subprograms are local.</param>
public sealed record BpfFunction(
    string Name,
    string SectionName,
    int SectionIndex,
    int StartSlot,
    int SlotCount,
    bool IsGlobal);
