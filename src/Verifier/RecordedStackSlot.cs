using VethXdp.Verifier.State;

namespace VethXdp.Verifier;

/// <summary>One 8-byte stack slot of the innermost frame as the verifier knew it when a path reached an instruction
/// (a frozen copy of the kernel's <c>struct bpf_stack_state</c>); only slots with some byte written are recorded.</summary>
/// <param name="Offset">The slot's lowest byte relative to the frame pointer: -8 for <c>fp-8</c>, -16, ...</param>
/// <param name="Types">The eight byte types as the kernel's log prints them after <c>fp-8=</c> (<c>?</c> invalid,
/// <c>r</c> spilled register, <c>m</c> misc, <c>0</c> zero, <c>d</c> dynptr, <c>i</c> iterator, <c>f</c> irq flag):
/// the first character is the slot's highest byte (<c>fp-1</c> for <c>fp-8</c>), the last its lowest.</param>
/// <param name="Spilled">The spilled register when the slot's lowest byte is <c>r</c>, else a
/// <see cref="RegType.NotInit"/> register. A spill narrower than 8 bytes (a 32-bit scalar stored with
/// <c>*(u32 *)(r10 -8) = w1</c>) marks only its own bytes <c>r</c>, from the lowest up.</param>
public readonly record struct RecordedStackSlot(int Offset, string Types, RecordedRegister Spilled)
{
    /// <summary>The type of the byte at <c>fp + Offset + <paramref name="k"/></c> (0 = the slot's lowest byte).</summary>
    /// <param name="k">0-7.</param>
    public SlotType ByteType(int k) => Types[7 - k] switch
    {
        'r' => SlotType.Spill,
        'm' => SlotType.Misc,
        '0' => SlotType.Zero,
        'd' => SlotType.Dynptr,
        'i' => SlotType.Iter,
        'f' => SlotType.IrqFlag,
        _ => SlotType.Invalid,
    };

    /// <summary>The number of spilled bytes, counted from the lowest (8 for a whole register, 0 for none).</summary>
    public int SpillBytes
    {
        get
        {
            int n = 0;
            while (n < 8 && Types[7 - n] == 'r')
            {
                n++;
            }

            return n;
        }
    }

    /// <summary>The kernel log's character for a byte type.</summary>
    /// <param name="t">The type.</param>
    public static char TypeChar(SlotType t) => t switch
    {
        SlotType.Spill => 'r',
        SlotType.Misc => 'm',
        SlotType.Zero => '0',
        SlotType.Dynptr => 'd',
        SlotType.Iter => 'i',
        SlotType.IrqFlag => 'f',
        _ => '?',
    };

    /// <summary>A frozen copy of a verifier stack slot.</summary>
    /// <param name="spi">The slot index (0 = <c>fp-8</c>).</param>
    /// <param name="slot">The slot.</param>
    public static RecordedStackSlot From(int spi, in StackSlot slot)
    {
        Span<char> types = stackalloc char[8];
        for (int i = 0; i < 8; i++)
        {
            types[i] = TypeChar(slot.Types[i]);
        }

        var spilled = slot.IsSpill ? RecordedRegister.From(in slot.Spilled) : RecordedRegister.From(RegState.NotInit);
        return new RecordedStackSlot(-8 * (spi + 1), new string(types), spilled);
    }
}
