#!/usr/bin/env python3
"""Writes ../manifest.json: every corpus object, its programs, the pcaps it runs on, the environment it needs,
and the verdicts the running kernel gives (BPF_PROG_TEST_RUN through libbpf.so.1, see kern.py).

Run as root in corpus/pcaps after `make` in ../xdp:

    python3 record_kernel.py            rewrite ../manifest.json
    python3 record_kernel.py --check    compare this kernel's verdicts with the manifest's (exit 1 on a difference)
    python3 record_kernel.py --only NAME... --dump OUT.json    run some objects; write final maps and output bytes
    python3 record_kernel.py --only NAME... --merge    run some objects and put their entries into ../manifest.json,
                                                       re-read just before writing, every other entry kept as it is

It builds the lab network namespace the manifest describes (and deletes it after), loads every object at v2, v3
and v4, runs every listed pcap, requires the three builds to agree, and records the verdicts. Only the Python
standard library is used (libbpf.so.1 through ctypes, in kern.py). Tests never run this script.
"""
import argparse
import json
import os
import platform
import re
import struct
import subprocess
import sys
import tempfile
import ipaddress

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.dirname(HERE)
XDP = os.path.join(CORPUS, "xdp")
sys.path.insert(0, HERE)
import kern  # noqa: E402

LAB = "vethxdp-lab"


# ------------------------------------------------------------------------------------------ hex helpers

def u32(n):
    return struct.pack("<I", n).hex()


def u16(n):
    return struct.pack("<H", n).hex()


def u64(n):
    return struct.pack("<Q", n).hex()


def ip4(a):
    return ipaddress.IPv4Address(a).packed.hex()


def ip6(a):
    return ipaddress.IPv6Address(a).packed.hex()


def mac(s):
    return s.replace(":", "")


def lpm4(prefix):
    net = ipaddress.IPv4Network(prefix)
    return u32(net.prefixlen) + net.network_address.packed.hex()


def lpm6(prefix):
    net = ipaddress.IPv6Network(prefix)
    return u32(net.prefixlen) + net.network_address.packed.hex()


def rule(action):
    return u32(action) + u32(0) + u64(0)


XDP_DROP, XDP_PASS = 1, 2

# ------------------------------------------------------------------------------------------ environments

ENVIRONMENTS = {
    "default": {
        "description": "Any network namespace: BPF_PROG_TEST_RUN's defaults, ingress ifindex 1 (the loopback "
                       "device) and receive queue 0, on CPU 0. Nothing else is needed.",
        "ingressIfindex": 1,
        "rxQueueIndex": 0,
    },
    "lab": {
        "description": "A fresh network namespace with two veth pairs: a router (veth0 toward the clients, "
                       "veth1 toward 10.1.0.0/16 and 2001:db8:1::/48), forwarding on. Inside a new namespace "
                       "ifindexes start at 1 (lo), and a veth's peer is registered before it, so veth0p = 2, "
                       "veth0 = 3, veth1p = 4, veth1 = 5. Runs use ingress ifindex 3 (veth0), queue 0.",
        "netns": True,
        "commands": [
            "ip link set lo up",
            "ip link add veth0 type veth peer name veth0p",
            "ip link add veth1 type veth peer name veth1p",
            "ip link set veth0 address 02:00:00:00:00:fe",
            "ip link set veth0p address 02:00:00:00:00:01",
            "ip link set veth1 address 02:00:00:00:01:fe",
            "ip link set veth1p address 02:00:00:00:01:02",
            "ip link set veth1 mtu 1400",
            "ip link set veth0 up", "ip link set veth0p up", "ip link set veth1 up", "ip link set veth1p up",
            "ip addr add 10.0.0.254/24 dev veth0",
            "ip addr add fd00::fe/64 dev veth0 nodad",
            "ip addr add 10.0.1.254/24 dev veth1",
            "ip addr add fd00:1::fe/64 dev veth1 nodad",
            "ip route add 10.1.0.0/16 via 10.0.1.2",
            "ip -6 route add 2001:db8:1::/48 via fd00:1::2",
            "ip neigh replace 10.0.1.2 lladdr 02:00:00:00:01:02 dev veth1 nud permanent",
            "ip -6 neigh replace fd00:1::2 lladdr 02:00:00:00:01:02 dev veth1 nud permanent",
            "sysctl -qw net.ipv4.ip_forward=1",
            "sysctl -qw net.ipv6.conf.all.forwarding=1",
            "sysctl -qw net.ipv4.tcp_syncookies=2",
        ],
        "devices": [
            {"ifindex": 1, "name": "lo", "mtu": 65536, "addresses": ["127.0.0.1/8", "::1/128"]},
            {"ifindex": 2, "name": "veth0p", "mac": "02:00:00:00:00:01", "mtu": 1500, "peer": "veth0"},
            {"ifindex": 3, "name": "veth0", "mac": "02:00:00:00:00:fe", "mtu": 1500, "peer": "veth0p",
             "addresses": ["10.0.0.254/24", "fd00::fe/64"]},
            {"ifindex": 4, "name": "veth1p", "mac": "02:00:00:00:01:02", "mtu": 1500, "peer": "veth1"},
            {"ifindex": 5, "name": "veth1", "mac": "02:00:00:00:01:fe", "mtu": 1400, "peer": "veth1p",
             "addresses": ["10.0.1.254/24", "fd00:1::fe/64"]},
        ],
        "routes": [
            {"dst": "10.0.0.0/24", "dev": "veth0"},
            {"dst": "10.0.1.0/24", "dev": "veth1"},
            {"dst": "10.1.0.0/16", "via": "10.0.1.2", "dev": "veth1"},
            {"dst": "fd00::/64", "dev": "veth0"},
            {"dst": "fd00:1::/64", "dev": "veth1"},
            {"dst": "2001:db8:1::/48", "via": "fd00:1::2", "dev": "veth1"},
        ],
        "neighbours": [
            {"ip": "10.0.1.2", "mac": "02:00:00:00:01:02", "dev": "veth1"},
            {"ip": "fd00:1::2", "mac": "02:00:00:00:01:02", "dev": "veth1"},
        ],
        "sysctls": {"net.ipv4.ip_forward": 1, "net.ipv6.conf.all.forwarding": 1, "net.ipv4.tcp_syncookies": 2},
        "ingressIfindex": 3,
        "rxQueueIndex": 0,
    },
}

# ------------------------------------------------------------------------------------------ the corpus

