namespace VethXdp.Testing.Generation;

/// <summary>What may follow the link layer.</summary>
[Flags]
internal enum L3Kinds
{
    None = 0,
    Ipv4 = 1,
    Ipv6 = 2,
    Arp = 4,
    Other = 8,
    Ip = Ipv4 | Ipv6,
    All = Ipv4 | Ipv6 | Arp | Other,
}

/// <summary>What may follow the (innermost) IP header.</summary>
[Flags]
internal enum L4Kinds
{
    None = 0,
    Tcp = 1,
    Udp = 2,
    Icmp = 4,
    Other = 8,
    All = Tcp | Udp | Icmp | Other,
}

/// <summary>How many VLAN tags.</summary>
[Flags]
internal enum TagKinds
{
    None = 0,
    Untagged = 1,
    Vlan = 2,
    QinQ = 4,
    All = Untagged | Vlan | QinQ,
}

/// <summary>Which tunnels.</summary>
[Flags]
internal enum TunnelKinds
{
    None = 0,
    Gre = 1,
    Ipip = 2,
    Vxlan = 4,
    All = Gre | Ipip | Vxlan,
}
