// SPDX-License-Identifier: GPL-2.0
// A packet sampler (sFlow-style): one frame in sample_rate (in .rodata), chosen with bpf_get_prandom_u32, is
// sent to user space through a PERF_EVENT_ARRAY with bpf_perf_event_output. The flags say BPF_F_CURRENT_CPU
// (the ring of the CPU we run on) and, in their upper 32 bits, how many bytes of the frame the helper should
// append after the record (up to 128). The record carries three clocks (bpf_ktime_get_boot_ns,
// bpf_ktime_get_coarse_ns, bpf_jiffies64), bpf_get_smp_processor_id and the frame length. Counters of seen and
// sampled frames are kept in a PERCPU_ARRAY. Every frame passes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SAMPLE_BYTES 128

const volatile __u32 sample_rate = 4;

struct sample {
    __u64 boot_ns;
    __u64 coarse_ns;
    __u64 jiffies;
    __u32 cpu;
    __u32 frame_len;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} samples SEC(".maps");                 /* max_entries 0: libbpf sizes it to the number of CPUs */

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);                 /* 0 seen, 1 sampled */
    __type(value, __u64);
} sampler_stats SEC(".maps");

static __always_inline void bump(__u32 key)
{
    __u64 *n = bpf_map_lookup_elem(&sampler_stats, &key);

    if (n)
        *n += 1;
}

SEC("xdp")
int xdp_sampler(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u64 len = data_end - data;
    struct sample s;
    __u64 flags;

    bump(0);
    if (bpf_get_prandom_u32() % sample_rate != 0)
        return XDP_PASS;
    bump(1);

    s.boot_ns = bpf_ktime_get_boot_ns();
    s.coarse_ns = bpf_ktime_get_coarse_ns();
    s.jiffies = bpf_jiffies64();
    s.cpu = bpf_get_smp_processor_id();
    s.frame_len = len;
    flags = BPF_F_CURRENT_CPU | ((len < SAMPLE_BYTES ? len : SAMPLE_BYTES) << 32);
    bpf_perf_event_output(ctx, &samples, flags, &s, sizeof(s));
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