SPECS = [
    dict(name="xdp_pass", shows="The smallest XDP program: every frame passes.",
         covers=["return-constant"],
         runs=[dict(pcap="basic_mixed")]),
    dict(name="xdp_drop_non_ipv4", shows="Ethernet bounds check and EtherType compare; drops all but IPv4.",
         covers=["parse:ethernet"],
         runs=[dict(pcap="basic_mixed")]),
    dict(name="xdp_port_filter", shows="Ethernet -> IPv4 (variable IHL) -> TCP; drops TCP to port 22.",
         covers=["parse:ipv4", "parse:tcp"],
         runs=[dict(pcap="l4")]),
    dict(name="xdp_counter", shows="PERCPU_ARRAY counters, an ARRAY setting and a DEVMAP redirect of IPv4.",
         covers=["map:percpu_array", "map:array", "map:devmap", "redirect:devmap"],
         runs=[dict(pcap="basic_mixed", maps={"tx_port": [(u32(0), 1)], "egress_slot": [(u32(0), u32(0))]})]),
    dict(name="xdp_calls", shows="BPF-to-BPF calls into .text: a static and a global subprogram.",
         covers=["bpf-to-bpf-calls", "global-function"],
         runs=[dict(pcap="basic_mixed")]),
    dict(name="xdp_vlan_loop", shows="Unrolled VLAN walk, a bounded loop with a back edge, an ARRAY, a switch.",
         covers=["parse:vlan", "bounded-loop"],
         runs=[dict(pcap="vlan")]),
    dict(name="sample_xdp", shows="Verbatim copy of ../shared/reference/sample_xdp.c: counts in a PERCPU_ARRAY "
                                  "and redirects IPv4 through a DEVMAP.",
         covers=["map:percpu_array", "map:devmap"],
         runs=[dict(pcap="basic_mixed", maps={"tx_port": [(u32(0), 1)]})]),

    # --- the paper's programs
    dict(name="xdp_paper_drop", shows="The paper's XDP_DROP test: count (per-CPU) and drop every frame.",
         covers=["paper:drop", "map:percpu_array"],
         runs=[dict(pcap="basic_mixed")]),
    dict(name="xdp_paper_tx", shows="The paper's XDP_TX test: swap the MAC addresses and send the frame back.",
         covers=["paper:tx", "action:tx", "map:percpu_array"],
         runs=[dict(pcap="basic_mixed")]),
    dict(name="xdp_paper_redirect", shows="The paper's XDP_REDIRECT test: a DEVMAP_HASH pairs ports; unpaired "
                                          "ports use bpf_redirect to a default ifindex.",
         covers=["paper:redirect", "map:devmap_hash", "redirect:devmap", "redirect:ifindex", "global:.rodata"],
         runs=[dict(pcap="basic_mixed", maps={"port_pair": [(u32(1), 1)]},
                    note="ifindex 1 is paired with itself: bpf_redirect_map hits"),
               dict(pcap="basic_mixed", note="no pair: bpf_redirect(default_egress = 1)")]),
    dict(name="xdp_devmap_switch", shows="A learning switch: HASH fdb, DEVMAP_HASH ports with an xdp/devmap "
                                         "egress program, flooding with BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS.",
         covers=["map:devmap_hash", "map:hash", "redirect:devmap", "redirect:broadcast", "section:xdp/devmap",
                 "multiple-programs"],
         runs=[dict(program="xdp_switch", pcap="switch", environment="lab",
                    maps={"ports": [(u32(3), 3, "xdp_switch_egress"), (u32(5), 5, "xdp_switch_egress")],
                          "fdb": [(mac("02:00:00:00:00:02") + "0000", u32(5))]})],
         untestable=[("xdp_switch_egress", "BPF_PROG_TEST_RUN refuses programs whose expected attach type is "
                                           "BPF_XDP_DEVMAP (-EINVAL); it runs only as a devmap entry's program")]),

    # --- parsers
    dict(name="xdp_vlan_qinq", shows="802.1Q and QinQ (802.1ad + 802.1Q) parsing with a VLAN allowlist.",
         covers=["parse:vlan", "parse:qinq", "map:array", "map:hash"],
         runs=[dict(pcap="vlan", maps={"vlan_allowed": [(u32(100), u32(1)), (u32(200), u32(1))]})]),
    dict(name="xdp_vlan_rewrite", shows="Pops the native VLAN's tag (adjust_head +4), pushes the access VLAN's "
                                        "tag on untagged IP (adjust_head -4, XDP_TX).",
         covers=["parse:vlan", "adjust_head:grow", "adjust_head:shrink", "action:tx", "global:.rodata"],
         runs=[dict(pcap="vlan")]),
    dict(name="xdp_ipv4_options", shows="IPv4 header checks and an option walk in a bounded loop; drops source "
                                        "routing and malformed options.",
         covers=["parse:ipv4-options", "bounded-loop", "map:array"],
         runs=[dict(pcap="ipv4_options")]),
    dict(name="xdp_ipv6_exthdr", shows="IPv6 extension header chain walk (HBH, Routing, Fragment, DstOpts, AH).",
         covers=["parse:ipv6", "parse:ipv6-extension-headers", "bounded-loop", "map:array"],
         runs=[dict(pcap="ipv6_ext")]),
    dict(name="xdp_l4_filter", shows="Stateless TCP/UDP/ICMP/ICMPv6 sanity filter with per-reason counters.",
         covers=["parse:tcp", "parse:udp", "parse:icmp", "parse:icmpv6", "parse:ipv4", "parse:ipv6",
                 "map:percpu_array"],
         runs=[dict(pcap="l4")]),
    dict(name="xdp_icmp_echo", shows="Answers ICMP and ICMPv6 echo requests in place with XDP_TX; checksums "
                                     "with bpf_csum_diff.",
         covers=["parse:icmp", "parse:icmpv6", "action:tx", "checksum"],
         runs=[dict(pcap="icmp_echo")]),

    # --- tables
    dict(name="xdp_lpm_firewall", shows="Source-address firewall on LPM tries (IPv4 and IPv6).",
         covers=["firewall:lpm", "map:lpm_trie"],
         runs=[dict(pcap="lpm", maps={
             "rules_v4": [(lpm4("192.0.2.0/24"), rule(XDP_DROP)), (lpm4("192.0.2.128/25"), rule(XDP_PASS)),
                          (lpm4("10.0.0.0/8"), rule(XDP_DROP)), (lpm4("10.0.0.0/24"), rule(XDP_PASS))],
             "rules_v6": [(lpm6("2001:db8::/32"), rule(XDP_DROP)), (lpm6("2001:db8:1::/48"), rule(XDP_PASS))]})]),
    dict(name="xdp_flow_counter", shows="Per-5-tuple packet/byte counters in a HASH under bpf_spin_lock; "
                                        "bytes per protocol in a PERCPU_HASH.",
         covers=["flow-counter:hash", "map:hash", "map:percpu_hash", "spin-lock"],
         runs=[dict(pcap="flows")]),
    dict(name="xdp_conntrack", shows="A conntrack-like TCP/UDP state table in an 8-entry LRU_HASH, overflowed "
                                     "by the sample traffic.",
         covers=["conntrack:lru", "map:lru_hash", "lru-eviction"],
         runs=[dict(pcap="conntrack")],
         skip=[dict(field="map", map="conntrack", valueBytes=[8, 16],
                    reason="last_seen_ns holds bpf_ktime_get_ns(), the kernel's monotonic clock at run time")]),

    # --- packet size and shape
    dict(name="xdp_ipip_encap", shows="IPIP encapsulation toward a backend with adjust_head(-20), the outer "
                                      "checksum by bpf_csum_diff, bpf_check_mtu, XDP_TX.",
         covers=["encap:adjust_head", "adjust_head:grow", "check_mtu", "checksum", "action:tx", "map:hash"],
         runs=[dict(pcap="encap", maps={"services": [
                   (ip4("198.51.100.10"), ip4("10.0.0.2") + ip4("10.2.0.5") + mac("02:00:00:00:02:05") + "0000")]},
                    note="lo's MTU is 65536: the 1514-byte frame fits once encapsulated"),
               dict(pcap="encap", environment="lab", maps={"services": [
                   (ip4("198.51.100.10"), ip4("10.0.0.2") + ip4("10.2.0.5") + mac("02:00:00:00:02:05") + "0000")]},
                    note="veth0's MTU is 1500: the 1514-byte frame does not fit once encapsulated")]),
    dict(name="xdp_decap", shows="IPIP and 6in4 decapsulation with adjust_head(+IHL*4).",
         covers=["decap:adjust_head", "adjust_head:shrink", "global:.rodata", "map:array"],
         runs=[dict(pcap="decap")]),
    dict(name="xdp_truncate_pad", shows="Cuts frames to a 128-byte snap length and pads runts to 60 bytes with "
                                        "bpf_xdp_adjust_tail; bpf_xdp_get_buff_len.",
         covers=["truncate:adjust_tail", "adjust_tail:grow", "adjust_tail:shrink", "map:hash", "global:.rodata"],
         runs=[dict(pcap="sizes")]),
    dict(name="xdp_meta_mark", shows="Writes a classification into the metadata area with bpf_xdp_adjust_meta "
                                     "(and gives it back for unclassified frames).",
         covers=["metadata:adjust_meta"],
         runs=[dict(pcap="basic_mixed")]),
    dict(name="xdp_frags", shows="A multi-buffer (xdp.frags) program: bpf_xdp_get_buff_len, load/store_bytes "
                                 "across fragments, adjust_tail on a multi-buffer frame.",
         covers=["section:xdp.frags", "multi-buffer", "adjust_tail:shrink", "map:array"],
         runs=[dict(pcap="jumbo")]),

    # --- forwarding
    dict(name="xdp_fib_router", shows="Router fast path with bpf_fib_lookup (IPv4/IPv6), TTL decrement and "
                                      "bpf_redirect to the egress ifindex.",
         covers=["routing:fib_lookup", "redirect:ifindex", "map:array"],
         runs=[dict(pcap="routing", environment="lab")]),
    dict(name="xdp_cpumap_rss", shows="Software RSS: hashes flows onto CPUs through a CPUMAP whose entries run "
                                      "an xdp/cpumap program.",
         covers=["redirect:cpumap", "map:cpumap", "section:xdp/cpumap", "global:.data", "multiple-programs"],
         requires={"cpus": 2},
         runs=[dict(program="xdp_cpumap_rss", pcap="rss",
                    maps={"cpu_map": [(u32(0), 192, "xdp_cpumap_filter"), (u32(1), 192, "xdp_cpumap_filter")],
                          "cpus_available": [(u32(0), u32(0)), (u32(1), u32(1))], ".data": [(u32(0), u32(2))]}),
               dict(program="xdp_cpumap_rss", pcap="rss",
                    maps={"cpu_map": [(u32(0), 192, "xdp_cpumap_filter")],
                          "cpus_available": [(u32(0), u32(0)), (u32(1), u32(5))], ".data": [(u32(0), u32(2))]},
                    note="slot 1 names CPU 5, which has no cpumap entry: the redirect falls back to XDP_DROP")],
         untestable=[("xdp_cpumap_filter", "BPF_PROG_TEST_RUN refuses programs whose expected attach type is "
                                           "BPF_XDP_CPUMAP (-EINVAL); it runs only as a cpumap entry's program")]),
    dict(name="xdp_xsk_steer", shows="AF_XDP steering through an XSKMAP keyed by rx_queue_index, with "
                                     "XDP_PASS as the fallback when no socket is bound.",
         covers=["redirect:xskmap", "map:xskmap", "redirect:fallback", "map:hash", "global:.rodata"],
         runs=[dict(pcap="xsk", note="the XSKMAP is empty (no AF_XDP socket): every redirect falls back")]),
    dict(name="xdp_xsk_switch_port", shows="AF_XDP switch port: every frame goes to the XSK socket of its receive "
                                           "queue (bpf_redirect_map on an XSKMAP keyed by rx_queue_index), with "
                                           "XDP_DROP as the fallback, as libxdp's default program and Open vSwitch's "
                                           "AF_XDP netdev do.",
         covers=["redirect:xskmap", "map:xskmap", "redirect:fallback"],
         runs=[dict(pcap="xsk-switch-traffic",
                    note="the XSKMAP is empty: a slot holds only an AF_XDP socket bound to a device queue (UMEM, "
                         "rings, bind), which neither this recorder nor the kernel cross-check creates, and "
                         "--maps-in refuses xskmap entries; so every frame takes the fallback, XDP_DROP. The "
                         "redirect into a socket runs in the devices scenario xsk-afxdp-switch")]),
    dict(name="xdp_container_tx", shows="Container traffic injector for the switch scenarios: a HASH from the "
                                        "source MAC to the ifindex of the container's veth end, then bpf_redirect "
                                        "there; unknown sources are dropped.",
         covers=["map:hash", "redirect:ifindex"],
         runs=[dict(pcap="xsk-switch-traffic", maps={"containers": [
                   (mac(f"02:00:00:00:0c:0{n}") + "0000", u32(n + 1)) for n in (1, 2, 3, 4)]},
                    note="the scenarios' table, c1..c4 at ifindexes 2..5: every source is known "
                         "(BPF_PROG_TEST_RUN does not follow the redirect)"),
               dict(pcap="xsk-switch-traffic", maps={"containers": [
                   (mac(f"02:00:00:00:0c:0{n}") + "0000", u32(n + 1)) for n in (1, 2, 3)]},
                    note="c4 has no entry: its frame (packet 4) is dropped"),
               dict(pcap="xsk-switch-traffic-1514", maps={"containers": [
                   (mac(f"02:00:00:00:0c:0{n}") + "0000", u32(n + 1)) for n in (1, 2, 3, 4)]},
                    note="the same table and cycle at 1,514-byte frames (the scenarios' xsk-*-1514.json)")]),

    # --- program structure
    dict(name="xdp_tailcall", shows="A dispatcher tail-calling per-protocol programs through a PROG_ARRAY "
                                    "filled from the object; a self tail call hits the 33-call limit.",
         covers=["tail-calls:prog_array", "map:prog_array", "prog-array-init", "global:.bss", "multiple-programs"],
         runs=[dict(program="xdp_dispatch", pcap="basic_mixed")]),
    dict(name="xdp_subprogs", shows="BPF-to-BPF calls three deep through a cursor on the caller's stack, a "
                                    "five-argument function, a global function taking the context.",
         covers=["bpf-to-bpf-calls", "global-function", "global:.data", "map:hash"],
         runs=[dict(pcap="l4")]),
    dict(name="xdp_global_data", shows=".rodata, .data, .bss, a named .data.counters section and "
                                       ".rodata.str1.1 strings; bpf_probe_read_kernel.",
         covers=["global:.rodata", "global:.data", "global:.bss", "global:.data.custom", "global:.rodata.str1.1"],
         runs=[dict(pcap="global_data")]),
    dict(name="xdp_loops", shows="A bounded for loop with a back edge (IPv4 header checksum) and bpf_loop with "
                                 "a callback (UDP checksum).",
         covers=["bounded-loop", "bpf_loop", "checksum", "map:percpu_array"],
         runs=[dict(pcap="checksums")]),
    dict(name="xdp_for_each", shows="Least-loaded backend choice with bpf_for_each_map_elem (early stop), "
                                    "XDP_TX.",
         covers=["for_each_map_elem", "map:array", "action:tx", "global:.bss", "global:.rodata"],
         runs=[dict(pcap="lb", maps={"backends": [
                   (u32(0), mac("02:00:00:00:03:00") + "0000" + u32(0)),
                   (u32(1), mac("02:00:00:00:03:01") + "0100" + u32(2)),
                   (u32(2), mac("02:00:00:00:03:02") + "0100" + u32(1)),
                   (u32(3), mac("02:00:00:00:03:03") + "0100" + u32(1))]}),
               dict(pcap="lb", maps={"backends": [
                   (u32(1), mac("02:00:00:00:03:01") + "0100" + u32(4)),
                   (u32(5), mac("02:00:00:00:03:05") + "0100" + u32(0))]},
                    note="backend 5 is idle: the first walk stops there")]),
    dict(name="xdp_map_in_map", shows="HASH_OF_MAPS of per-tenant port blocklists (filled by user space) and an "
                                      "ARRAY_OF_MAPS of policy generations (filled from the object).",
         covers=["map:hash_of_maps", "map:array_of_maps", "map-in-map-init", "global:.bss"],
         runs=[dict(pcap="tenants", maps={
                   "tenants": [(ip4("198.51.100.20"), "tenant_web"), (ip4("198.51.100.25"), "tenant_mail")],
                   "tenant_web": [(u16(22), "01")], "tenant_mail": [(u16(25), "01"), (u16(110), "01")],
                   "policy_gen0": [(u32(0), u32(1500))], "policy_gen1": [(u32(0), u32(600))]}),
               dict(pcap="tenants", maps={
                   "tenants": [(ip4("198.51.100.20"), "tenant_web"), (ip4("198.51.100.25"), "tenant_mail")],
                   "tenant_web": [(u16(22), "01")], "tenant_mail": [(u16(25), "01"), (u16(110), "01")],
                   "policy_gen0": [(u32(0), u32(1500))], "policy_gen1": [(u32(0), u32(600))],
                   ".bss": [(u32(0), u32(1))]},
                    note="active_policy = 1: frames over 600 bytes are dropped")]),

    # --- output
    dict(name="xdp_ringbuf", shows="Ring buffer events: reserve/submit/discard, output, query, and a dynptr "
                                   "record (reserve_dynptr, dynptr_write, dynptr_data, submit_dynptr).",
         covers=["ringbuf", "map:ringbuf", "dynptr:ringbuf"],
         runs=[dict(pcap="ringbuf")],
         skip=[dict(field="events", reason="ring buffer records are not read back from the kernel by "
                                           "BPF_PROG_TEST_RUN; compare them only with a consumer attached")]),
    dict(name="xdp_printk", shows="bpf_printk as trace_printk (up to 3 arguments) and trace_vprintk (more); "
                                  "%pI4 and %pI6.",
         covers=["trace_printk", "trace_vprintk", "global:.rodata"],
         runs=[dict(pcap="basic_mixed")],
         skip=[dict(field="trace", reason="trace_pipe is shared by the whole machine; BPF_PROG_TEST_RUN does not "
                                          "return the lines")]),
    dict(name="xdp_sampler", shows="1-in-N sampling with bpf_get_prandom_u32 to a PERF_EVENT_ARRAY "
                                   "(bpf_perf_event_output with packet bytes); the clock helpers.",
         covers=["perf_event_output", "map:perf_event_array", "prandom", "clocks", "map:percpu_array",
                 "global:.rodata", "max-entries-zero"],
         runs=[dict(pcap="basic_mixed")],
         skip=[dict(field="map", map="sampler_stats", reason="the sampled count depends on bpf_get_prandom_u32"),
               dict(field="events", reason="perf records carry clock values, and with no perf event open in the "
                                           "slot the kernel's helper returns -ENOENT and records nothing")]),

    # --- helpers with state
    dict(name="xdp_nat_ports", shows="Source NAT with a QUEUE port pool (pop/push/peek), a STACK of failures "
                                     "(BPF_EXIST), incremental checksums with bpf_csum_diff.",
         covers=["map:queue", "map:stack", "map:hash", "checksum", "global:.bss", "global:.rodata"],
         runs=[dict(pcap="nat", maps={"free_ports": [(None, u16(20000)), (None, u16(20001)), (None, u16(20002))]})]),
    dict(name="xdp_dynptr", shows="Header work through a dynptr over the frame: bpf_dynptr_from_xdp, "
                                  "bpf_dynptr_slice(_rdwr) kfuncs, bpf_dynptr_read/write.",
         covers=["dynptr:xdp", "kfuncs"],
         runs=[dict(pcap="portfwd")]),
    dict(name="xdp_syncookie", shows="SYN-flood shield: raw SYN cookies (IPv4/IPv6) answered with XDP_TX, "
                                     "ACKs checked with the raw check helpers.",
         covers=["syncookie:raw", "action:tx", "adjust_tail:shrink", "checksum", "map:array"],
         runs=[dict(pcap="syn_flood")],
         skip=[dict(field="data", bytes=[38, 42], packets=[0, 1, 7],
                    reason="the SYN cookie (IPv4 TCP sequence number) depends on the kernel's per-boot secret and "
                           "the time"),
               dict(field="data", bytes=[50, 52], packets=[0, 1, 7], reason="the IPv4 TCP checksum covers the cookie"),
               dict(field="data", bytes=[58, 62], packets=[2], reason="the SYN cookie (IPv6 TCP sequence number)"),
               dict(field="data", bytes=[70, 72], packets=[2], reason="the IPv6 TCP checksum covers the cookie")]),
    dict(name="xdp_sk_lookup", shows="Socket lookups (sk_lookup_tcp/udp, skc_lookup_tcp, sk_release) and the "
                                     "socket-based syncookie helpers, against sockets in the lab namespace.",
         covers=["socket-lookup", "syncookie:socket", "map:array"],
         runs=[dict(pcap="sockets", environment="lab", sockets=[
             {"proto": "tcp", "listen": "10.0.0.254:80"},
             {"proto": "tcp", "listen": "[fd00::fe]:80"},
             {"proto": "udp", "bind": "10.0.0.254:53"},
             {"proto": "tcp", "connect": "10.0.0.254:40001->10.0.0.254:80"}])]),
    dict(name="xdp_http_methods", shows="HTTP method classification with bpf_strncmp, bpf_snprintf, "
                                        "bpf_probe_read_kernel_str, bpf_map_lookup_percpu_elem, tai/numa helpers.",
         covers=["strncmp", "snprintf", "map:percpu_array", "global:.rodata", "global:.bss"],
         runs=[dict(pcap="http_requests")],
         skip=[dict(field="map", map=".bss", valueBytes=[16, 24],
                    reason="last_request_tai_ns holds bpf_ktime_get_tai_ns(), the kernel's TAI clock at run time")]),

    # --- ISA
    dict(name="xdp_cpuv4", shows="Sign-extending loads and moves, sdiv/smod (32 and 64 bit), bswap16/32/64 at "
                                 "-mcpu=v4 (shift and unsigned sequences at v2/v3).",
         covers=["cpu-v4:ldsx", "cpu-v4:movsx", "cpu-v4:sdiv", "cpu-v4:smod", "cpu-v4:bswap", "map:array"],
         runs=[dict(pcap="telemetry_udp")]),
    dict(name="xdp_gotol", shows="A 2048-byte fully unrolled FNV-1a hash: clang-19 emits gotol at -mcpu=v4.",
         covers=["cpu-v4:gotol", "global:.bss", "large-program"],
         runs=[dict(pcap="duplicates")]),
    dict(name="xdp_legacy_maps", shows="Legacy struct bpf_map_def maps in SEC(\"maps\"), which libbpf 1.x "
                                       "refuses and the kernel loads.",
         covers=["legacy-maps-section", "map:array", "map:hash"],
         runs=[dict(pcap="legacy", maps={"blocked_src": [(ip4("10.0.0.66"), u64(0))]})],
         load={"legacyMaps": True,
               "note": "libbpf 1.x refuses the object; the kernel run here creates the maps from the "
                       "definitions and patches their fds into the ld_imm64 instructions itself"}),

    # --- device-bound
    dict(name="xdp_metadata_kfuncs", shows="XDP metadata kfuncs (rx_timestamp, rx_hash, rx_vlan_tag) into the "
                                           "metadata area; needs a device-bound load.",
         covers=["metadata:kfuncs", "metadata:adjust_meta", "device-bound", "kfuncs"],
         load={"devBound": "veth0", "environment": "lab",
               "note": "loaded with BPF_F_XDP_DEV_BOUND_ONLY and prog_ifindex = veth0 (3) in the lab namespace; "
                       "Linux refuses it unbound: \"metadata kfuncs require device-bound program\""},
         runs=[dict(pcap="basic_mixed", environment="lab", expected=None)],
         failure={"kind": "kernel-test-run-refused",
                  "reason": "BPF_PROG_TEST_RUN returns -EINVAL for a device-bound program "
                            "(bpf_prog_test_run_xdp: bpf_prog_is_dev_bound), so the kernel gives no verdicts; "
                            "the devices work runs it bound to a veth, where the kfuncs return -ENODATA"}),

    # --- helpers about the task, the clock, strings and counters (issue 3 item 3: every helper exercised)
    dict(name="xdp_strings", shows="Numbers out of key=value text with bpf_strtol/bpf_strtoul (bases 0, 8, 10, "
                                   "16; signs, white space, overflow); a local dynptr over a map value "
                                   "(bpf_dynptr_from_mem, write, read, data).",
         covers=["strtol", "strtoul", "dynptr:mem", "map:array", "global:.bss"],
         runs=[dict(pcap="strings")]),
    dict(name="xdp_timers", shows="Idle timeouts per UDP session with BPF timers in HASH values: init, "
                                  "set_callback, start (relative, BPF_F_TIMER_ABS, BPF_F_TIMER_CPU_PIN), cancel, "
                                  "delete; every error path on ARRAY slots.",
         covers=["timers", "map:hash", "map:array", "callbacks", "global:.bss"],
         runs=[dict(pcap="timers")]),
    dict(name="xdp_task_info", shows="The current-task helpers (pid/tgid, uid/gid, comm, task and task_btf, "
                                     "pt_regs, pid namespace, cgroup ids, classid, task_under_cgroup on an empty "
                                     "CGROUP_ARRAY, task stack, find_vma, signals "
                                     "0 and 65, probe_read_user, snprintf_btf and branch snapshot errors), checked "
                                     "against each other and the task_struct.",
         covers=["current-task", "co-re", "pid-namespace", "cgroup-ids", "task-stack", "pt_regs", "find_vma",
                 "callbacks", "signals", "probe_read_user", "snprintf_btf", "branch-snapshot",
                 "map:array", "map:percpu_array", "map:cgroup_array"],
         runs=[dict(pcap="basic_mixed")],
         skip=[dict(field="map", map="facts", valueBytes=[176, 248],
                    reason="who the task is: pid/tgid, uid/gid, cgroup id and level, classid, comm, the pid "
                           "namespace and find_vma results and the stack depths are the calling process's "
                           "(the test's thread in the kernel, ProcessContext in the VM); the relations between "
                           "them, compared above, hold for both")]),
    dict(name="xdp_perf_read", shows="bpf_perf_event_read and bpf_perf_event_read_value on a PERF_EVENT_ARRAY: "
                                     "the current CPU's and explicit slots, -E2BIG, -EINVAL, -ENOENT, zeroed "
                                     "output.",
         covers=["perf_event_read", "map:perf_event_array", "map:array"],
         runs=[dict(pcap="basic_mixed", note="no perf event is opened in the array: every read fails")],
         skip=[dict(field="map", map="last_reads", valueBytes=[40, 64],
                    reason="the current CPU's slot and slot 0 hold what user space opened there: nothing under "
                           "BPF_PROG_TEST_RUN (-ENOENT), a BPF output event per possible CPU in the VM, as "
                           "libbpf's perf_buffer opens them (counter 0)")]),
    dict(name="xdp_local_storage", shows="Task and cgroup local storage from XDP: bpf_task_storage_get (with and "
                                         "without BPF_LOCAL_STORAGE_GET_F_CREATE, an unknown flag) and "
                                         "bpf_task_storage_delete on the current task, kept across frames; "
                                         "bpf_cgrp_storage_get/delete on a NULL cgroup.",
         covers=["local-storage:task", "local-storage:cgroup", "map:task_storage", "map:cgrp_storage", "map:array",
                 "global:.bss"],
         runs=[dict(pcap="basic_mixed")],
         skip=[dict(field="map", map="task_store",
                    reason="a task storage map cannot be dumped: bpf() names a task by a pidfd and the map has no "
                           "BPF_MAP_GET_NEXT_KEY (-ENOTSUPP); what the program found in it is copied to `results`, "
                           "which is compared"),
               dict(field="map", map="cgrp_store",
                    reason="a cgroup storage map cannot be dumped: bpf() names a cgroup by a cgroup fd and the map "
                           "has no BPF_MAP_GET_NEXT_KEY (-ENOTSUPP); the program's results are in `results`")]),
    dict(name="xdp_user_ringbuf", shows="Commands from user space through a USER_RINGBUF drained with "
                                        "bpf_user_ringbuf_drain: block/allow UDP ports in a HASH (blocked datagrams go to "
                                        "the discard port), a PAUSE record "
                                        "that stops the drain (callback returns 1), bad, empty and discarded "
                                        "records, unknown drain flags.",
         covers=["user-ringbuf", "map:user_ringbuf", "map:hash", "map:array", "callbacks", "dynptr:local"],
         runs=[dict(pcap="telemetry_udp", userRingbuf={"commands": [
             {"sample": u32(1) + u16(9000) + u16(0)},
             {"discard": 8},
             {"sample": u32(1)},
             {"sample": u32(3) + u32(0)},
             {"sample": u32(1) + u16(9001) + u16(0)},
             {"sample": u32(3) + u32(0)},
             {"sample": u32(2) + u16(9000) + u16(0)},
             {"sample": u32(9) + u16(9000) + u16(0)},
             {"sample": ""}]})]),
    dict(name="xdp_kptr", shows="Objects kept in map values: a counter object per slot from bpf_obj_new_impl in "
                                "a __kptr field, taken out and put back with bpf_kptr_xchg, dropped with "
                                "bpf_obj_drop_impl; a per-CPU object from bpf_percpu_obj_new_impl in a "
                                "__percpu_kptr field, reached with bpf_this_cpu_ptr and bpf_per_cpu_ptr (NULL past "
                                "the last CPU), freed with bpf_percpu_obj_drop_impl.",
         covers=["kptr", "kptr:percpu", "kfuncs", "co-re:type-id-local", "per-cpu-ptr", "map:array",
                 "bpf-to-bpf"],
         runs=[dict(pcap="basic_mixed"), dict(pcap="flows")]),
    dict(name="xdp_socket_casts", shows="The bpf_skc_to_* casts (tcp, tcp6, tcp_timewait, tcp_request, udp6, "
                                        "unix, mptcp) on sockets found by skc_lookup_tcp and sk_lookup_udp in the "
                                        "lab namespace.",
         covers=["socket-casts", "socket-lookup", "map:array", "global:.bss"],
         runs=[dict(pcap="sockets", environment="lab", sockets=[
             {"proto": "tcp", "listen": "10.0.0.254:80"},
             {"proto": "tcp", "listen": "[fd00::fe]:80"},
             {"proto": "udp", "bind": "10.0.0.254:53"},
             {"proto": "udp", "bind": "[fd00::fe]:53"},
             {"proto": "tcp", "connect": "10.0.0.254:40001->10.0.0.254:80"}])]),
]

