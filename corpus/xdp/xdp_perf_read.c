// SPDX-License-Identifier: GPL-2.0
// Reads hardware counters from an XDP program: user space may open one perf event per CPU (cycles, say) and store
// its fd in a PERF_EVENT_ARRAY; the program then reads the current CPU's counter with bpf_perf_event_read and
// bpf_perf_event_read_value (counter, time enabled, time running) to charge each frame's cost to its protocol.
// With no event in a slot the helpers say so, and the program counts frames only:
//  - bpf_perf_event_read(map, BPF_F_CURRENT_CPU) and with an explicit index: -ENOENT for an empty slot (as a u64
//    holding the negative errno), -E2BIG for an index past the array, -EINVAL for flags outside BPF_F_INDEX_MASK;
//  - bpf_perf_event_read_value: the same errors with the output zeroed, and -EINVAL (zeroed) when the output is not
//    the 24 bytes of struct bpf_perf_event_value.
// The kernel runs it with the array empty (the manifest's maps cannot hold perf event fds), so every read fails and
// the cost columns stay 0; the last slot is empty wherever it runs. Frames shorter than an Ethernet header are
// dropped, everything else passes.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define SLOTS 128                       /* past any machine's CPU count: the last slot stays empty */

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(max_entries, SLOTS);
    __type(key, __u32);
    __type(value, __u32);
} cycles SEC(".maps");

enum proto { P_IPV4, P_IPV6, P_OTHER, PROTOS };

struct cost {
    __u64 frames;
    __u64 cycles;                       /* summed counter deltas, when a counter could be read */
    __u64 enabled_ns, running_ns;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, PROTOS);
    __type(key, __u32);
    __type(value, struct cost);
} costs SEC(".maps");

struct read_results {
    /* the same wherever it runs */
    __s64 read_last_slot, read_past_end, read_bad_flags;
    __s32 value_last_slot, value_past_end, value_bad_size;
    __u32 value_zeroed;                 /* each of these failed reads left its output zeroed */
    /* the current CPU's slot and slot 0: what user space put there */
    __s64 read_current, read_slot0;
    __s32 value_current, value_slot0;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct read_results);
} last_reads SEC(".maps");

static __always_inline int zeroed(const struct bpf_perf_event_value *v)
{
    return v->counter == 0 && v->enabled == 0 && v->running == 0;
}

SEC("xdp")
int xdp_perf_read(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct bpf_perf_event_value before = {}, after = {}, probe;
    struct read_results *r;
    struct cost *c;
    __u32 key = 0, p;
    long ret_before, ret_after;
    __u64 big[4];

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    ret_before = bpf_perf_event_read_value(&cycles, BPF_F_CURRENT_CPU, &before, sizeof(before));

    p = eth->h_proto == bpf_htons(ETH_P_IP) ? P_IPV4 : eth->h_proto == bpf_htons(ETH_P_IPV6) ? P_IPV6 : P_OTHER;
    c = bpf_map_lookup_elem(&costs, &p);
    r = bpf_map_lookup_elem(&last_reads, &key);
    if (!c || !r)
        return XDP_ABORTED;
    c->frames++;

    r->read_current = (__s64)bpf_perf_event_read(&cycles, BPF_F_CURRENT_CPU);
    r->read_slot0 = (__s64)bpf_perf_event_read(&cycles, 0);
    r->read_last_slot = (__s64)bpf_perf_event_read(&cycles, SLOTS - 1);
    r->read_past_end = (__s64)bpf_perf_event_read(&cycles, SLOTS);
    r->read_bad_flags = (__s64)bpf_perf_event_read(&cycles, 1ULL << 33);

    r->value_current = ret_before;
    r->value_slot0 = bpf_perf_event_read_value(&cycles, 0, &probe, sizeof(probe));
    r->value_zeroed = 1;
    __builtin_memset(&probe, 0xff, sizeof(probe));
    r->value_last_slot = bpf_perf_event_read_value(&cycles, SLOTS - 1, &probe, sizeof(probe));
    if (r->value_last_slot && !zeroed(&probe))
        r->value_zeroed = 0;
    __builtin_memset(&probe, 0xff, sizeof(probe));
    r->value_past_end = bpf_perf_event_read_value(&cycles, SLOTS + 1, &probe, sizeof(probe));
    if (r->value_past_end && !zeroed(&probe))
        r->value_zeroed = 0;
    __builtin_memset(big, 0xff, sizeof(big));
    r->value_bad_size = bpf_perf_event_read_value(&cycles, BPF_F_CURRENT_CPU, (void *)big, sizeof(big));
    if (big[0] | big[1] | big[2] | big[3])
        r->value_zeroed = 0;

    ret_after = bpf_perf_event_read_value(&cycles, BPF_F_CURRENT_CPU, &after, sizeof(after));
    if (ret_before == 0 && ret_after == 0) {
        c->cycles += after.counter - before.counter;
        c->enabled_ns += after.enabled - before.enabled;
        c->running_ns += after.running - before.running;
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
