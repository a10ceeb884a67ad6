// A bpf_user_ringbuf_drain callback that reads past the end of its context (the caller's 8-byte stack slot): Linux
// verifies the callback's body at the drain call, so the out-of-frame read is refused there.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
    __uint(max_entries, 4096);
} commands SEC(".maps");

static long take(struct bpf_dynptr *d, void *data)
{
    volatile __u64 *c = data;

    return c[3] ? 0 : 1;
}

SEC("xdp")
int cb_ringbuf_oob(struct xdp_md *ctx)
{
    __u64 seen = 0;

    bpf_user_ringbuf_drain(&commands, take, &seen, 0);
    return seen ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