FIXTURES = [
    dict(name="all_opcodes", source="xdp/all_opcodes.s", object="xdp/all_opcodes.o",
         shows="Every instruction form up to cpu v4, one per line (assembler input, not a program).",
         failure={"kind": "not-a-program",
                  "reason": "a disassembler fixture: its .text is not meant to load or run"}),
    dict(name="odd_encodings", source="xdp/odd_encodings.s", object="xdp/odd_encodings.o",
         shows="Raw encodings at the edges of llvm's decoder (not a program).",
         failure={"kind": "not-a-program",
                  "reason": "a disassembler fixture with invalid encodings; it is not meant to load or run"}),
]


# ------------------------------------------------------------------------------------------ helpers and kfuncs

def helper_names():
    names = {}
    with open("/usr/include/bpf/bpf_helper_defs.h") as f:
        for m in re.finditer(r"\(\*(bpf_\w+)\)\([^;]*?\) = \(void \*\) (\d+);", f.read(), re.S):
            names[int(m.group(2))] = m.group(1)
    return names


HELPERS = helper_names()


def calls(path):
    """Helper names and kfunc names an object calls."""
    raw = open(path, "rb").read()
    elf = kern.Elf(raw)
    syms = elf.symbols()
    helpers, kfuncs = set(), set()
    for sec in elf.sections:
        if not (sec["flags"] & 4):
            continue
        relocs = {r["offset"]: r for r in elf.relocations_for(sec["index"])}
        code = raw[sec["offset"]:sec["offset"] + sec["size"]]
        for off in range(0, len(code) - 7, 8):
            if code[off] != 0x85:
                continue
            src = code[off + 1] >> 4
            imm, = struct.unpack_from("<i", code, off + 4)
            if src == 0 and imm != -1 and off not in relocs:
                helpers.add(HELPERS.get(imm, f"helper#{imm}"))
            elif off in relocs and syms[relocs[off]["sym"]]["shndx"] == 0:
                kfuncs.add(syms[relocs[off]["sym"]]["name"])
    return sorted(helpers), sorted(kfuncs)


