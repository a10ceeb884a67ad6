using System.Buffers.Binary;

namespace VethXdp.Vm.Helpers;

/// <summary>The kernel's SYN cookies (net/ipv4/syncookies.c, net/ipv6/syncookies.c): the MSS tables, the encoding,
/// the one-minute counter and the two-minute validity, over SipHash-2-4 with secrets drawn from a seed.</summary>
/// <remarks>
/// cookie = H0(addrs, ports) + seq + (count &lt;&lt; 24) + ((H1(addrs, ports, count) + mssind) mod 2^24), where count is
/// jiffies / (60 * HZ). The kernel draws the secrets (syncookie_secret[2], syncookie6_secret[2]) at random once per
/// boot; here they come from <see cref="Runtime.NetEnvironment.SyncookieSeed"/>, so cookie values differ from any
/// kernel's, but what is valid, the MSS each cookie carries and the errors are the kernel's.
/// </remarks>
public static class NetSyncookies
{
    /// <summary>COOKIEBITS: the low bits that carry the hash and the MSS index; the counter sits above.</summary>
    public const int CookieBits = 24;

    /// <summary>MAX_SYNCOOKIE_AGE: a cookie is valid while the counter has moved by less than this.</summary>
    public const int MaxSyncookieAge = 2;

    /// <summary>TCP_MSS_DEFAULT: the IPv4 MSS when the SYN has no MSS option.</summary>
    public const ushort TcpMssDefault = 536;

    /// <summary>IPV6_MIN_MTU - sizeof(tcphdr) - sizeof(ipv6hdr): the IPv6 MSS when the SYN has no MSS option.</summary>
    public const ushort Ipv6MssClamp = 1220;

    private const uint CookieMask = (1u << CookieBits) - 1;

    private static readonly ushort[] s_msstab4 = [536, 1300, 1440, 1460];
    private static readonly ushort[] s_msstab6 = [1280 - 60, 1480 - 60, 1500 - 60, 9000 - 60];

    /// <summary>The IPv4 MSS table (msstab in net/ipv4/syncookies.c).</summary>
    public static ReadOnlySpan<ushort> Ipv4MssTable => s_msstab4;

    /// <summary>The IPv6 MSS table (msstab in net/ipv6/syncookies.c).</summary>
    public static ReadOnlySpan<ushort> Ipv6MssTable => s_msstab6;

    /// <summary>tcp_cookie_time(): jiffies / TCP_SYNCOOKIE_PERIOD (60 s).</summary>
    public static uint CookieTime(ulong jiffies, int hz) => (uint)(jiffies / (60UL * (ulong)hz));

    /// <summary>__cookie_v4_init_sequence(): the cookie for a SYN (iph: the 20-byte IPv4 header; th: the TCP header),
    /// and in <paramref name="mss"/> the MSS rounded down to the table value it encodes.</summary>
    public static uint InitV4(ReadOnlySpan<byte> iph, ReadOnlySpan<byte> th, ref ushort mss, uint count, ulong seed)
    {
        int mssind = MssIndex(s_msstab4, mss);
        mss = s_msstab4[mssind];
        var k = new Keys(seed, 0);
        return Secure(k, iph.Slice(12, 4), iph.Slice(16, 4), th, BinaryPrimitives.ReadUInt32BigEndian(th[4..]), (uint)mssind, count);
    }

    /// <summary>__cookie_v4_check(): the MSS an ACK's cookie (ack_seq - 1) carries, or 0 when it is not valid.</summary>
    public static int CheckV4(ReadOnlySpan<byte> iph, ReadOnlySpan<byte> th, uint count, ulong seed)
    {
        var k = new Keys(seed, 0);
        uint mssind = Check(k, iph.Slice(12, 4), iph.Slice(16, 4), th, count);
        return mssind < s_msstab4.Length ? s_msstab4[mssind] : 0;
    }

    /// <summary>__cookie_v6_init_sequence(): as <see cref="InitV4"/> for the 40-byte IPv6 header.</summary>
    public static uint InitV6(ReadOnlySpan<byte> iph, ReadOnlySpan<byte> th, ref ushort mss, uint count, ulong seed)
    {
        int mssind = MssIndex(s_msstab6, mss);
        mss = s_msstab6[mssind];
        var k = new Keys(seed, 1);
        return Secure(k, iph.Slice(8, 16), iph.Slice(24, 16), th, BinaryPrimitives.ReadUInt32BigEndian(th[4..]), (uint)mssind, count);
    }

    /// <summary>__cookie_v6_check(): as <see cref="CheckV4"/> for IPv6.</summary>
    public static int CheckV6(ReadOnlySpan<byte> iph, ReadOnlySpan<byte> th, uint count, ulong seed)
    {
        var k = new Keys(seed, 1);
        uint mssind = Check(k, iph.Slice(8, 16), iph.Slice(24, 16), th, count);
        return mssind < s_msstab6.Length ? s_msstab6[mssind] : 0;
    }

