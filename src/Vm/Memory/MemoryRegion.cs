namespace VethXdp.Vm.Memory;

/// <summary>A range of host memory a program may access: [Start, Start + Length).</summary>
/// <param name="Start">Host address of the first byte.</param>
/// <param name="Length">Length in bytes.</param>
/// <param name="Kind">What the region holds.</param>
/// <param name="Writable">False for read-only regions (the context, .rodata).</param>
/// <param name="Name">Name used in fault messages ("stack frame 0", "packet").</param>
public readonly record struct MemoryRegion(ulong Start, ulong Length, RegionKind Kind, bool Writable, string Name)
{
    /// <summary>Address one past the last byte.</summary>
    public ulong End => Start + Length;

    /// <summary>True when the <paramref name="size"/> bytes at <paramref name="address"/> all lie inside the region.</summary>
    public bool Contains(ulong address, int size)
    {
        // Unsigned arithmetic: an address below Start wraps to a huge offset.
        ulong offset = address - Start;
        return offset < Length && Length - offset >= (ulong)size;
    }

    /// <summary>The region as fault messages print it: <c>stack frame 0 [0x7f..., 512 bytes)</c>.</summary>
    public override string ToString() => $"{Name} [0x{Start:x}, {Length} bytes)";
}