PROG_TYPES = {"xdp": ("xdp", None), "xdp.frags": ("xdp", None), "xdp/devmap": ("xdp", "BPF_XDP_DEVMAP"),
              "xdp/cpumap": ("xdp", "BPF_XDP_CPUMAP")}


def programs(path):
    raw = open(path, "rb").read()
    elf = kern.Elf(raw)
    out = []
    for sym in elf.symbols():
        if sym["type"] != 2 or sym["shndx"] == 0:
            continue
        sec = elf.sections[sym["shndx"]]["name"]
        if sec == ".text":
            continue
        typ, attach = PROG_TYPES[sec]
        p = {"name": sym["name"], "section": sec, "type": typ}
        if attach:
            p["expectedAttachType"] = attach
        if sec == "xdp.frags":
            p["frags"] = True
        out.append(p)
    return sorted(out, key=lambda p: p["name"])


# ------------------------------------------------------------------------------------------ running

def setup_lab():
    subprocess.run(["ip", "netns", "del", LAB], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "add", LAB], check=True)
    for c in ENVIRONMENTS["lab"]["commands"]:
        subprocess.run(["ip", "netns", "exec", LAB] + c.split(), check=True)
    out = subprocess.run(["ip", "-n", LAB, "-o", "link"], capture_output=True, text=True, check=True).stdout
    got = {m.group(2): int(m.group(1)) for m in re.finditer(r"^(\d+): ([\w]+)[@:]", out, re.M)}
    for d in ENVIRONMENTS["lab"]["devices"]:
        assert got[d["name"]] == d["ifindex"], (d, got)


