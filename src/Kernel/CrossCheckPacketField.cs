namespace VethXdp.Kernel;

/// <summary>What of a packet's outcome two sides disagree on.</summary>
public enum PacketField
{
    /// <summary>One side refused the frame (or faulted), the other ran it; or both refused with different errors.</summary>
    Refusal,
    /// <summary>The return value.</summary>
    Retval,
    /// <summary>The bytes from data_meta to the end of the frame (length or content), or where metadata ends.</summary>
    Bytes,
    /// <summary>Ring buffer records.</summary>
    Events,
}
