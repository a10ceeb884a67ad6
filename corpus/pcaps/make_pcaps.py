#!/usr/bin/env python3
"""Writes the corpus's sample pcaps (classic pcap, LINKTYPE_ETHERNET, microsecond timestamps).

Run `python3 make_pcaps.py` in this folder; it rewrites every *.pcap here, byte for byte the same each time
(timestamps are fixed). Only the standard library is used. The tests never run this script: the .pcap files
are committed. Each pcap is listed in ../manifest.json with the programs that run on it.

Addresses used throughout:
  MAC  02:00:00:00:00:01 (client)   02:00:00:00:00:02 (server)   02:00:00:00:00:fe (router)
  IPv4 10.0.0.1 (client)  10.0.0.2 (server)  10.1.0.0/16 (remote net)  192.0.2.0/24, 198.51.100.0/24 (TEST-NETs)
  IPv6 fd00::1 (client)   fd00::2 (server)   2001:db8::/32 (documentation)
"""
import ipaddress
import struct

# --------------------------------------------------------------------------------------------- pcap

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
SNAPLEN = 65535
BASE_TIME = 1_700_000_000           # 2023-11-14T22:13:20Z, so the files do not change between runs


def write_pcap(name, frames):
    """frames: list of bytes, or (bytes, orig_len) for a record whose capture was cut short."""
    out = bytearray(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET))
    for i, f in enumerate(frames):
        data, orig = (f, len(f)) if isinstance(f, (bytes, bytearray)) else f
        out += struct.pack("<IIII", BASE_TIME + i, (i * 1000) % 1_000_000, len(data), orig)
        out += data
    with open(name, "wb") as fh:
        fh.write(out)
    return name


# ------------------------------------------------------------------------------------------ helpers

def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


CLIENT_MAC, SERVER_MAC, ROUTER_MAC = mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02"), mac("02:00:00:00:00:fe")
BROADCAST = mac("ff:ff:ff:ff:ff:ff")
C4, S4 = "10.0.0.1", "10.0.0.2"
C6, S6 = "fd00::1", "fd00::2"

ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, ETH_P_8021Q, ETH_P_8021AD = 0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8
IPPROTO_HOPOPTS, IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP = 0, 1, 4, 6, 17
IPPROTO_IPV6, IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_GRE, IPPROTO_AH = 41, 43, 44, 47, 51
IPPROTO_ICMPV6, IPPROTO_NONE, IPPROTO_DSTOPTS = 58, 59, 60
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20


def ip4(a):
    return ipaddress.IPv4Address(a).packed


def ip6(a):
    return ipaddress.IPv6Address(a).packed


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(payload, ethertype=ETH_P_IP, dst=SERVER_MAC, src=CLIENT_MAC):
    return dst + src + struct.pack("!H", ethertype) + payload


def eth_tagged(payload, tags, ethertype=ETH_P_IP, dst=SERVER_MAC, src=CLIENT_MAC):
    """tags: [(tpid, vid), ...] outermost first."""
    hdr = dst + src
    for tpid, vid in tags:
        hdr += struct.pack("!HH", tpid, vid)
    hdr += struct.pack("!H", ethertype)
    return hdr + payload


