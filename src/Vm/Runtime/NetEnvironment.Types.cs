using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace VethXdp.Vm.Runtime;

/// <summary>An address family as the kernel numbers it (AF_INET, AF_INET6).</summary>
public enum NetFamily : byte
{
    /// <summary>AF_INET.</summary>
    Inet = 2,
    /// <summary>AF_INET6.</summary>
    Inet6 = 10,
}

/// <summary>A route's type (<c>enum rtn_type</c>, RTN_*).</summary>
public enum RouteType : byte
{
    /// <summary>RTN_UNICAST: a gateway or directly connected route.</summary>
    Unicast = 1,
    /// <summary>RTN_LOCAL: one of the host's own addresses.</summary>
    Local = 2,
    /// <summary>RTN_BROADCAST: a subnet's broadcast address.</summary>
    Broadcast = 3,
    /// <summary>RTN_ANYCAST: an IPv6 subnet-router anycast address (the subnet's network address, on a forwarding device).</summary>
    Anycast = 4,
    /// <summary>RTN_BLACKHOLE: silently discard.</summary>
    Blackhole = 6,
    /// <summary>RTN_UNREACHABLE: destination unreachable.</summary>
    Unreachable = 7,
    /// <summary>RTN_PROHIBIT: administratively prohibited.</summary>
    Prohibit = 8,
    /// <summary>RTN_THROW: continue with the next table.</summary>
    Throw = 9,
}

/// <summary>A neighbour entry's state (NUD_*).</summary>
[Flags]
public enum NeighbourState : ushort
{
    /// <summary>NUD_NONE.</summary>
    None = 0,
    /// <summary>NUD_INCOMPLETE: resolution under way.</summary>
    Incomplete = 0x01,
    /// <summary>NUD_REACHABLE.</summary>
    Reachable = 0x02,
    /// <summary>NUD_STALE.</summary>
    Stale = 0x04,
    /// <summary>NUD_DELAY.</summary>
    Delay = 0x08,
    /// <summary>NUD_PROBE.</summary>
    Probe = 0x10,
    /// <summary>NUD_FAILED.</summary>
    Failed = 0x20,
    /// <summary>NUD_NOARP.</summary>
    Noarp = 0x40,
    /// <summary>NUD_PERMANENT.</summary>
    Permanent = 0x80,
}

/// <summary>A socket's type (SOCK_*).</summary>
public enum NetSocketType : byte
{
    /// <summary>SOCK_STREAM.</summary>
    Stream = 1,
    /// <summary>SOCK_DGRAM.</summary>
    Dgram = 2,
}

/// <summary>A socket's state as the kernel numbers it (TCP_*; unconnected UDP sockets are Close, connected ones
/// Established).</summary>
public enum NetSocketState : byte
{
    /// <summary>TCP_ESTABLISHED.</summary>
    Established = 1,
    /// <summary>TCP_SYN_SENT.</summary>
    SynSent = 2,
    /// <summary>TCP_SYN_RECV.</summary>
    SynRecv = 3,
    /// <summary>TCP_FIN_WAIT1.</summary>
    FinWait1 = 4,
    /// <summary>TCP_FIN_WAIT2.</summary>
    FinWait2 = 5,
    /// <summary>TCP_TIME_WAIT: a time-wait socket (a <c>sock_common</c>, not a full socket).</summary>
    TimeWait = 6,
    /// <summary>TCP_CLOSE.</summary>
    Close = 7,
    /// <summary>TCP_CLOSE_WAIT.</summary>
    CloseWait = 8,
    /// <summary>TCP_LAST_ACK.</summary>
    LastAck = 9,
    /// <summary>TCP_LISTEN.</summary>
    Listen = 10,
    /// <summary>TCP_CLOSING.</summary>
    Closing = 11,
    /// <summary>TCP_NEW_SYN_RECV: a request socket (a <c>sock_common</c> whose full socket is its listener).</summary>
    NewSynRecv = 12,
}

