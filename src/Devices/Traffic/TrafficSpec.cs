namespace VethXdp.Devices.Traffic;

/// <summary>What the pktgen-like source sends: N flows of UDP (or TCP) frames of one size into a NIC, or the frames of
/// a pcap file.</summary>
public sealed record TrafficSpec
{
    /// <summary>The NIC the frames arrive on.</summary>
    public string Device { get; init; } = "eth0";

    /// <summary>Flows: flow i uses source port <see cref="SrcPort"/> + i (pktgen's udp_src_min..max).</summary>
    public int Flows { get; init; } = 1;

    /// <summary>Frame length without the FCS (pktgen pkt_size 64 sends 60 bytes plus the 4-byte FCS). 64.</summary>
    public int FrameSize { get; init; } = 64;

    /// <summary>Frames to send (the command's --packets overrides it).</summary>
    public long Packets { get; init; } = 10_000;

    /// <summary>"udp" or "tcp".</summary>
    public string Protocol { get; init; } = "udp";

    /// <summary>Source address (IPv4 dotted or IPv6).</summary>
    public string Src { get; init; } = "198.18.0.1";

    /// <summary>Destination address.</summary>
    public string Dst { get; init; } = "198.18.1.1";

    /// <summary>First source port.</summary>
    public int SrcPort { get; init; } = 9;

    /// <summary>Destination port.</summary>
    public int DstPort { get; init; } = 9;

    /// <summary>Source MAC.</summary>
    public string SrcMac { get; init; } = "02:00:00:00:00:01";

    /// <summary>Destination MAC.</summary>
    public string DstMac { get; init; } = "02:00:00:00:00:02";

    /// <summary>A pcap/pcapng file whose frames are sent in turn instead (each frame is a flow).</summary>
    public string? Pcap { get; init; }
}
