namespace VethXdp.Vm.Pcap;

/// <summary>Link-layer header types (tcpdump.org's LINKTYPE_* values) that pcap and pcapng files name.</summary>
public static class LinkTypes
{
    /// <summary>LINKTYPE_NULL: BSD loopback.</summary>
    public const uint Null = 0;

    /// <summary>LINKTYPE_ETHERNET: IEEE 802.3 Ethernet, what XDP programs see.</summary>
    public const uint Ethernet = 1;

    /// <summary>LINKTYPE_RAW: raw IPv4 or IPv6, no link-layer header.</summary>
    public const uint Raw = 101;

    /// <summary>LINKTYPE_LINUX_SLL: Linux "cooked" capture (tcpdump -i any).</summary>
    public const uint LinuxSll = 113;

    /// <summary>LINKTYPE_LINUX_SLL2: Linux "cooked" capture, version 2.</summary>
    public const uint LinuxSll2 = 276;
}

/// <summary>The two capture file formats.</summary>
public enum PcapFileFormat
{
    /// <summary>Classic libpcap format (magic 0xa1b2c3d4, or 0xa1b23c4d for nanosecond timestamps).</summary>
    Pcap,

    /// <summary>pcapng (blocks, starting with a Section Header Block).</summary>
    PcapNg,
}

/// <summary>Timestamp resolution of a classic pcap file.</summary>
public enum PcapTimestampResolution
{
    /// <summary>Microseconds (magic 0xa1b2c3d4).</summary>
    Microseconds,

    /// <summary>Nanoseconds (magic 0xa1b23c4d).</summary>
    Nanoseconds,
}

/// <summary>Values of the pcapng <c>epb_flags</c> option (link-layer-dependent bits 0-1: direction).</summary>
public static class EpbFlags
{
    /// <summary>Direction not available.</summary>
    public const uint DirectionUnknown = 0;

    /// <summary>Inbound packet.</summary>
    public const uint Inbound = 1;

    /// <summary>Outbound packet.</summary>
    public const uint Outbound = 2;
}
