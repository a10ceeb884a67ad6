// SPDX-License-Identifier: GPL-2.0
// Looks at the first bytes of a TCP payload to port 80 and classifies the HTTP request method, a layer-7 hint
// for a load balancer, using the general helpers any program type may call:
//  - bpf_strncmp compares the payload's first bytes (copied to the stack) with method names in .rodata (the
//    helper wants its second string in a read-only map);
//  - bpf_probe_read_kernel_str copies the matched name into .bss;
//  - bpf_snprintf formats a one-line summary into a .bss buffer (format string in .rodata);
//  - bpf_map_lookup_percpu_elem reads every CPU's slot of a PERCPU_ARRAY to total the requests so far;
//  - bpf_ktime_get_tai_ns stamps the last request and bpf_get_numa_node_id records the node it ran on.
// TRACE and CONNECT requests are dropped; other methods and everything else pass.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define PREFIX 8
#define NUM_METHODS 6
#define MAX_CPUS 16

const char method_names[NUM_METHODS][PREFIX] = { "GET ", "HEAD ", "POST ", "PUT ", "TRACE ", "CONNECT " };
const __u32 method_lens[NUM_METHODS] = { 4, 5, 5, 4, 6, 8 };
const char summary_fmt[] = "%s from %pI4:%u, request %llu";

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, NUM_METHODS);
    __type(key, __u32);
    __type(value, __u64);
} requests SEC(".maps");

char last_method[PREFIX];               /* .bss */
char last_summary[64];                  /* .bss */
__u64 last_request_tai_ns;              /* .bss */
__u32 last_numa_node;                   /* .bss */
__u64 total_requests;                   /* .bss: over every CPU, after the last request */

static __always_inline __u64 sum_all_cpus(__u32 key)
{
    __u64 total = 0, *n;
    __u32 cpu;

    for (cpu = 0; cpu < MAX_CPUS; cpu++) {
        n = bpf_map_lookup_percpu_elem(&requests, &key, cpu);
        if (!n)
            break;                      /* past the last possible CPU */
        total += *n;
    }
    return total;
}

SEC("xdp")
int xdp_http_methods(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct tcphdr *th;
    char prefix[PREFIX];
    __u64 args[4], *n;
    __u32 i, total_len, key;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_TCP)
        return XDP_PASS;
    th = (void *)(ip + 1);
    if ((void *)(th + 1) > data_end || th->dest != bpf_htons(80) || th->doff < 5)
        return XDP_PASS;
    total_len = sizeof(*eth) + sizeof(*ip) + th->doff * 4;
    if (bpf_xdp_load_bytes(ctx, total_len, prefix, sizeof(prefix)))
        return XDP_PASS;                /* fewer than 8 payload bytes: not a request line */

    for (i = 0; i < NUM_METHODS; i++) {
        if (bpf_strncmp(prefix, method_lens[i] < PREFIX ? method_lens[i] : PREFIX, method_names[i]) == 0)
            break;
    }
    if (i >= NUM_METHODS)
        return XDP_PASS;

    key = i;
    n = bpf_map_lookup_elem(&requests, &key);
    if (n)
        *n += 1;
    total_requests = sum_all_cpus(key);
    bpf_probe_read_kernel_str(last_method, sizeof(last_method), method_names[i]);
    last_request_tai_ns = bpf_ktime_get_tai_ns();
    last_numa_node = bpf_get_numa_node_id();

    args[0] = (__u64)(long)method_names[i];
    args[1] = (__u64)(long)&ip->saddr;
    args[2] = bpf_ntohs(th->source);
    args[3] = total_requests;
    bpf_snprintf(last_summary, sizeof(last_summary), summary_fmt, args, sizeof(args));

    return i >= 4 ? XDP_DROP : XDP_PASS;  /* TRACE, CONNECT */
}

char _license[] SEC("license") = "GPL";
