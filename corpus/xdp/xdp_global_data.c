// SPDX-License-Identifier: GPL-2.0
// Global variables. libbpf turns each data section into a single-entry ARRAY map named after the section,
// and every access into a 64-bit pseudo map-value load (ld_imm64 with src_reg BPF_PSEUDO_MAP_VALUE) of the
// map's value plus the variable's offset:
//  .rodata         const volatile configuration (frozen after load; a skeleton would set it before) and a
//                  const table of ports;
//  .data           initialised variables;           .bss   zero-initialised ones;
//  .data.counters  a named data section (SEC(".data.counters"));
//  .rodata.str1.1  string literals; bpf_probe_read_kernel copies one of them into a .data buffer.
// Policy: frames longer than max_frame_len, or to a multicast MAC when drop_multicast is set, are dropped;
// TCP/UDP frames to a well-known port remember its name; everything is counted.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 max_frame_len = 1514;
const volatile __u8 drop_multicast = 1;
const __u16 well_known[4] = { 22, 53, 80, 443 };

__u32 config_version = 3;               /* .data */
char last_service[8] = "none";          /* .data */

__u64 frames_seen;                      /* .bss */
__u64 bytes_seen;                       /* .bss */
__u32 verdict_count[XDP_REDIRECT + 1];  /* .bss */

__u64 oversize_frames SEC(".data.counters") = 0;
__u64 multicast_frames SEC(".data.counters") = 0;

static __always_inline int done(int verdict)
{
    verdict_count[verdict]++;
    return verdict;
}

static __always_inline void remember(__u16 port)
{
    const char *name;

    switch (port) {
    case 22: name = "ssh"; break;
    case 53: name = "domain"; break;
    case 80: name = "http"; break;
    default: name = "https"; break;
    }
    bpf_probe_read_kernel(last_service, sizeof(last_service), name);
}

SEC("xdp")
int xdp_global_data(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct udphdr *ports;
    __u32 len = data_end - data;
    int i;

    frames_seen++;
    bytes_seen += len;
    if (len > max_frame_len) {
        oversize_frames++;
        return done(XDP_DROP);
    }
    if ((void *)(eth + 1) > data_end)
        return done(XDP_DROP);
    if (eth->h_dest[0] & 1) {
        multicast_frames++;
        if (drop_multicast)
            return done(XDP_DROP);
    }
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return done(XDP_PASS);
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl != 5)
        return done(XDP_PASS);
    if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
        return done(XDP_PASS);
    ports = (void *)(ip + 1);
    if ((void *)(ports + 1) > data_end)
        return done(XDP_PASS);

    for (i = 0; i < 4; i++) {
        if (bpf_ntohs(ports->dest) == well_known[i]) {
            remember(well_known[i]);
            break;
        }
    }
    return done(XDP_PASS);
}

char _license[] SEC("license") = "GPL";
