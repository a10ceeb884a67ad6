// SPDX-License-Identifier: GPL-2.0
// A forwarder's header work done through a dynptr over the frame instead of direct packet pointers, the style
// that also works for multi-buffer frames. bpf_dynptr_from_xdp (a kfunc) makes the dynptr; bpf_dynptr_slice
// gives a read-only pointer to the Ethernet header and bpf_dynptr_slice_rdwr a writable one to the IPv4 header
// (both kfuncs copy into the stack buffer they are given when the bytes are not in the linear part; a NULL slice
// means the frame is too short). The TTL is decremented with an incremental checksum update and the header is
// written back with bpf_dynptr_write (needed when the slice was a copy). A port forward then rewrites TCP/UDP
// destination port 8080 to 80: bpf_dynptr_read copies the ports and the checksum out, bpf_dynptr_write puts the
// new ones back. Frames with TTL <= 1 and non-IPv4 frames pass untouched; short frames are dropped.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

extern int bpf_dynptr_from_xdp(struct xdp_md *xdp, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *ptr, __u32 offset, void *buffer__opt,
                              __u32 buffer__szk) __ksym;
extern void *bpf_dynptr_slice_rdwr(const struct bpf_dynptr *ptr, __u32 offset, void *buffer__opt,
                                   __u32 buffer__szk) __ksym;

#define FROM_PORT 8080
#define TO_PORT 80

struct l4_ports {
    __be16 source;
    __be16 dest;
};

/* RFC 1624: HC' = ~(~HC + ~m + m'), for one 16-bit word m changing to m' */
static __always_inline __u16 csum_update16(__u16 check, __u16 old, __u16 new)
{
    __u32 sum = (__u16)~check + (__u16)~old + new;

    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return ~sum;
}

SEC("xdp")
int xdp_dynptr(struct xdp_md *ctx)
{
    struct bpf_dynptr frame;
    struct ethhdr eth_buf, *eth;
    struct iphdr ip_buf, *ip;
    struct l4_ports ports;
    __u32 l4_off, check_off;
    __u16 check, old_ttl_word;
    __u8 proto;

    if (bpf_dynptr_from_xdp(ctx, 0, &frame))
        return XDP_ABORTED;
    eth = bpf_dynptr_slice(&frame, 0, &eth_buf, sizeof(eth_buf));
    if (!eth)
        return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;

    ip = bpf_dynptr_slice_rdwr(&frame, sizeof(*eth), &ip_buf, sizeof(ip_buf));
    if (!ip)
        return XDP_DROP;
    if (ip->version != 4 || ip->ihl < 5 || ip->ttl <= 1)
        return XDP_PASS;

    old_ttl_word = bpf_ntohs(*(__be16 *)&ip->ttl);      /* TTL and protocol share a word */
    ip->ttl--;
    ip->check = bpf_htons(csum_update16(bpf_ntohs(ip->check), old_ttl_word, old_ttl_word - 0x100));
    proto = ip->protocol;
    l4_off = sizeof(*eth) + ip->ihl * 4;
    if (bpf_dynptr_write(&frame, sizeof(*eth), ip, sizeof(*ip), 0))
        return XDP_DROP;

    if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
        return XDP_PASS;
    if (bpf_dynptr_read(&ports, sizeof(ports), &frame, l4_off, 0))
        return XDP_DROP;
    if (ports.dest != bpf_htons(FROM_PORT))
        return XDP_PASS;
    check_off = l4_off + (proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) : offsetof(struct udphdr, check));
    if (bpf_dynptr_read(&check, sizeof(check), &frame, check_off, 0))
        return XDP_DROP;
    ports.dest = bpf_htons(TO_PORT);
    if (!(proto == IPPROTO_UDP && check == 0))          /* UDP checksum 0: none */
        check = bpf_htons(csum_update16(bpf_ntohs(check), FROM_PORT, TO_PORT));
    if (bpf_dynptr_write(&frame, l4_off, &ports, sizeof(ports), 0) ||
        bpf_dynptr_write(&frame, check_off, &check, sizeof(check), 0))
        return XDP_DROP;
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
