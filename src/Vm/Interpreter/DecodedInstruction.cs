using System.Runtime.InteropServices;

namespace VethXdp.Vm.Interpreter;

/// <summary>One slot as the interpreter's main loop runs it: 16 bytes, fields unpacked once per program.</summary>
/// <remarks>
/// <see cref="InstructionDecoder"/> builds one per slot, plus a sentinel after the last (falling off the end lands there),
/// so that the loop never bounds-checks a pc. The opcode is the slot's own, except for the few internal ones in
/// <see cref="InstructionDecoder"/> (a mov that sign-extends, the sentinel, a malformed slot); registers are 0-10
/// (a slot with another register number decodes as malformed); jump and call targets are absolute slot indices
/// relative to the slot (a target outside the program is the sentinel). <see cref="Run"/> drives the budget: when control arrives at a
/// slot other than by falling through, the loop charges the number of instructions from there up to and including
/// the next jump, call, exit or legacy packet load, which are all executed unless one of them faults.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal struct DecodedInstruction
{
    /// <summary>The opcode (or an internal one).</summary>
    public byte Opcode;

    /// <summary>The dst register, 0-10.</summary>
    public byte Dst;

    /// <summary>The src register, 0-10 (for calls and 64-bit loads: the raw src field).</summary>
    public byte Src;

    /// <summary>For loads and stores, the index of the region this site found last when it went through the region
    /// table (a hint where the next search starts; see BpfInterpreter.CheckAccess).</summary>
    public byte RegionHint;

    /// <summary>The imm field as it is (ALU64 and JMP sign-extend it at use; for a 64-bit load the low half).</summary>
    public int Imm;

    /// <summary>The off field sign-extended; for jumps and BPF-to-BPF calls the distance to the target slot (the
    /// target's index minus this one's).</summary>
    public int Offset;

    /// <summary>Instructions from this slot up to and including the next one that ends a straight run (a jump, call,
    /// exit or legacy packet load), or up to the end of the program; 0 for the sentinel.</summary>
    public int Run;
}
