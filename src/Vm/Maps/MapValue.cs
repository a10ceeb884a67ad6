using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace VethXdp.Vm.Maps;

/// <summary>Value copies as the kernel's copy_map_value does them: every byte except the special fields (here the
/// 4-byte bpf_spin_lock, whose offset <see cref="MapSpec.SpinLockOffset"/> gives).</summary>
internal static class MapValue
{
    /// <summary>Size of struct bpf_spin_lock.</summary>
    public const int SpinLockSize = 4;

    /// <summary>Size of struct bpf_timer.</summary>
    public const int TimerSize = 16;

    /// <summary>copy_map_value(): <paramref name="src"/> into <paramref name="dst"/> (same length), skipping the lock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(Span<byte> dst, ReadOnlySpan<byte> src, int spinLockOffset)
    {
        if (spinLockOffset < 0)
        {
            src.CopyTo(dst);
            return;
        }

        CopyAround(dst, src, spinLockOffset);
    }

    /// <summary>check_and_init_map_value(): zero the special fields (the spin lock, the timer) in a copy of a value
    /// handed to user space.</summary>
    public static void HideSpecialFields(Span<byte> userCopy, MapSpec spec)
    {
        Hide(userCopy, spec.SpinLockOffset, SpinLockSize);
        Hide(userCopy, spec.TimerOffset, TimerSize);
        var kptrs = spec.KptrFields;
        for (int i = 0; i < kptrs.Count; i++)
        {
            Hide(userCopy, kptrs[i].Offset, KptrField.FieldSize);
        }
    }

    /// <summary>bpf_obj_free_fields() for the kptr fields: frees the object each of <paramref name="spec"/>'s kptr
    /// fields in <paramref name="value"/> holds, and clears the field (an element overwritten, deleted, or freed with
    /// its map).</summary>
    public static unsafe void FreeKptrs(ulong value, MapSpec spec)
    {
        var kptrs = spec.KptrFields;
        for (int i = 0; i < kptrs.Count; i++)
        {
            ulong* field = (ulong*)(value + (ulong)kptrs[i].Offset);
            ulong obj = Interlocked.Exchange(ref *field, 0UL);
            ObjectArena.Release(obj);
        }
    }

    private static void Hide(Span<byte> userCopy, int offset, int size)
    {
        if (offset >= 0 && offset + size <= userCopy.Length)
        {
            userCopy.Slice(offset, size).Clear();
        }
    }

    /// <summary>Clears <paramref name="spec"/>'s kptr fields in the value at <paramref name="value"/> (what
    /// copy_map_value() leaves there after bpf_obj_free_fields()).</summary>
    public static unsafe void ClearKptrs(ulong value, MapSpec spec)
    {
        var kptrs = spec.KptrFields;
        for (int i = 0; i < kptrs.Count; i++)
        {
            *(ulong*)(value + (ulong)kptrs[i].Offset) = 0;
        }
    }

    /// <summary>A little-endian u32 key (the kernel reads it in host order; x86 and arm64 are little-endian).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint U32(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadUInt32LittleEndian(key);

    /// <summary>round_up(n, 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoundUp8(int n) => (n + 7) & ~7;

    private static void CopyAround(Span<byte> dst, ReadOnlySpan<byte> src, int off)
    {
        int n = Math.Min(dst.Length, src.Length);
        if (off >= n)
        {
            src.Slice(0, n).CopyTo(dst);
            return;
        }

        src.Slice(0, off).CopyTo(dst);
        int after = Math.Min(off + SpinLockSize, n);
        src.Slice(after, n - after).CopyTo(dst.Slice(after));
    }
}
