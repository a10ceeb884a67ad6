using System.Globalization;

namespace VethXdp.Testing.Model;

/// <summary>Names of EtherTypes and IP protocols for descriptions.</summary>
internal static class Names
{
    public static string EtherType(ushort type) => type switch
    {
        0x0800 => "IPv4",
        0x0806 => "ARP",
        0x86dd => "IPv6",
        0x8100 => "802.1Q",
        0x88a8 => "802.1ad",
        0x9100 => "QinQ",
        0x6558 => "Ethernet (TEB)",
        0x88cc => "LLDP",
        0x8863 => "PPPoE discovery",
        0x8864 => "PPPoE session",
        0x8847 => "MPLS",
        0x88b5 => "experimental",
        < 0x0600 => "802.3 length",
        _ => "?",
    };

    public static string IpProtocol(byte protocol) => protocol switch
    {
        0 => "Hop-by-Hop",
        1 => "ICMP",
        2 => "IGMP",
        4 => "IPv4",
        6 => "TCP",
        17 => "UDP",
        41 => "IPv6",
        43 => "Routing",
        44 => "Fragment",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        58 => "ICMPv6",
        59 => "no next header",
        60 => "Destination Options",
        132 => "SCTP",
        253 or 254 => "experimental",
        _ => "?",
    };

    public static string Hex(ushort v) => "0x" + v.ToString("x4", CultureInfo.InvariantCulture);
}
