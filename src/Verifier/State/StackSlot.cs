using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VethXdp.Verifier.State;

/// <summary>The types of the 8 bytes of one stack slot, in the kernel's index order: index 0 is the byte just below
/// the slot's top (<c>fp-1</c> for slot 0), index 7 the slot's lowest byte (<c>fp-8</c>).</summary>
[InlineArray(8)]
public struct SlotTypes
{
    private SlotType _b0;
}

/// <summary>One 8-byte stack slot (<c>struct bpf_stack_state</c>): its byte types and, when it holds a spilled
/// register, that register's state.</summary>
[StructLayout(LayoutKind.Auto)]
public struct StackSlot : IEquatable<StackSlot>
{
    /// <summary>The byte types (<c>slot_type</c>).</summary>
    public SlotTypes Types;

    /// <summary>The spilled register (<c>spilled_ptr</c>), meaningful when <see cref="IsSpill"/>.</summary>
    public RegState Spilled;

    /// <summary>A slot nobody wrote.</summary>
    public static StackSlot Empty => new() { Spilled = RegState.NotInit };

    /// <summary>True when the lowest byte is STACK_SPILL (<c>is_spilled_reg</c>).</summary>
    public readonly bool IsSpill => Types[7] == SlotType.Spill;

    /// <summary>True when a whole register was spilled here (all 8 bytes STACK_SPILL).</summary>
    public readonly bool IsFullSpill
    {
        get
        {
            for (int i = 0; i < 8; i++)
            {
                if (Types[i] != SlotType.Spill)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>True when every byte is STACK_INVALID.</summary>
    public readonly bool IsInvalid
    {
        get
        {
            for (int i = 0; i < 8; i++)
            {
                if (Types[i] != SlotType.Invalid)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <inheritdoc/>
    public readonly bool Equals(StackSlot other)
    {
        for (int i = 0; i < 8; i++)
        {
            if (Types[i] != other.Types[i])
            {
                return false;
            }
        }

        return !IsSpill || Spilled.Equals(other.Spilled);
    }

    /// <inheritdoc/>
    public override readonly bool Equals(object? obj) => obj is StackSlot s && Equals(s);

    /// <inheritdoc/>
    public override readonly int GetHashCode() => HashCode.Combine(Types[0], Types[7], Spilled.Type);

    /// <summary>Equality.</summary>
    public static bool operator ==(StackSlot left, StackSlot right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(StackSlot left, StackSlot right) => !left.Equals(right);
}
