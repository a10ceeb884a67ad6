namespace VethXdp.Vm.Interpreter;

/// <summary>The direction of a traced memory access.</summary>
public enum MemoryAccessKind : byte
{
    /// <summary>A read (LDX, or the read half of an atomic).</summary>
    Load,
    /// <summary>A write (ST, STX, or the write half of an atomic).</summary>
    Store,
}
