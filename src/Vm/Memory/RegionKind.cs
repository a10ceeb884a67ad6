namespace VethXdp.Vm.Memory;

/// <summary>What a registered memory region holds.</summary>
public enum RegionKind : byte
{
    /// <summary>One 512-byte stack frame (R10 points at its top).</summary>
    Stack,
    /// <summary>The input memory of a plain run (r1 = its address, r2 = its length).</summary>
    Input,
    /// <summary>Packet bytes of an XDP run: [data_meta, data_end).</summary>
    Packet,
    /// <summary>The program context (<c>struct xdp_md</c>): read only.</summary>
    Context,
    /// <summary>Storage of map values.</summary>
    MapValue,
    /// <summary>Global data (.data, .rodata, .bss).</summary>
    GlobalData,
}
