namespace VethXdp.Kernel;

/// <summary>What a cross-check leaves out.</summary>
public enum CrossCheckSkipField
{
    /// <summary>Bytes [Start, End) of the frame after the program, counted from data (not data_meta).</summary>
    Data,
    /// <summary>A map: all of it, or bytes [Start, End) of every value (of every CPU's value).</summary>
    Map,
    /// <summary>Ring buffer and perf event records.</summary>
    Events,
    /// <summary>trace_printk output.</summary>
    Trace,
}