def ipv4(payload, proto, src=C4, dst=S4, ttl=64, options=b"", ident=1, flags_frag=0x4000, tos=0,
         total_len=None, ihl=None, version=4, bad_csum=False):
    hl = 20 + len(options)
    assert hl % 4 == 0
    tl = hl + len(payload) if total_len is None else total_len
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | ((hl // 4) if ihl is None else ihl), tos, tl, ident,
                    flags_frag, ttl, proto, 0, ip4(src), ip4(dst)) + options
    c = csum(h) ^ (0x5555 if bad_csum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def pseudo4(src, dst, proto, length):
    return ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, length)


def pseudo6(src, dst, nh, length):
    return ip6(src) + ip6(dst) + struct.pack("!I3xB", length, nh)


def tcp(sport, dport, flags, seq=1000, ack=0, payload=b"", options=b"", window=65535, pseudo=None, doff=None):
    hl = 20 + len(options)
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, ((hl // 4) if doff is None else doff) << 4, flags,
                    window, 0, 0) + options
    seg = h + payload
    c = csum(pseudo(len(seg)) + seg) if pseudo else 0
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(sport, dport, payload=b"", pseudo=None, length=None):
    ln = 8 + len(payload) if length is None else length
    seg = struct.pack("!HHHH", sport, dport, ln, 0) + payload
    c = csum(pseudo(8 + len(payload)) + seg) if pseudo else 0
    return seg[:6] + struct.pack("!H", c or 0xFFFF if pseudo else 0) + seg[8:]


def icmp(typ, code, rest=b"\0\0\0\0", payload=b""):
    m = struct.pack("!BBH", typ, code, 0) + rest + payload
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def icmp6(typ, code, src, dst, rest=b"\0\0\0\0", payload=b""):
    m = struct.pack("!BBH", typ, code, 0) + rest + payload
    c = csum(pseudo6(src, dst, IPPROTO_ICMPV6, len(m)) + m)
    return m[:2] + struct.pack("!H", c) + m[4:]


def ipv6(payload, nh, src=C6, dst=S6, hlim=64, plen=None, tc=0, flow=0):
    ln = len(payload) if plen is None else plen
    return struct.pack("!IHBB", (6 << 28) | (tc << 20) | flow, ln, nh, hlim) + ip6(src) + ip6(dst) + payload


def ext_opts(nh, opts=b""):
    """Hop-by-hop or destination options header, padded with PadN to a multiple of 8."""
    body = opts
    n = -(2 + len(body)) % 8
    if n:
        body += b"\0" if n == 1 else bytes([1, n - 2]) + b"\0" * (n - 2)
    return struct.pack("!BB", nh, (2 + len(body)) // 8 - 1) + body


def ext_routing(nh, rtype, segleft, addrs):
    body = b"\0\0\0\0" + b"".join(ip6(a) for a in addrs)
    return struct.pack("!BBBB", nh, (len(body) + 4) // 8 - 1, rtype, segleft) + body


def ext_frag(nh, offset, more, ident=0x1234):
    return struct.pack("!BBHI", nh, 0, (offset << 3) | (1 if more else 0), ident)


def tcp4(sport, dport, flags, src=C4, dst=S4, payload=b"", options=b"", seq=1000, ack=0, **ip):
    seg = tcp(sport, dport, flags, seq, ack, payload, options, pseudo=lambda n: pseudo4(src, dst, IPPROTO_TCP, n))
    return eth(ipv4(seg, IPPROTO_TCP, src, dst, **ip))


def udp4(sport, dport, payload=b"", src=C4, dst=S4, checksum=True, **ip):
    seg = udp(sport, dport, payload, pseudo=(lambda n: pseudo4(src, dst, IPPROTO_UDP, n)) if checksum else None)
    return eth(ipv4(seg, IPPROTO_UDP, src, dst, **ip))


def tcp6(sport, dport, flags, src=C6, dst=S6, payload=b"", options=b"", seq=1000, ack=0, **ip):
    seg = tcp(sport, dport, flags, seq, ack, payload, options, pseudo=lambda n: pseudo6(src, dst, IPPROTO_TCP, n))
    return eth(ipv6(seg, IPPROTO_TCP, src, dst, **ip), ETH_P_IPV6)


def udp6(sport, dport, payload=b"", src=C6, dst=S6, **ip):
    seg = udp(sport, dport, payload, pseudo=lambda n: pseudo6(src, dst, IPPROTO_UDP, n))
    return eth(ipv6(seg, IPPROTO_UDP, src, dst, **ip), ETH_P_IPV6)


def ping4(ident=0x4242, seq=1, payload=b"abcdefghijklmnop", src=C4, dst=S4, typ=8):
    return eth(ipv4(icmp(typ, 0, struct.pack("!HH", ident, seq), payload), IPPROTO_ICMP, src, dst))


def ping6(ident=0x4242, seq=1, payload=b"abcdefghijklmnop", src=C6, dst=S6, typ=128):
    return eth(ipv6(icmp6(typ, 0, src, dst, struct.pack("!HH", ident, seq), payload), IPPROTO_ICMPV6, src, dst),
               ETH_P_IPV6)


def arp_request(sender=C4, target=S4):
    body = struct.pack("!HHBBH", 1, ETH_P_IP, 6, 4, 1) + CLIENT_MAC + ip4(sender) + b"\0" * 6 + ip4(target)
    return eth(body, ETH_P_ARP, dst=BROADCAST)


def pad60(frame):
    """Ethernet minimum frame size without the FCS, as a NIC would deliver it."""
    return frame + b"\0" * max(0, 60 - len(frame))


def cut(frame, n):
    """A frame whose capture kept only its first n bytes (the pcap record says the original length)."""
    return (frame[:n], len(frame))


# ------------------------------------------------------------------------------------- the pcaps
# Each function returns the frames of one pcap; the manifest names the pcaps each program runs on.

PCAPS = {}


def pcap(fn):
    PCAPS[fn.__name__] = fn
    return fn


def pcap_named(name):
    """A pcap whose file name is not a Python name (the scenarios' "xsk-switch-traffic")."""
    def register(fn):
        PCAPS[name] = fn
        return fn
    return register


@pcap
def basic_mixed():
    """A little of everything: IPv4 TCP/UDP/ICMP, IPv6, ARP, a runt, a truncated IPv4 header."""
    return [
        tcp4(40000, 80, SYN),
        udp4(5353, 53, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"),
        ping4(),
        tcp6(40000, 443, SYN | ACK),
        pad60(arp_request()),
        eth(b"", 0x88B5),                                       # local experimental EtherType, no payload
        eth(ipv4(b"", IPPROTO_TCP)[:12]),                       # IPv4 header cut after 12 bytes
        SERVER_MAC + CLIENT_MAC,                                # 12 bytes: shorter than an Ethernet header
    ]


@pcap
def sizes():
    """Frame lengths around the Ethernet minimum and a 128-byte snap length; a runt and a cut capture."""
    return [
        arp_request(),                                          # 42 bytes: no padding
        pad60(arp_request()),                                   # 60
        udp4(1000, 2000, b"x" * 58),                            # 100
        udp4(1000, 2000, b"x" * 86),                            # 128
        udp4(1000, 2000, b"x" * 87),                            # 129
        tcp4(40000, 80, ACK | PSH, payload=b"y" * 1460),        # 1514
        eth(b"", 0x88B5),                                       # 14: an Ethernet header alone
        SERVER_MAC + CLIENT_MAC + b"\x08",                      # 13: shorter than an Ethernet header
        cut(udp4(1000, 2000, b"z" * 200), 96),                  # a capture cut at 96 of 250 bytes
    ]


@pcap
def vlan():
    """Untagged, 802.1Q, QinQ (802.1ad + 802.1Q) and malformed tag stacks."""
    ip = ipv4(udp(1000, 53, b"q" * 12, pseudo=lambda n: pseudo4(C4, S4, IPPROTO_UDP, n)), IPPROTO_UDP)
    ip6 = ipv6(udp(1000, 53, b"q" * 12, pseudo=lambda n: pseudo6(C6, S6, IPPROTO_UDP, n)), IPPROTO_UDP)
    Q, AD = ETH_P_8021Q, ETH_P_8021AD
    return [
        eth(ip),                                                # untagged IPv4
        eth(ip6, ETH_P_IPV6),                                   # untagged IPv6
        pad60(arp_request()),                                   # untagged ARP
        eth_tagged(ip, [(Q, 100)]),                             # VLAN 100
        eth_tagged(ip, [(Q, 300)]),                             # VLAN 300
        eth_tagged(ip, [(Q, 10)]),                              # VLAN 10 (the rewrite program's native VLAN)
        eth_tagged(ip, [(Q, (5 << 13) | 10)]),                  # VLAN 10 with priority 5
        eth_tagged(ip, [(Q, 0)]),                               # priority-tagged (VID 0)
        eth_tagged(ip, [(Q, 4095)]),                            # VID 4095 (reserved)
        eth_tagged(ip, [(AD, 100), (Q, 7)]),                    # QinQ: S-VLAN 100, C-VLAN 7
        eth_tagged(ip6, [(AD, 200), (Q, 8)], ETH_P_IPV6),       # QinQ carrying IPv6
        eth_tagged(ip, [(AD, 300), (Q, 7)]),                    # QinQ, S-VLAN not allowed
        eth_tagged(ip, [(AD, 100)]),                            # an S-tag straight around IPv4
        eth_tagged(ip, [(AD, 100), (Q, 7), (Q, 9)]),            # three tags
        eth_tagged(ip, [(Q, 100), (Q, 7)]),                     # 802.1Q inside 802.1Q
        eth_tagged(ip, [(AD, 100), (Q, 4095)]),                 # C-VID 4095
        SERVER_MAC + CLIENT_MAC + struct.pack("!HH", Q, 100),   # 16 bytes: the tag ends early
        SERVER_MAC + CLIENT_MAC + struct.pack("!HHHH", AD, 100, Q, 7),   # 20 bytes: the inner tag ends early
        cut(eth_tagged(ip, [(Q, 100)]), 40),                    # a capture cut at 40 bytes
    ]


def opt(typ, body=b""):
    return bytes([typ, 2 + len(body)]) + body


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


@pcap
def ipv4_options():
    """IPv4 headers with and without options, good and bad."""
    seg = udp(1000, 2000, b"o" * 8)

    def v4(options=b"", **kw):
        return eth(ipv4(seg, IPPROTO_UDP, options=pad4(options), **kw))
    rr = opt(7, b"\x04" + b"\0" * 8)                            # Record Route, pointer 4, two slots
    ts = opt(68, b"\x05\x00" + b"\0" * 8)                       # Timestamp, two slots
    ra = opt(148, b"\0\0")                                      # Router Alert
    lsrr = opt(131, b"\x04" + ip4("192.0.2.1"))
    ssrr = opt(137, b"\x04" + ip4("192.0.2.1"))
    return [
        v4(),                                                   # IHL 5
        v4(rr),                                                 # Record Route
        v4(ts),                                                 # Timestamp
        v4(ra),                                                 # Router Alert
        v4(b"\x01\x01" + ra),                                   # NOP NOP Router Alert
        v4(rr + ts + ra),                                       # three options
        v4(lsrr),                                               # loose source route: dropped
        v4(b"\x01" + ssrr),                                     # strict source route after a NOP: dropped
        v4(b"\x07\x01\x00\x00"),                                # option length 1: dropped
        v4(b"\x07\x10\x00\x00"),                                # option length past the header: dropped
        v4(b"\x00" + b"\xff" * 3),                              # End of Options, then garbage: passes
        v4(b"\x01" * 40),                                       # 40 NOPs
        v4(ra, ihl=4),                                          # IHL 4: dropped
        v4(version=6),                                          # version 6 in an IPv4 EtherType: dropped
        v4(rr, total_len=20),                                   # total length shorter than the header
        v4(total_len=200),                                      # total length past the frame
        eth(ipv4(seg, IPPROTO_UDP, options=pad4(rr))[:26]),           # header cut in the options
        udp6(1000, 2000),                                       # not IPv4: passes
        pad60(arp_request()),
    ]


@pcap
def ipv6_ext():
    """IPv6 extension header chains, good, forbidden and malformed."""
    t = tcp(40000, 80, SYN, pseudo=lambda n: pseudo6(C6, S6, IPPROTO_TCP, n))
    u = udp(40000, 53, b"d" * 8, pseudo=lambda n: pseudo6(C6, S6, IPPROTO_UDP, n))
    ic = icmp6(128, 0, C6, S6, b"\0\x01\0\x01", b"ping")

    def v6(payload, nh, **kw):
        return eth(ipv6(payload, nh, **kw), ETH_P_IPV6)
    hbh = lambda nh: ext_opts(nh, b"\x05\x02\x00\x00")          # Router Alert option
    dst = lambda nh: ext_opts(nh)
    ah = lambda nh: struct.pack("!BBHII", nh, 4, 0, 0x100, 1) + b"\0" * 12   # 24 bytes: (4 + 2) * 4
    chain = t
    nh = IPPROTO_TCP
    for _ in range(9):
        chain, nh = dst(nh) + chain, IPPROTO_DSTOPTS
    return [
        v6(t, IPPROTO_TCP),                                     # no extension headers
        v6(hbh(IPPROTO_UDP) + u, IPPROTO_HOPOPTS),              # Hop-by-Hop, UDP
        v6(hbh(IPPROTO_DSTOPTS) + dst(IPPROTO_ROUTING) + ext_routing(IPPROTO_TCP, 2, 0, ["2001:db8::9"]) + t,
           IPPROTO_HOPOPTS),                                    # HBH, DstOpts, Routing type 2, TCP
        v6(ext_routing(IPPROTO_TCP, 0, 1, ["2001:db8::9"]) + t, IPPROTO_ROUTING),  # RH0 with segments left
        v6(ext_routing(IPPROTO_TCP, 0, 0, ["2001:db8::9"]) + t, IPPROTO_ROUTING),  # RH0, none left: passes
        v6(dst(IPPROTO_HOPOPTS) + hbh(IPPROTO_TCP) + t, IPPROTO_DSTOPTS),          # HBH not first
        v6(ext_frag(IPPROTO_UDP, 0, True) + u, IPPROTO_FRAGMENT),                  # first fragment
        v6(ext_frag(IPPROTO_UDP, 185, False) + b"r" * 16, IPPROTO_FRAGMENT),       # a later fragment
        v6(ext_frag(IPPROTO_NONE, 0, True) + b"\0" * 8, IPPROTO_FRAGMENT),         # first fragment, nothing in it
        v6(ah(IPPROTO_TCP) + t, IPPROTO_AH),                    # Authentication Header
        v6(chain, nh),                                          # nine Destination Options headers
        v6(b"", IPPROTO_NONE),                                  # No Next Header
        v6(ic, IPPROTO_ICMPV6),                                 # ICMPv6 echo request
        v6(hbh(IPPROTO_UDP)[:4], IPPROTO_HOPOPTS, plen=8),      # HBH header cut short
        v6(t, IPPROTO_TCP, plen=400),                           # payload length past the frame
        eth(ipv6(t, IPPROTO_TCP)[:30], ETH_P_IPV6),             # IPv6 header cut short
        tcp4(40000, 80, SYN),                                   # IPv4: passes
    ]


@pcap
def l4():
    """TCP flag combinations, UDP ports and lengths, ICMP and ICMPv6 types."""
    return [
        tcp4(40000, 80, SYN),
        tcp4(40000, 80, ACK | PSH, payload=b"GET / HTTP/1.0\r\n\r\n"),
        tcp4(40000, 80, 0),                                     # NULL scan
        tcp4(40000, 80, FIN | PSH | URG),                       # XMAS scan
        tcp4(40000, 80, SYN | FIN),
        tcp4(40000, 80, SYN | RST),
        eth(ipv4(tcp(40000, 80, SYN, doff=4), IPPROTO_TCP)),    # data offset 4
        tcp4(40000, 22, SYN),                                   # ssh (the port filter drops it)
        tcp4(40000, 6010, SYN),                                 # in the subprogs example's blocked range
        udp4(5353, 53, b"\0" * 12),
        udp4(0, 53, b"\0" * 12),                                # source port 0
        udp4(5353, 0, b"\0" * 12),                              # destination port 0
        eth(ipv4(udp(5353, 53, b"\0" * 12, length=30), IPPROTO_UDP)),  # UDP length disagrees
        ping4(),
        eth(ipv4(icmp(5, 1, ip4("10.0.0.254")), IPPROTO_ICMP)), # redirect
        eth(ipv4(icmp(13, 0, b"\0\x01\0\x01", b"\0" * 12), IPPROTO_ICMP)),   # timestamp request
        ping6(),
        eth(ipv6(icmp6(137, 0, C6, S6, b"\0" * 4, ip6("fd00::fe") + ip6("fd00::9")), IPPROTO_ICMPV6),
            ETH_P_IPV6),                                        # ICMPv6 redirect
        tcp6(40000, 443, 0),                                    # IPv6 NULL scan
        udp6(5353, 53, b"\0" * 4),
        eth(ipv4(tcp(40000, 80, SYN)[:10], IPPROTO_TCP)),       # TCP header cut short
        eth(ipv4(b"\0" * 16, IPPROTO_TCP, flags_frag=0x00b9)),  # a later fragment
        eth(ipv4(b"\0" * 8, IPPROTO_GRE)),                      # GRE: not judged
        pad60(arp_request()),
        SERVER_MAC + CLIENT_MAC,                                # 12 bytes
    ]


@pcap
def icmp_echo():
    """Echo requests to answer, and frames to leave alone."""
    return [
        ping4(),
        ping4(ident=7, seq=300, payload=b""),
        ping6(),
        ping4(typ=0),                                           # an echo reply: passes
        eth(ipv4(icmp(8, 0, b"\0\x01\0\x01", b"hi"), IPPROTO_ICMP, options=b"\x01\x01\x01\x00")),  # IPv4 options
        eth(ipv4(icmp(8, 0, b"\0\x01\0\x01", b"hi"), IPPROTO_ICMP, flags_frag=0x2000)),  # a first fragment
        eth(ipv6(icmp6(135, 0, C6, S6, b"\0" * 4, ip6(S6)), IPPROTO_ICMPV6), ETH_P_IPV6),  # neighbour solicitation
        udp4(1000, 7, b"echo"),
        eth(ipv4(icmp(8, 0)[:4], IPPROTO_ICMP)),                # ICMP header cut short
        eth(ipv6(icmp6(128, 0, C6, S6)[:4], IPPROTO_ICMPV6), ETH_P_IPV6),
        pad60(arp_request()),
    ]


@pcap
def lpm():
    """Source addresses inside and outside the firewall's prefixes (see the manifest's rules)."""
    return [
        tcp4(40000, 80, SYN, src="192.0.2.5"),                  # 192.0.2.0/24 deny
        tcp4(40000, 80, SYN, src="192.0.2.200"),                # 192.0.2.128/25 allow
        tcp4(40000, 80, SYN, src="198.51.100.1"),               # no rule
        udp4(1000, 53, src="10.3.0.1"),                         # 10.0.0.0/8 deny
        udp4(1000, 53, src="10.0.0.1"),                         # 10.0.0.0/24 allow
        ping4(src="192.0.2.6"),
        tcp6(40000, 80, SYN, src="2001:db8::1"),                # 2001:db8::/32 deny
        tcp6(40000, 80, SYN, src="2001:db8:1::1"),              # 2001:db8:1::/48 allow
        tcp6(40000, 80, SYN, src="fd00::1"),                    # no rule
        eth(ipv4(b"", IPPROTO_TCP, src="192.0.2.5")[:16]),      # header cut short
        pad60(arp_request()),
    ]


@pcap
def flows():
    """A few IPv4 flows, repeated, plus fragments and non-IPv4."""
    a = tcp4(40000, 80, SYN)
    b = tcp4(40001, 443, SYN, src="10.0.0.3")
    c = udp4(5353, 53, b"\0" * 20)
    return [
        a, a, b, c, tcp4(40000, 80, ACK, payload=b"x" * 100), c, b,
        ping4(), ping4(seq=2),
        eth(ipv4(b"\0" * 16, IPPROTO_UDP, flags_frag=0x0010)),  # a later fragment: no ports
        eth(ipv4(b"\0" * 4, IPPROTO_TCP)),                      # ports present, rest of TCP cut
        tcp6(40000, 80, SYN),
        pad60(arp_request()),
        SERVER_MAC,                                             # 6 bytes
    ]


@pcap
def conntrack():
    """TCP handshakes and teardowns, strays, UDP, and more flows than the LRU table holds (8)."""
    def c2s(sport, flags, **kw):
        return tcp4(sport, 80, flags, **kw)

    def s2c(sport, flags, **kw):
        return tcp4(80, sport, flags, src=S4, dst=C4, **kw)
    frames = [
        c2s(41000, SYN), s2c(41000, SYN | ACK), c2s(41000, ACK), c2s(41000, ACK | PSH, payload=b"hello"),
        s2c(41000, ACK), c2s(41000, FIN | ACK), s2c(41000, FIN | ACK), c2s(41000, ACK),   # the last: no flow left
        c2s(41001, ACK),                                        # a stray ACK: dropped
        c2s(41002, SYN), c2s(41002, RST),                       # opened and reset
        c2s(41002, ACK),                                        # after the reset: dropped
        c2s(41003, SYN | ACK),                                  # SYN+ACK without a SYN: dropped
        udp4(5000, 53, b"a"), udp4(53, 5000, b"b", src=S4, dst=C4),
    ]
    for i in range(10):                                         # ten new flows into an 8-entry LRU
        frames.append(c2s(42000 + i, SYN))
    frames += [
        c2s(42000, ACK),                                        # the oldest of them, maybe evicted
        c2s(42009, ACK),                                        # the newest
        udp4(5000, 53, b"c"),                                   # the UDP flow from before
        eth(ipv4(tcp(1, 2, SYN)[:8], IPPROTO_TCP)),             # TCP header cut short
        ping4(),
        tcp6(40000, 80, SYN),
    ]
    return frames


VIP = "198.51.100.10"


@pcap
def encap():
    """Traffic to a load-balanced service address, and to others."""
    return [
        tcp4(40000, 80, SYN, dst=VIP),
        udp4(5000, 53, b"\0" * 30, dst=VIP),
        tcp4(40000, 80, ACK | PSH, dst=VIP, payload=b"p" * 1460),     # 1514 bytes: 1534 with the outer header
        tcp4(40000, 80, SYN, dst="198.51.100.11"),              # not a service
        tcp6(40000, 80, SYN),
        eth(ipv4(b"", IPPROTO_TCP, dst=VIP)[:18]),              # header cut short
        pad60(arp_request()),
    ]


@pcap
def decap():
    """IPIP and 6in4 to the tunnel endpoint 10.0.0.2, and look-alikes."""
    inner4 = ipv4(tcp(40000, 80, SYN, pseudo=lambda n: pseudo4("10.9.0.1", "10.9.0.2", IPPROTO_TCP, n)),
                  IPPROTO_TCP, "10.9.0.1", "10.9.0.2")
    inner6 = ipv6(udp(5000, 53, b"six", pseudo=lambda n: pseudo6("2001:db8::1", "2001:db8::2", IPPROTO_UDP, n)),
                  IPPROTO_UDP, "2001:db8::1", "2001:db8::2")
    return [
        eth(ipv4(inner4, IPPROTO_IPIP, "192.0.2.1", S4)),
        eth(ipv4(inner6, IPPROTO_IPV6, "192.0.2.1", S4)),
        eth(ipv4(inner4, IPPROTO_IPIP, "192.0.2.1", S4, options=b"\x94\x04\x00\x00")),   # outer Router Alert
        eth(ipv4(inner4, IPPROTO_IPIP, "192.0.2.1", "10.0.0.3")),                        # another endpoint
        eth(ipv4(inner4, IPPROTO_IPIP, "192.0.2.1", S4, flags_frag=0x2000)),             # fragmented outer
        eth(ipv4(inner6, IPPROTO_IPIP, "192.0.2.1", S4)),       # protocol 4 but an IPv6 inside
        eth(ipv4(b"\0" * 24, IPPROTO_GRE, "192.0.2.1", S4)),    # GRE: not ours
        eth(ipv4(b"", IPPROTO_IPIP, "192.0.2.1", S4)),          # nothing inside
        tcp4(40000, 80, SYN),
        ping6(),
    ]


@pcap
def checksums():
    """IPv4 header and UDP checksums, right and wrong."""
    good = udp4(5000, 53, b"0123456789abcdef")
    bad_ip = bytearray(good)
    bad_ip[24] ^= 0xFF                                          # IPv4 checksum
    bad_udp = bytearray(good)
    bad_udp[40] ^= 0x01                                         # UDP checksum
    no_csum = bytearray(good)
    no_csum[40:42] = b"\0\0"                                    # "no checksum"
    return [
        good,
        bytes(bad_ip),
        bytes(bad_udp),
        bytes(no_csum),
        udp4(5000, 53, b"odd"),                                 # odd length: the last byte is padded
        udp4(5000, 53, b""),                                    # header only
        eth(ipv4(udp(5000, 53, b"opt", pseudo=lambda n: pseudo4(C4, S4, IPPROTO_UDP, n)), IPPROTO_UDP,
                 options=b"\x94\x04\x00\x00")),                 # IHL 6
        udp4(5000, 53, bytes(range(256)) * 5),                  # 1280 bytes of payload
        eth(ipv4(udp(5000, 53, b"x" * 8, pseudo=lambda n: pseudo4(C4, S4, IPPROTO_UDP, n), length=200),
                 IPPROTO_UDP)),                                 # UDP length past the frame
        tcp4(40000, 80, SYN),
        eth(ipv4(b"", IPPROTO_UDP)[:19]),                       # IPv4 header cut short
        ping6(),
    ]


@pcap
def ringbuf():
    """TCP SYNs and RSTs, syslog datagrams, and other traffic."""
    return [
        tcp4(40000, 80, SYN),
        tcp4(40000, 80, SYN | ACK),
        tcp4(40000, 80, RST),
        udp4(5000, 514, b"<34>Oct 11 22:14:15 host su: failed"),
        udp4(5000, 514, b"<1>x"),                               # shorter than the 16 bytes copied
        udp4(5000, 53, b"dns"),
        tcp4(40001, 443, SYN, src="10.0.0.3"),
        ping4(),
        tcp6(40000, 80, SYN),
    ]


@pcap
def legacy():
    """Sources the legacy-maps program blocks (10.0.0.66, see the manifest) and others."""
    return [
        tcp4(40000, 80, SYN),
        tcp4(40000, 80, SYN, src="10.0.0.66"),
        udp4(1000, 53, b"q", src="10.0.0.66"),
        udp4(1000, 53, b"q"),
        ping4(),
        tcp6(40000, 80, SYN),
        eth(ipv4(b"", IPPROTO_TCP)[:10]),
        SERVER_MAC + CLIENT_MAC,
    ]


def telemetry(temp, samples, delta, offset, seq, trim=0, drift=0):
    return struct.pack("!bBhiQ", temp, samples, delta, offset, seq) + struct.pack("<hHi", trim, 0, drift)


@pcap
def telemetry_udp():
    """The signed telemetry protocol of xdp_cpuv4 (UDP port 9000)."""
    def t(payload, **kw):
        return udp4(5000, 9000, payload, **kw)
    return [
        t(telemetry(21, 4, 100, 12345, 1, 3, 700)),
        t(telemetry(-7, 3, -100, -12345, 2, -3, -700)),         # negatives: truncating division
        t(telemetry(-40, 7, -32768, -2**31, 2**63 + 5, -32768, -2**31)),   # the extremes
        t(telemetry(125, 255, 32767, 2**31 - 1, 2**64 - 1, 32767, 2**31 - 1)),
        t(telemetry(-41, 1, 0, 0, 3)),                          # too cold
        t(telemetry(126, 1, 0, 0, 4)),                          # too hot
        t(telemetry(20, 0, 5, 5, 5)),                           # no samples
        t(telemetry(20, 1, 5, 5, 6)[:16]),                      # cut short
        udp4(5000, 9001, telemetry(20, 1, 5, 5, 7)),            # another port: passes
        tcp4(40000, 9000, SYN),
        ping4(),
    ]


@pcap
def duplicates():
    """Frames and their duplicates, short and long."""
    a = udp4(5000, 53, b"first")
    b = udp4(5000, 53, b"second")
    big = udp4(5000, 9000, bytes(i & 0xFF for i in range(2900)))
    big2 = big[:-1] + b"\x01"                                   # differs after byte 2048: same hash
    return [a, a, b, a, big, big, big2, eth(b"", 0x88B5), eth(b"", 0x88B5), SERVER_MAC + CLIENT_MAC]


@pcap
def jumbo():
    """Frames past one page, for the xdp.frags program (UDP 7777, sent without checksum, gets a trailer)."""
    return [
        udp4(5000, 7777, b"small datagram, trailer at its end", checksum=False),
        udp4(5000, 7777, bytes(i & 0xFF for i in range(4958)), checksum=False),          # 5000 bytes
        udp4(5000, 7777, bytes((i * 7) & 0xFF for i in range(7958)), checksum=False),    # 8000: trimmed to 6000
        udp4(5000, 7777, b"j" * 9058, checksum=False),                                   # 9100 bytes: dropped
        udp4(5000, 7778, b"k" * 3958),                                                   # 4000 bytes, another port
        tcp4(40000, 80, ACK, payload=b"t" * 6000),
        udp4(5000, 7777, b"", checksum=False),                                           # no room for a trailer
        eth(b"", 0x88B5),
    ]


PUBLIC = "198.51.100.1"


@pcap
def nat():
    """Outbound flows taking ports from a pool of three (see the manifest), a close, and the pool running dry."""
    def out(sport, flags=SYN, **kw):
        return tcp4(sport, 80, flags, dst=PUBLIC, **kw)
    return [
        out(40000),
        out(40000, ACK, payload=b"data"),                       # same flow, same port
        udp4(40001, 53, b"query", dst=PUBLIC),
        out(40002),
        out(40003),                                             # the pool is empty: dropped
        out(40000, FIN | ACK),                                  # returns the first port
        out(40004),                                             # gets the returned port
        udp4(40005, 53, b"again", dst=PUBLIC),                  # the pool is empty again: dropped
        tcp4(40000, 80, SYN, dst="10.0.0.9"),                   # inside to inside: untouched
        tcp4(80, 40000, SYN | ACK, src=PUBLIC, dst=C4),         # inbound: untouched
        ping4(dst=PUBLIC),
        eth(ipv4(b"\0" * 6, IPPROTO_TCP, dst=PUBLIC)),          # TCP header cut short
    ]


@pcap
def rss():
    """Several IPv4 flows for the software RSS program, one to the discard port."""
    return [
        tcp4(40000 + i, 80, SYN, src=f"10.0.{i}.1") for i in range(8)
    ] + [
        udp4(5000, 9, b"discard"),
        ping4(),
        tcp6(40000, 80, SYN),
        eth(ipv4(b"", IPPROTO_TCP)[:8]),
    ]


@pcap
def xsk():
    """UDP to the AF_XDP application's port (4791) over IPv4 and IPv6, and other traffic."""
    return [
        udp4(5000, 4791, b"roce"),
        udp6(5000, 4791, b"roce6"),
        udp4(5000, 4792, b"other"),
        tcp4(5000, 4791, SYN),
        eth(ipv4(udp(5000, 4791, b"opts"), IPPROTO_UDP, options=b"\x01\x01\x01\x00")),
        eth(ipv4(udp(5000, 4791)[:4], IPPROTO_UDP)),
        pad60(arp_request()),
    ]


@pcap
def portfwd():
    """TTL and port-forward work for the dynptr program (8080 -> 80)."""
    return [
        tcp4(40000, 8080, SYN),
        udp4(5000, 8080, b"fwd"),
        eth(ipv4(udp(5000, 8080, b"nocsum"), IPPROTO_UDP)),     # UDP checksum 0
        tcp4(40000, 443, SYN),
        tcp4(40000, 8080, SYN, ttl=1),
        eth(ipv4(udp(5000, 8080, b"opt", pseudo=lambda n: pseudo4(C4, S4, IPPROTO_UDP, n)), IPPROTO_UDP,
                 options=b"\x94\x04\x00\x00")),                 # IHL 6
        ping4(),
        tcp6(40000, 8080, SYN),
        eth(ipv4(b"", IPPROTO_TCP)[:12]),                       # IPv4 header cut short
        eth(ipv4(b"\0\0", IPPROTO_TCP)),                        # ports cut short
        eth(b"", 0x88B5),
    ]


MSS_OPT = b"\x02\x04\x05\xb4"                                   # MSS 1460


@pcap
def syn_flood():
    """SYNs to protected ports (80, 443) over IPv4 and IPv6, bare ACKs with made-up cookies, and others."""
    opts = MSS_OPT + b"\x01\x03\x03\x07" + b"\x04\x02\x08\x0a" + b"\0" * 8   # MSS, NOP, WS, SACK-OK, TS
    return [
        tcp4(40000, 80, SYN, options=MSS_OPT, seq=0x11223344),
        tcp4(40001, 443, SYN, options=opts, seq=7),
        tcp6(40002, 80, SYN, options=MSS_OPT, seq=0x55667788),
        tcp4(40000, 80, ACK, seq=0x11223345, ack=0x01020304),  # bare ACK, cookie not ours
        tcp6(40002, 80, ACK, seq=0x55667789, ack=0x0a0b0c0d),
        tcp4(40000, 80, ACK | PSH, payload=b"GET /", seq=0x11223345, ack=0x01020304),
        tcp4(40003, 22, SYN, options=MSS_OPT),                  # not protected
        tcp4(40004, 80, SYN),                                   # no options
        eth(ipv4(tcp(40005, 80, SYN, doff=4), IPPROTO_TCP)),    # data offset 4
        tcp4(40006, 80, SYN | FIN),
        ping4(),
    ]


LAB_V4, LAB_V6 = "10.0.0.254", "fd00::fe"


@pcap
def sockets():
    """Traffic to the lab namespace's sockets (see the manifest): a listener, an established pair, UDP."""
    return [
        tcp4(40000, 80, SYN, dst=LAB_V4, options=MSS_OPT),      # SYN to the listener
        tcp4(40000, 80, ACK, dst=LAB_V4, ack=0x1234),           # bare ACK to the listener
        tcp4(40001, 80, ACK | PSH, src=LAB_V4, dst=LAB_V4, payload=b"x"),   # the established pair
        tcp4(40000, 81, SYN, dst=LAB_V4),                       # nobody listens
        udp4(5000, 53, b"q", dst=LAB_V4),                       # the UDP socket
        udp4(5000, 54, b"q", dst=LAB_V4),                       # no UDP socket
        tcp6(40000, 80, SYN, dst=LAB_V6, options=MSS_OPT),      # the IPv6 listener
        udp6(5000, 53, b"q", dst=LAB_V6),                       # no IPv6 UDP socket
        ping4(dst=LAB_V4),
        eth(ipv4(b"\0" * 4, IPPROTO_TCP, dst=LAB_V4)),          # TCP header cut short
    ]


WEB, MAIL = "198.51.100.20", "198.51.100.25"


@pcap
def tenants():
    """Traffic to two tenants' addresses and ports (see the manifest), and a 1000-byte frame."""
    return [
        tcp4(40000, 80, SYN, dst=WEB),
        tcp4(40000, 22, SYN, dst=WEB),                          # blocked for web
        tcp4(40000, 25, SYN, dst=MAIL),                         # blocked for mail
        tcp4(40000, 587, SYN, dst=MAIL),
        udp4(5000, 110, b"pop", dst=MAIL),                      # blocked for mail
        tcp4(40000, 22, SYN, dst="198.51.100.30"),              # not a tenant
        tcp4(40000, 80, ACK, dst=WEB, payload=b"b" * 946),      # 1000 bytes
        ping4(dst=WEB),
        eth(ipv4(b"\0\0", IPPROTO_TCP, dst=WEB)),               # ports cut short
    ]


LB_VIP = "198.51.0.10"


@pcap
def lb():
    """Requests to the load balancer's service address 198.51.0.10, and others."""
    return [tcp4(40000 + i, 80, SYN, dst=LB_VIP) for i in range(6)] + [
        udp4(5000, 53, b"q", dst=LB_VIP),
        tcp4(40000, 80, SYN, dst="198.51.0.11"),
        tcp6(40000, 80, SYN),
        eth(ipv4(b"", IPPROTO_TCP, dst=LB_VIP)[:18]),
    ]


def http(method_line, dport=80, **kw):
    return tcp4(40000, dport, ACK | PSH, payload=method_line, **kw)


@pcap
def http_requests():
    """HTTP request lines for the method classifier."""
    return [
        http(b"GET /index.html HTTP/1.1\r\n"),
        http(b"HEAD / HTTP/1.1\r\n"),
        http(b"POST /form HTTP/1.1\r\n"),
        http(b"PUT /file HTTP/1.1\r\n"),
        http(b"TRACE / HTTP/1.1\r\n"),
        http(b"CONNECT host:443 HTTP/1.1\r\n"),
        http(b"GETX / HTTP/1.1\r\n"),                           # not a method
        http(b"GET /\r\n"),                                     # seven bytes: too short to judge
        http(b"GET / HTTP/1.1\r\n", dport=8080),                # another port
        tcp4(40000, 80, SYN),
        ping4(),
    ]


# The lab namespace (see the manifest's environments): the router's side of veth0 is 02:00:00:00:00:fe.

@pcap
def routing():
    """Frames for the router in the lab namespace (routes and neighbours in the manifest)."""
    def r4(dst, **kw):
        return eth(ipv4(udp(5000, 53, b"route", pseudo=lambda n: pseudo4(C4, dst, IPPROTO_UDP, n)), IPPROTO_UDP,
                        C4, dst, **kw), dst=ROUTER_MAC)

    def r6(dst, **kw):
        return eth(ipv6(udp(5000, 53, b"route6", pseudo=lambda n: pseudo6(C6, dst, IPPROTO_UDP, n)), IPPROTO_UDP,
                        C6, dst, **kw), ETH_P_IPV6, dst=ROUTER_MAC)
    big = eth(ipv4(b"\0" * 1430, IPPROTO_UDP, C4, "10.1.2.3"), dst=ROUTER_MAC)     # 1450 > veth1's MTU 1400
    return [
        r4("10.1.2.3"),                                         # via 10.0.1.2, neighbour known
        r4("10.0.1.2"),                                         # directly connected, neighbour known
        r4("10.0.1.7"),                                         # directly connected, no neighbour
        r4("192.0.2.1"),                                        # no route
        r4("10.1.2.3", ttl=1),                                  # TTL 1
        big,
        r6("2001:db8:1::5"),                                    # via fd00:1::2
        r6("2001:db8:1::5", hlim=1),
        r6("2001:db8:2::5"),                                    # no route
        pad60(arp_request()),
        eth(ipv4(b"", IPPROTO_UDP)[:15], dst=ROUTER_MAC),       # IPv4 header cut short
    ]


@pcap
def switch():
    """Frames for the learning switch in the lab namespace (ports veth0 = 3 and veth1 = 5)."""
    other = mac("02:00:00:00:00:99")
    return [
        tcp4(40000, 80, SYN),                                   # to the server: known behind veth1
        pad60(arp_request()),                                   # broadcast: flooded
        eth(ipv4(b"", IPPROTO_UDP), dst=other),                 # unknown unicast: flooded
        eth(ipv4(b"", IPPROTO_UDP), dst=CLIENT_MAC, src=other), # to the client, learnt on this port: dropped
        eth(ipv4(b"", IPPROTO_UDP), dst=mac("33:33:00:00:00:01"), src=mac("02:00:00:00:00:98")),  # IPv6 multicast
        eth(ipv4(b"", IPPROTO_UDP), dst=SERVER_MAC, src=mac("01:00:5e:00:00:01")),   # group source: not learnt
        SERVER_MAC + CLIENT_MAC,
    ]


@pcap
def global_data():
    """Frames for the global-data program: oversize, multicast, well-known ports."""
    return [
        tcp4(40000, 22, SYN),
        udp4(5000, 53, b"q"),
        tcp4(40000, 80, SYN),
        tcp4(40000, 443, SYN),
        tcp4(40000, 8080, SYN),
        eth(ipv4(b"", IPPROTO_UDP), dst=mac("01:00:5e:00:00:fb")),
        udp4(5000, 53, b"z" * 1560),                            # 1602 bytes: oversize
        ping4(),
        tcp6(40000, 80, SYN),
        SERVER_MAC + CLIENT_MAC,
    ]


CONTROL = 9000


@pcap
def strings():
    """"key=value" text to UDP port 9000 (xdp_strings): numbers in every base bpf_strtol/bpf_strtoul take, signs,
    white space, overflow at the edges of long and unsigned long, no digits, no '=', values longer than the copy."""
    def c(text):
        return udp4(5000, CONTROL, text)
    return [
        c(b"ttl=64"),
        c(b"ttl=0x1f"),
        c(b"ttl=017"),
        c(b"ttl=-42"),
        c(b"ttl=  \t9 "),                                       # leading white space is consumed
        c(b"ttl=+7"),                                           # '+' is not a sign to the kernel
        c(b"ttl=abc"),
        c(b"ttl=18446744073709551616"),                         # 2**64: -ERANGE for both
        c(b"ttl=9223372036854775808"),                          # 2**63: -ERANGE for strtol only
        c(b"ttl=-9223372036854775808"),                         # LONG_MIN
        c(b"ttl=0x"),                                           # "0x" without a hex digit: octal 0
        c(b"ttl=1"),
        c(b"ttl="),                                             # nothing after '='
        c(b"hello"),                                            # no '='
        c(b"ttl=08"),                                           # octal stops at '8'
        udp4(5000, 53, b"ttl=1"),                               # another port
        c(b"ttl=ffff"),
        c(b"ttl=-"),
        c(b"ttl=12345678901234567890123"),                      # cut to 20 value bytes
        tcp4(5000, CONTROL, ACK | PSH, payload=b"ttl=1"),       # TCP, not UDP
        cut(c(b"ttl=5"), 40),                                   # UDP header cut short
    ]


SESSIONS = 7000


@pcap
def timers():
    """UDP session control words to port 7000 (xdp_timers): open, data, stop, close and probe, for sessions that
    exist and that do not; a payload shorter than a control word; another port."""
    def c(sport, word):
        return udp4(sport, SESSIONS, word)
    return [
        c(5000, b"open"),
        c(5000, b"data"),
        c(5000, b"open"),                                       # the session's timer exists: -EBUSY
        c(5000, b"stop"),                                       # armed: cancel gives 1
        c(5000, b"stop"),                                       # not armed: 0
        c(5001, b"data"),                                       # no such session
        c(5001, b"open"),
        c(5001, b"data"),
        c(5000, b"probe"),
        c(5001, b"probe"),
        c(5000, b"close"),
        c(5000, b"data"),                                       # closed
        c(5001, b"close"),                                      # closed with its timer armed
        c(5002, b"open"),                                       # still armed when the run ends
        c(5002, b"zzzz"),                                       # not a control word
        c(5002, b"op"),                                         # shorter than a control word
        udp4(5000, 53, b"open"),                                # another port
    ]


@pcap_named("xsk-switch-traffic")
def xsk_switch_traffic():
    """The switch scenarios' eight-frame cycle (../scenarios/xsk-*.json) from four containers c1..c4
    (02:00:00:00:0c:0N, 10.0.0.N): a broadcast, known unicast both ways, a flow each way between c3 and c4, unknown
    unicast (02:00:00:00:0c:99) and a hairpin (c2 to itself). 64-byte UDP frames to the discard port, source ports
    1000..1007; xdp_container_tx and xdp_xsk_switch_port run on it too."""
    return switch_cycle(22)


@pcap_named("xsk-switch-traffic-1514")
def xsk_switch_traffic_1514():
    """The same eight-frame cycle as xsk-switch-traffic with 1,514-byte frames (a 1,500-byte IP MTU, 1,472 bytes of
    UDP payload): the switch scenarios' *-1514.json, where copying a frame costs what it costs at full size."""
    return switch_cycle(1472)


def switch_cycle(payload):
    """The switch scenarios' cycle with `payload` bytes of UDP payload (22: 64-byte frames)."""
    def c(n, dst_mac, dst_ip, i):
        src_mac = mac(f"02:00:00:00:0c:{n:02x}")
        return eth(ipv4(udp(1000 + i, 9, b"\0" * payload), IPPROTO_UDP, src=f"10.0.0.{n}", dst=dst_ip, ident=0,
                        flags_frag=0), dst=dst_mac, src=src_mac)

    def to(n):
        return mac(f"02:00:00:00:0c:{n:02x}"), f"10.0.0.{n}"
    return [
        c(1, BROADCAST, "10.0.0.255", 0),                       # broadcast: flooded
        c(2, *to(1), 1),                                        # known unicast, c2 -> c1
        c(1, *to(2), 2),                                        # and back, c1 -> c2
        c(3, *to(4), 3),                                        # c3 -> c4 before c4 has sent anything
        c(4, *to(3), 4),                                        # c4 -> c3
        c(3, *to(4), 5),                                        # c3 -> c4 again
        c(1, *to(0x99), 6),                                     # unknown unicast: flooded
        c(2, *to(2), 7),                                        # a hairpin: c2 to itself
    ]


def main():
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    for name, fn in PCAPS.items():
        write_pcap(os.path.join(here, name + ".pcap"), fn())
        print(f"{name}.pcap: {len(fn())} frames")


if __name__ == "__main__":
    main()
