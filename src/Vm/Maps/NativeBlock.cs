using System.Runtime.InteropServices;

namespace VethXdp.Vm.Maps;

/// <summary>A zeroed block of native memory at a fixed address for the block's life (map values, ring buffers).</summary>
internal sealed unsafe class NativeBlock : SafeHandle
{
    /// <summary>Allocates <paramref name="length"/> zeroed bytes aligned to <paramref name="alignment"/> (a power of 2).</summary>
    public NativeBlock(ulong length, nuint alignment = 64)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        Length = length;
        nuint size = (nuint)Math.Max(length, 1UL);
        void* p = NativeMemory.AlignedAlloc(size, alignment);
        NativeMemory.Clear(p, size);
        SetHandle((IntPtr)p);
    }

    /// <summary>Length in bytes.</summary>
    public ulong Length { get; }

    /// <summary>The first byte.</summary>
    public byte* Pointer => (byte*)handle;

    /// <summary>The first byte's address.</summary>
    public ulong Address => (ulong)handle;

    /// <inheritdoc/>
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    public Span<byte> Slice(ulong offset, int length) => new((byte*)handle + offset, length);

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        NativeMemory.AlignedFree((void*)handle);
        return true;
    }
}