    /// <summary>tcp_parse_mss_option(th, user_mss): the MSS option of the TCP header <paramref name="th"/> (its options
    /// run to th-&gt;doff * 4, which must lie within the span), capped at <paramref name="userMss"/> when that is set;
    /// 0 when there is none.</summary>
    public static ushort ParseMssOption(ReadOnlySpan<byte> th, ushort userMss)
    {
        int length = ((th[12] >> 4) * 4) - 20;
        int at = 20;
        ushort mss = 0;
        while (length > 0)
        {
            int opcode = th[at++];
            switch (opcode)
            {
                case 0: // TCPOPT_EOL
                    return mss;
                case 1: // TCPOPT_NOP
                    length--;
                    continue;
                default:
                    if (length < 2)
                    {
                        return mss;
                    }

                    int opsize = th[at++];
                    if (opsize < 2 || opsize > length)
                    {
                        return mss; // silly options, partial options
                    }

                    if (opcode == 2 && opsize == 4)
                    {
                        ushort inMss = BinaryPrimitives.ReadUInt16BigEndian(th[at..]);
                        if (inMss != 0)
                        {
                            if (userMss != 0 && userMss < inMss)
                            {
                                inMss = userMss;
                            }

                            mss = inMss;
                        }
                    }

                    at += opsize - 2;
                    length -= opsize;
                    break;
            }
        }

        return mss;
    }

    // The largest table entry not above mss (index 0 when mss is below them all).
    private static int MssIndex(ushort[] table, ushort mss)
    {
        int i = table.Length - 1;
        for (; i > 0; i--)
        {
            if (mss >= table[i])
            {
                break;
            }
        }

        return i;
    }

    // secure_tcp_syn_cookie()
    private static uint Secure(in Keys k, ReadOnlySpan<byte> saddr, ReadOnlySpan<byte> daddr, ReadOnlySpan<byte> th, uint sseq, uint data, uint count) =>
        Hash(k, saddr, daddr, th, 0, 0) + sseq + (count << CookieBits) + ((Hash(k, saddr, daddr, th, count, 1) + data) & CookieMask);

    // check_tcp_syn_cookie() on __cookie_v*_check()'s cookie and sequence: the MSS index, or uint.MaxValue.
    private static uint Check(in Keys k, ReadOnlySpan<byte> saddr, ReadOnlySpan<byte> daddr, ReadOnlySpan<byte> th, uint count)
    {
        uint cookie = BinaryPrimitives.ReadUInt32BigEndian(th[8..]) - 1;
        uint sseq = BinaryPrimitives.ReadUInt32BigEndian(th[4..]) - 1;

        // Strip away the layers from the cookie
        cookie -= Hash(k, saddr, daddr, th, 0, 0) + sseq;

        // Cookie is now reduced to (count * 2^24) ^ (hash % 2^24)
        uint diff = (count - (cookie >> CookieBits)) & (uint.MaxValue >> CookieBits);
        if (diff >= MaxSyncookieAge)
        {
            return uint.MaxValue;
        }

        return (cookie - Hash(k, saddr, daddr, th, count - diff, 1)) & CookieMask;
    }

    // cookie_hash(): IPv4 siphash_4u32(saddr, daddr, sport << 16 | dport, count) over the words as they lie in the
    // packet; IPv6 siphash over { saddr, daddr, u32 count, __be16 sport, __be16 dport }.
    private static uint Hash(in Keys k, ReadOnlySpan<byte> saddr, ReadOnlySpan<byte> daddr, ReadOnlySpan<byte> th, uint count, int c)
    {
        ulong k0 = c == 0 ? k.A0 : k.B0;
        ulong k1 = c == 0 ? k.A1 : k.B1;
        if (saddr.Length == 4)
        {
            uint ports = ((uint)BinaryPrimitives.ReadUInt16LittleEndian(th) << 16) | BinaryPrimitives.ReadUInt16LittleEndian(th[2..]);
            return (uint)NetSipHash.Hash4U32(
                BinaryPrimitives.ReadUInt32LittleEndian(saddr), BinaryPrimitives.ReadUInt32LittleEndian(daddr), ports, count, k0, k1);
        }

        Span<byte> combined = stackalloc byte[40];
        saddr.CopyTo(combined);
        daddr.CopyTo(combined[16..]);
        BinaryPrimitives.WriteUInt32LittleEndian(combined[32..], count);
        th[..4].CopyTo(combined[36..]);
        return (uint)NetSipHash.Hash(combined, k0, k1);
    }

    // The two 128-bit secrets of one family, drawn from the seed with splitmix64 (family 0: IPv4, 1: IPv6).
    private readonly struct Keys
    {
        public readonly ulong A0, A1, B0, B1;

        public Keys(ulong seed, int family)
        {
            ulong s = seed ^ (family == 0 ? 0x73796e636f6f6b34UL : 0x73796e636f6f6b36UL); // "syncook4" / "syncook6"
            A0 = Next(ref s);
            A1 = Next(ref s);
            B0 = Next(ref s);
            B1 = Next(ref s);
        }

        private static ulong Next(ref ulong s)
        {
            ulong z = s += 0x9e3779b97f4a7c15UL;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
            return z ^ (z >> 31);
        }
    }
}
