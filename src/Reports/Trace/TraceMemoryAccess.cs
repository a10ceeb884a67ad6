using System.Globalization;

namespace VethXdp.Reports.Trace;

/// <summary>A load or store an instruction made, named by region: <c>pkt+12</c>, <c>fp-8</c>, <c>ctx+4</c>,
/// <c>map_value(flows)+4</c>, <c>.rodata+2</c>.</summary>
/// <param name="Op">"load" or "store".</param>
/// <param name="Region">The region's name: <c>pkt</c> (offsets from data), <c>meta</c> (from data_meta), <c>fp</c>
/// (from the frame's r10), <c>ctx</c>, <c>map_value(NAME)</c> (from the value's start), a global data section's name
/// (<c>.rodata</c>), <c>mem</c> (a plain run's input), or the interpreter's name for any other region.</param>
/// <param name="Offset">The offset in the region.</param>
/// <param name="Size">Bytes accessed.</param>
/// <param name="Value">The value read or written.</param>
/// <param name="Address">The host address.</param>
/// <param name="Frame">For <c>fp</c>: the call frame whose stack it is.</param>
/// <param name="OwnFrame">For <c>fp</c>: true when the frame is the instruction's own.</param>
public sealed record TraceMemoryAccess(string Op, string Region, long Offset, int Size, ulong Value, ulong Address, int? Frame, bool OwnFrame = true)
{
    /// <summary>The location as text: <c>pkt+12</c>, <c>fp-8</c>, <c>frame0:fp-8</c> (another frame's stack).</summary>
    public string Location
    {
        get
        {
            string off = Offset >= 0 ? "+" + Offset.ToString(CultureInfo.InvariantCulture) : Offset.ToString(CultureInfo.InvariantCulture);
            string prefix = Frame is { } f && !OwnFrame ? "frame" + f.ToString(CultureInfo.InvariantCulture) + ":" : string.Empty;
            return prefix + Region + off;
        }
    }
}