def maps_env(run):
    out = {}
    for name, entries in (run.get("maps") or {}).items():
        es = []
        for e in entries:
            key, value = e[0], e[1]
            d = {} if key is None else {"key": key}
            d["value"] = value
            if len(e) > 2:
                d["program"] = e[2]
            es.append(d)
        out[name] = {"entries": es}
    return out


def kernel_run(obj, prog, pcap, run, spec):
    env_name = run.get("environment", "default")
    env = ENVIRONMENTS[env_name]
    e = {"maps": maps_env(run)}
    if run.get("sockets"):
        e["sockets"] = run["sockets"]
    if spec.get("load", {}).get("devBound"):
        e["devBound"] = spec["load"]["devBound"]
    if run.get("userRingbuf"):
        e["userRingbuf"] = run["userRingbuf"]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(e, f)
        env_path = f.name
    cmd = [sys.executable, os.path.join(HERE, "kern.py"), obj, prog, pcap, "--env", env_path, "--show-data"]
    if env_name != "default":
        cmd = ["ip", "netns", "exec", LAB] + cmd + ["--ifindex", str(env["ingressIfindex"]),
                                                    "--rxq", str(env["rxQueueIndex"])]
    p = subprocess.run(cmd, capture_output=True, text=True)
    os.unlink(env_path)
    if p.returncode:
        raise SystemExit(f"{obj} {prog} {pcap}: {p.stderr[-3000:]}")
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    return lines[:-1], lines[-1]["maps"]