/// <summary>An IPv4 or IPv6 address: the family and the address as a big-endian number (10.0.0.1 is 0x0a000001).</summary>
/// <param name="Family">AF_INET or AF_INET6.</param>
/// <param name="Value">The address bits, most significant first (the low 32 bits for IPv4).</param>
public readonly record struct NetAddress(NetFamily Family, UInt128 Value)
{
    /// <summary>The address length in bits (32 or 128).</summary>
    public int Bits => Family == NetFamily.Inet ? 32 : 128;

    /// <summary>True for 0.0.0.0 and ::.</summary>
    public bool IsAny => Value == UInt128.Zero;

    /// <summary>0.0.0.0.</summary>
    public static NetAddress AnyV4 => new(NetFamily.Inet, UInt128.Zero);

    /// <summary>::.</summary>
    public static NetAddress AnyV6 => new(NetFamily.Inet6, UInt128.Zero);

    /// <summary>Parses "10.0.0.1" or "fd00::1".</summary>
    /// <exception cref="FormatException">Not an IPv4 or IPv6 address.</exception>
    public static NetAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!IPAddress.TryParse(text, out var ip) || text.Contains('%', StringComparison.Ordinal))
        {
            throw new FormatException($"\"{text}\" is not an IPv4 or IPv6 address");
        }

        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out int n);
        return FromBytes(ip.AddressFamily == AddressFamily.InterNetwork ? NetFamily.Inet : NetFamily.Inet6, bytes[..n]);
    }

    /// <summary>The address in network byte order (4 or 16 bytes), as packets and kernel structs hold it.</summary>
    public static NetAddress FromBytes(NetFamily family, ReadOnlySpan<byte> networkOrder)
    {
        if (family == NetFamily.Inet)
        {
            return new NetAddress(family, BinaryPrimitives.ReadUInt32BigEndian(networkOrder));
        }

        return new NetAddress(family, BinaryPrimitives.ReadUInt128BigEndian(networkOrder));
    }

    /// <summary>Writes the address in network byte order (4 or 16 bytes).</summary>
    public void WriteTo(Span<byte> destination)
    {
        if (Family == NetFamily.Inet)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)Value);
        }
        else
        {
            BinaryPrimitives.WriteUInt128BigEndian(destination, Value);
        }
    }

    /// <summary>True when the first <paramref name="length"/> bits equal those of <paramref name="other"/> (same family).</summary>
    public bool SharesPrefix(NetAddress other, int length)
    {
        if (other.Family != Family)
        {
            return false;
        }

        if (length <= 0)
        {
            return true;
        }

        int shift = Bits - Math.Min(length, Bits);
        return ((Value ^ other.Value) >> shift) == UInt128.Zero;
    }

    /// <summary>How many leading bits this address shares with <paramref name="other"/> (same family).</summary>
    public int CommonPrefixLength(NetAddress other)
    {
        UInt128 x = Value ^ other.Value;
        int lz = (int)UInt128.LeadingZeroCount(x);
        return Family == NetFamily.Inet ? Math.Max(lz - 96, 0) : lz;
    }

    /// <summary>The address as <c>ip</c> prints it.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[16];
        WriteTo(bytes);
        return new IPAddress(bytes[..(Family == NetFamily.Inet ? 4 : 16)]).ToString();
    }
}

/// <summary>A prefix: "10.0.0.0/24", "fd00::/64"; "default" is the zero-length prefix of either family.</summary>
/// <param name="Address">The address (host bits may be set, as in an interface address "10.0.0.1/24").</param>
/// <param name="Length">The prefix length in bits.</param>
public readonly record struct NetPrefix(NetAddress Address, int Length)
{
    /// <summary>The family.</summary>
    public NetFamily Family => Address.Family;

    /// <summary>True when <paramref name="address"/> lies inside the prefix.</summary>
    public bool Contains(NetAddress address) => Address.SharesPrefix(address, Length);

    /// <summary>The prefix with its host bits cleared (the network: 10.0.0.0/24 for 10.0.0.1/24).</summary>
    public NetPrefix Network
    {
        get
        {
            int bits = Address.Bits;
            UInt128 mask = Length == 0 ? UInt128.Zero : (UInt128.MaxValue << (128 - Length)) >> (128 - bits);
            return new NetPrefix(Address with { Value = Address.Value & mask }, Length);
        }
    }

    /// <summary>Parses "10.0.0.0/24", "fd00::1/64", a bare address (a host prefix) or "default" (IPv4, unless
    /// <paramref name="family"/> says IPv6).</summary>
    /// <exception cref="FormatException">Not a prefix.</exception>
    public static NetPrefix Parse(string text, NetFamily family = NetFamily.Inet)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text == "default")
        {
            return new NetPrefix(new NetAddress(family, UInt128.Zero), 0);
        }

        int slash = text.IndexOf('/', StringComparison.Ordinal);
        var address = NetAddress.Parse(slash < 0 ? text : text[..slash]);
        int length = address.Bits;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > address.Bits))
        {
            throw new FormatException($"\"{text}\" has an invalid prefix length");
        }

        return new NetPrefix(address, length);
    }

    /// <summary>"10.0.0.0/24".</summary>
    public override string ToString() => Length == 0 && Address.IsAny ? "default" : $"{Address}/{Length}";
}

/// <summary>A 48-bit Ethernet address.</summary>
/// <param name="Value">The address, first byte most significant.</param>
public readonly record struct MacAddress(ulong Value)
{
    /// <summary>Parses "02:00:00:00:00:01" (also with '-' separators).</summary>
    /// <exception cref="FormatException">Not six hexadecimal bytes.</exception>
    public static MacAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(':', '-');
        ulong v = 0;
        if (parts.Length != 6)
        {
            throw new FormatException($"\"{text}\" is not a MAC address");
        }

        foreach (var p in parts)
        {
            if (p.Length is < 1 or > 2 || !byte.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte b))
            {
                throw new FormatException($"\"{text}\" is not a MAC address");
            }

            v = (v << 8) | b;
        }

        return new MacAddress(v);
    }

    /// <summary>Writes the six bytes in wire order.</summary>
    public void WriteTo(Span<byte> destination)
    {
        for (int i = 0; i < 6; i++)
        {
            destination[i] = (byte)(Value >> (8 * (5 - i)));
        }
    }

    /// <summary>"02:00:00:00:00:01".</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{(byte)(Value >> 40):x2}:{(byte)(Value >> 32):x2}:{(byte)(Value >> 24):x2}:{(byte)(Value >> 16):x2}:{(byte)(Value >> 8):x2}:{(byte)Value:x2}");
}
