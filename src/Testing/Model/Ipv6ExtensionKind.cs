namespace VethXdp.Testing.Model;

/// <summary>The IPv6 extension headers with the common layout next header, length in 8-octet units beyond the first,
/// data (RFC 8200 section 4).</summary>
public enum Ipv6ExtensionKind : byte
{
    /// <summary>Hop-by-Hop Options (0); must come right after the IPv6 header.</summary>
    HopByHop = 0,

    /// <summary>Routing (43).</summary>
    Routing = 43,

    /// <summary>Destination Options (60).</summary>
    DestinationOptions = 60,
}
