using VethXdp.Testing.Model;

namespace VethXdp.Testing;

/// <summary>How often the generator picks each kind of header, option and defect. Weights within a group are relative
/// (0 turns a choice off); the <c>...Percent</c> values are chances. Change them with <c>with</c>:
/// <c>Frames.Spec().Weights(w =&gt; w with { Vlan = 0, Tcp = 80 })</c>.</summary>
public sealed record FrameWeights
{
    /// <summary>The default weights.</summary>
    public static FrameWeights Default { get; } = new();

    /// <summary>No VLAN tag.</summary>
    public int Untagged { get; init; } = 70;

    /// <summary>One 802.1Q tag.</summary>
    public int Vlan { get; init; } = 20;

    /// <summary>QinQ: an 802.1ad tag, then an 802.1Q tag.</summary>
    public int QinQ { get; init; } = 10;

    /// <summary>IPv4 after the link layer.</summary>
    public int Ipv4 { get; init; } = 45;

    /// <summary>IPv6 after the link layer.</summary>
    public int Ipv6 { get; init; } = 30;

    /// <summary>ARP after the link layer.</summary>
    public int Arp { get; init; } = 10;

    /// <summary>Another EtherType (LLDP, PPPoE, MPLS, experimental, an 802.3 length) and raw payload.</summary>
    public int OtherEtherType { get; init; } = 15;

    /// <summary>TCP over IP.</summary>
    public int Tcp { get; init; } = 40;

    /// <summary>UDP over IP.</summary>
    public int Udp { get; init; } = 30;

    /// <summary>ICMP over IPv4, ICMPv6 over IPv6.</summary>
    public int Icmp { get; init; } = 15;

    /// <summary>Another IP protocol (ESP, SCTP, IGMP, experimental, or no next header) and raw payload.</summary>
    public int OtherProtocol { get; init; } = 15;

    /// <summary>No tunnel.</summary>
    public int NoTunnel { get; init; } = 82;

    /// <summary>GRE over IP, carrying IP or Ethernet (0x6558).</summary>
    public int Gre { get; init; } = 6;

    /// <summary>IP in IP: IPv4 or IPv6 in IPv4 or IPv6 (protocols 4 and 41).</summary>
    public int Ipip { get; init; } = 6;

    /// <summary>VXLAN: UDP to 4789 carrying an Ethernet frame.</summary>
    public int Vxlan { get; init; } = 6;

    /// <summary>Chance of IPv4 options.</summary>
    public int Ipv4OptionsPercent { get; init; } = 20;

    /// <summary>Chance an IPv4 packet is a fragment (first, middle or last).</summary>
    public int Ipv4FragmentPercent { get; init; } = 10;

    /// <summary>Chance of IPv6 extension headers (Hop-by-Hop, Routing, Fragment, Destination Options).</summary>
    public int Ipv6ExtensionPercent { get; init; } = 25;

    /// <summary>Chance of TCP options.</summary>
    public int TcpOptionsPercent { get; init; } = 40;

    /// <summary>Chance a port is one of the favourite ports (<see cref="FrameSpec.FavourPorts"/>) rather than random.</summary>
    public int FavouritePortPercent { get; init; } = 40;

    /// <summary>Chance an address is a well-known one (broadcast, 10.0.0.1, fe80::1, ...) rather than random.</summary>
    public int FavouriteAddressPercent { get; init; } = 50;

    /// <summary>Weight of <see cref="MalformationKind.Truncated"/>.</summary>
    public int Truncated { get; init; } = 4;

    /// <summary>Weight of <see cref="MalformationKind.LengthTooLong"/>.</summary>
    public int LengthTooLong { get; init; } = 2;

    /// <summary>Weight of <see cref="MalformationKind.LengthTooShort"/>.</summary>
    public int LengthTooShort { get; init; } = 2;

    /// <summary>Weight of <see cref="MalformationKind.IhlBelowFive"/>.</summary>
    public int IhlBelowFive { get; init; } = 1;

    /// <summary>Weight of <see cref="MalformationKind.IhlBeyondFrame"/>.</summary>
    public int IhlBeyondFrame { get; init; } = 1;

    /// <summary>Weight of <see cref="MalformationKind.WrongIpVersion"/>.</summary>
    public int WrongIpVersion { get; init; } = 1;

    /// <summary>Weight of <see cref="MalformationKind.BadOptionLength"/>.</summary>
    public int BadOptionLength { get; init; } = 1;

    /// <summary>Weight of <see cref="MalformationKind.BadChecksum"/>.</summary>
    public int BadChecksum { get; init; } = 1;

    /// <summary>Weight of <see cref="MalformationKind.RandomBytes"/>.</summary>
    public int RandomBytes { get; init; } = 1;

    /// <summary>The weight of a malformation kind.</summary>
    public int Of(MalformationKind kind) => kind switch
    {
        MalformationKind.Truncated => Truncated,
        MalformationKind.LengthTooLong => LengthTooLong,
        MalformationKind.LengthTooShort => LengthTooShort,
        MalformationKind.IhlBelowFive => IhlBelowFive,
        MalformationKind.IhlBeyondFrame => IhlBeyondFrame,
        MalformationKind.WrongIpVersion => WrongIpVersion,
        MalformationKind.BadOptionLength => BadOptionLength,
        MalformationKind.BadChecksum => BadChecksum,
        MalformationKind.RandomBytes => RandomBytes,
        _ => 0,
    };
}
