using System.Collections.ObjectModel;

namespace VethXdp.Vm.Isa;

/// <summary>A validated sequence of instruction slots: the unit that is disassembled, verified and run.</summary>
/// <remarks>The raw slot array is the source of truth: pc = slot index, and a 64-bit immediate load
/// takes two slots, so jump offsets, log lines and kernel messages line up.</remarks>
public sealed class BpfProgram
{
    private readonly Instruction[] _slots;

    private BpfProgram(Instruction[] slots, string name)
    {
        _slots = slots;
        Name = name;
    }

    /// <summary>The program's name (function symbol or file name).</summary>
    public string Name { get; }

    /// <summary>The slots.</summary>
    public ReadOnlySpan<Instruction> Slots => _slots;

    /// <summary>The slots as a read-only list.</summary>
    public ReadOnlyCollection<Instruction> SlotList => Array.AsReadOnly(_slots);

    /// <summary>Number of slots.</summary>
    public int Length => _slots.Length;

    /// <summary>The slot at <paramref name="pc"/>.</summary>
    public Instruction this[int pc] => _slots[pc];

    /// <summary>The 64-bit constant of the immediate load at <paramref name="pc"/> (both slots combined).</summary>
    public ulong Imm64(int pc) => Combine(_slots[pc], _slots[pc + 1]);

    /// <summary>The 64-bit constant of a 64-bit immediate load given as its two slots.</summary>
    public static ulong Combine(Instruction lo, Instruction hi) => (uint)lo.Imm | ((ulong)(uint)hi.Imm << 32);

    /// <summary>Validates and wraps the slots; throws <see cref="BpfFormatException"/> naming the bad slot.</summary>
    public static BpfProgram Create(ReadOnlySpan<Instruction> slots, string name = "prog")
    {
        var err = InstructionValidator.Validate(slots);
        if (err is { } e)
        {
            throw new BpfFormatException(e.Pc, e.Reason);
        }

        return new BpfProgram(slots.ToArray(), name);
    }

    /// <summary>Wraps slots without validation (for tools that show bad programs, e.g. a disassembler).</summary>
    public static BpfProgram CreateUnchecked(ReadOnlySpan<Instruction> slots, string name = "prog") =>
        new(slots.ToArray(), name);

    /// <summary>Decodes little-endian bytecode and validates it.</summary>
    public static BpfProgram Decode(ReadOnlySpan<byte> bytecode, string name = "prog") =>
        Create(DecodeSlots(bytecode), name);

    /// <summary>Splits bytecode into slots without validation; throws when the length is not a multiple of 8.</summary>
    public static Instruction[] DecodeSlots(ReadOnlySpan<byte> bytecode)
    {
        if (bytecode.Length % Instruction.Size != 0)
        {
            throw new BpfFormatException(
                bytecode.Length / Instruction.Size,
                $"truncated instruction: {bytecode.Length} bytes is not a multiple of 8");
        }

        var slots = new Instruction[bytecode.Length / Instruction.Size];
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i] = Instruction.Read(bytecode.Slice(i * Instruction.Size, Instruction.Size));
        }

        return slots;
    }

    /// <summary>Encodes the program back to little-endian bytes.</summary>
    public byte[] Encode() => EncodeSlots(_slots);

    /// <summary>Encodes slots to little-endian bytes.</summary>
    public static byte[] EncodeSlots(ReadOnlySpan<Instruction> slots)
    {
        var bytes = new byte[slots.Length * Instruction.Size];
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i].Write(bytes.AsSpan(i * Instruction.Size, Instruction.Size));
        }

        return bytes;
    }
}