def verdict(r):
    if "error" in r:
        return {-22: "error:EINVAL"}.get(r["error"], f"error:{r['error']}")
    return r["action"]


def record(spec, kernel):
    name = spec["name"]
    objs = {v: f"xdp/{name}.{v}.o" for v in ("v2", "v3", "v4")}
    progs = programs(os.path.join(CORPUS, objs["v4"]))
    helpers, kfuncs = set(), set()
    for o in objs.values():
        h, k = calls(os.path.join(CORPUS, o))
        helpers |= set(h)
        kfuncs |= set(k)
    entry = {
        "name": name,
        "source": f"xdp/{name}.c",
        "objects": objs,
        "shows": spec["shows"],
        "covers": spec["covers"],
        "programs": progs,
        "helpers": sorted(helpers),
    }
    if kfuncs:
        entry["kfuncs"] = sorted(kfuncs)
    needs = []
    if any(r.get("environment") == "lab" for r in spec["runs"]):
        needs.append("netns")
    if any(r.get("sockets") for r in spec["runs"]):
        needs.append("sockets")
    if spec.get("load", {}).get("devBound"):
        needs.append("device-bound-load")
    if spec.get("load", {}).get("legacyMaps"):
        needs.append("legacy-maps-loader")
    if spec.get("requires", {}).get("cpus"):
        needs.append(f"cpus>={spec['requires']['cpus']}")
    if needs:
        entry["needs"] = needs
    if spec.get("load"):
        entry["load"] = spec["load"]
    runs = []
    testable = [p["name"] for p in progs if p.get("expectedAttachType") is None]
    for run in spec["runs"]:
        prog = run.get("program") or (testable[0] if len(testable) == 1 else None)
        assert prog, (name, testable)
        env_name = run.get("environment", "default")
        r = {"program": prog, "pcap": f"pcaps/{run['pcap']}.pcap", "environment": env_name}
        if run.get("note"):
            r["note"] = run["note"]
        if run.get("maps"):
            r["maps"] = maps_env(run)
        if run.get("sockets"):
            r["sockets"] = run["sockets"]
        if run.get("userRingbuf"):
            r["userRingbuf"] = run["userRingbuf"]
        if "expected" in run and run["expected"] is None:
            r["expected"] = None
        else:
            pcap = os.path.join(HERE, run["pcap"] + ".pcap")
            verdicts = {}
            for v, o in objs.items():
                res, maps = kernel_run(os.path.join(CORPUS, o), prog, pcap, run, spec)
                verdicts[v] = [verdict(x) for x in res]
            assert verdicts["v2"] == verdicts["v3"] == verdicts["v4"], (name, verdicts)
            r["expected"] = verdicts["v4"]
            r["expectedFrom"] = kernel
            r["_maps"] = maps
            r["_data"] = [x.get("data") for x in res]
        runs.append(r)
    entry["runs"] = runs
    if spec.get("untestable"):
        entry["kernelSkipPrograms"] = [{"program": p, "reason": why} for p, why in spec["untestable"]]
    if spec.get("skip"):
        entry["kernelSkipFields"] = spec["skip"]
    if spec.get("failure"):
        entry["expectedFailure"] = spec["failure"]
    return entry


