// A timer callback that returns 1: Linux verifies bpf_timer_set_callback's callback as an asynchronous program of its
// own, whose R0 must be 0 at its exit, so the load is refused in the callback.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct elem {
    struct bpf_timer t;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct elem);
} timers SEC(".maps");

static int fire(void *map, __u32 *key, struct elem *val)
{
    return 1;
}

SEC("xdp")
int cb_timer_ret1(struct xdp_md *ctx)
{
    __u32 k = 0;
    struct elem *e = bpf_map_lookup_elem(&timers, &k);

    if (!e)
        return XDP_PASS;
    bpf_timer_init(&e->t, &timers, 1);
    bpf_timer_set_callback(&e->t, fire);
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
