namespace VethXdp.Testing.Model;

/// <summary>The named ways a generated frame is malformed.</summary>
public enum MalformationKind
{
    /// <summary>The frame ends at a header boundary, or inside a header or the payload (<see cref="Frame.Cut"/>).</summary>
    Truncated,

    /// <summary>A length field claims more than is there: IPv4 total length, IPv6 payload length, UDP length beyond the
    /// frame; TCP data offset or IPv6 Hdr Ext Len beyond the header's real size.</summary>
    LengthTooLong,

    /// <summary>A length field claims less than is there (the same fields).</summary>
    LengthTooShort,

    /// <summary>An IPv4 IHL of 0 to 4 (less than the 20-byte fixed header).</summary>
    IhlBelowFive,

    /// <summary>An IPv4 IHL whose header would end past the end of the frame.</summary>
    IhlBeyondFrame,

    /// <summary>An IPv4 header whose version nibble is not 4, or an IPv6 header whose version is not 6.</summary>
    WrongIpVersion,

    /// <summary>An IPv4 or TCP option whose length byte is 0, 1, or runs past the options area.</summary>
    BadOptionLength,

    /// <summary>A wrong IPv4, TCP, UDP, ICMP, ICMPv6 or GRE checksum.</summary>
    BadChecksum,

    /// <summary>No headers at all: random bytes.</summary>
    RandomBytes,
}