FORMAT = {
    "objects": "one entry per C source: its objects at cpu v2, v3 and v4 (the same verdicts at every level), "
               "the programs in it (function symbol, ELF section, program type; expectedAttachType for "
               "xdp/devmap and xdp/cpumap programs; frags for xdp.frags), the helpers and kfuncs its code calls, "
               "covers (tags for what it shows), needs (netns: a run uses the lab namespace; sockets: the run "
               "needs the sockets it lists; device-bound-load: load with BPF_F_XDP_DEV_BOUND_ONLY and "
               "prog_ifindex, see load; legacy-maps-loader: libbpf 1.x refuses the object; cpus>=N: cpumap "
               "entries for that many CPUs), and the runs to check",
    "runs": "program: the function to run; pcap: relative to corpus/; environment: a key of environments; "
            "maps: initial map contents in vethxdp's --maps-in format (keys and values as lowercase hex of the "
            "raw bytes; array maps list the entries to set; a queue's entries have no key and are pushed in "
            "order; prog_array values name a program; devmap, devmap_hash and cpumap values are the ifindex or "
            "queue size as a number, with \"program\" naming the program attached to the entry; "
            "array_of_maps and hash_of_maps values name the inner map; global data sections are named like "
            "their sections, e.g. \".data\", with the whole section as one value at key 0); sockets: sockets "
            "that must exist in the environment; userRingbuf: records user space writes into a user_ringbuf map before the "
            "first frame, in order, as libbpf's user_ring_buffer does ({\"sample\": hex}: reserved and submitted; "
            "{\"discard\": N}: N bytes reserved and discarded); expected: the kernel's verdict for each packet in order "
            "(XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT), or error:EINVAL where BPF_PROG_TEST_RUN "
            "refuses the frame (shorter than 14 bytes); null where the kernel cannot run it",
    "kernelSkipFields": "what a kernel cross-check cannot compare, each with a reason. field \"data\": bytes "
                        "[a, b) of the frame after the program, counted from data (not data_meta), in the listed "
                        "packets; field \"map\": the map named (all of it, or valueBytes [a, b) of every "
                        "value); field \"events\": ring buffer and perf records; field \"trace\": "
                        "trace_printk output",
    "kernelSkipPrograms": "programs the kernel's BPF_PROG_TEST_RUN cannot run, with the reason",
    "expectedFailure": "kind and reason where the object, or the kernel, does not do what the runs describe",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--out", default=os.path.join(CORPUS, "manifest.json"))
    ap.add_argument("--dump", help="also write every run's final maps and output bytes here (JSON)")
    ap.add_argument("--merge", action="store_true",
                    help="with --only: replace (or add) those entries in the manifest, keeping every other entry")
    ap.add_argument("--check", action="store_true",
                    help="compare the kernel's verdicts with the manifest's instead of writing it; exit 1 on a difference")
    a = ap.parse_args()
    kernel = f"Linux {platform.release()}"
    setup_lab()
    try:
        entries = []
        dump = {}
        for spec in SPECS:
            if a.only and spec["name"] not in a.only:
                continue
            e = record(spec, kernel)
            for i, r in enumerate(e["runs"]):
                dump[f"{spec['name']}#{i}"] = {"maps": r.pop("_maps", None), "data": r.pop("_data", None)}
            entries.append(e)
            if a.only:
                print(e["name"], [r["expected"] for r in e["runs"]])
    finally:
        subprocess.run(["ip", "netns", "del", LAB])
    if a.dump:
        with open(a.dump, "w") as f:
            json.dump(dump, f, indent=1)
    if a.only and a.merge:
        merge(a.out, entries)
        return
    if a.only:
        return
    manifest = {
        "description": "The XDP corpus: what each object is, which pcaps it runs on, the environment it needs, "
                       "and the verdicts the kernel gave. Written by pcaps/record_kernel.py; see README.md.",
        "kernel": kernel,
        "toolchain": "Debian clang version 19.1.7 (3~deb12u1); clang-19 -O2 -g -target bpf -mcpu=vN "
                     "-I/usr/include/x86_64-linux-gnu",
        "format": FORMAT,
        "environments": ENVIRONMENTS,
        "objects": entries,
        "fixtures": FIXTURES,
    }
    if a.check:
        with open(a.out) as f:
            old = json.load(f)
        bad = 0
        old_by_name = {o["name"]: o for o in old["objects"]}
        for o_new in manifest["objects"]:
            o_old = old_by_name.get(o_new["name"])
            if o_old is None:
                bad += 1
                print(f"{o_new['name']}: not in the manifest")
                continue
            for r_new, r_old in zip(o_new["runs"], o_old["runs"]):
                if r_new.get("expected") != r_old.get("expected"):
                    bad += 1
                    print(f"{o_new['name']} {r_new['pcap']}: manifest {r_old.get('expected')}, "
                          f"kernel {r_new.get('expected')}")
        print(f"{kernel}: {'every recorded verdict holds' if not bad else f'{bad} runs differ'}")
        sys.exit(1 if bad else 0)
    with open(a.out, "w") as f:
        f.write(to_json(manifest) + "\n")


def merge(path, entries):
    """Puts entries into the manifest at path in SPECS order, replacing entries of the same name; the file is read
    right before it is written, so entries another writer added meanwhile stay."""
    with open(path) as f:
        manifest = json.load(f)
    objects = manifest["objects"]
    order = [s["name"] for s in SPECS]
    for e in entries:
        names = [o["name"] for o in objects]
        if e["name"] in names:
            objects[names.index(e["name"])] = e
            continue
        # after the last entry that comes before it in SPECS
        at = len(objects)
        later = set(order[order.index(e["name"]) + 1:]) if e["name"] in order else set()
        for i, o in enumerate(objects):
            if o["name"] in later:
                at = i
                break
        objects.insert(at, e)
    with open(path, "w") as f:
        f.write(to_json(manifest) + "\n")
    print(f"{path}: merged {', '.join(e['name'] for e in entries)}")


def to_json(value, indent=0):
    """JSON with short lists and objects on one line, the rest indented by two."""
    flat = json.dumps(value, separators=(", ", ": "))
    if len(flat) + indent <= 116 or not isinstance(value, (list, dict)) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, list):
        items = [pad + to_json(v, indent + 2) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = [pad + json.dumps(k) + ": " + to_json(v, indent + 2) for k, v in value.items()]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


if __name__ == "__main__":
    main()
