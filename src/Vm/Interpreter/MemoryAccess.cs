using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Interpreter;

/// <summary>One memory access of a traced instruction.</summary>
/// <param name="Kind">Load or store.</param>
/// <param name="Address">The host address of the first byte.</param>
/// <param name="Size">The access size in bytes (1, 2, 4 or 8).</param>
/// <param name="Value">The value read (as the destination register got it; a context load of data, data_end or
/// data_meta gives the 64-bit pointer) or written (zero-extended from <paramref name="Size"/> bytes).</param>
/// <param name="Region">The region that holds the bytes.</param>
public readonly record struct MemoryAccess(MemoryAccessKind Kind, ulong Address, int Size, ulong Value, MemoryRegion Region);
