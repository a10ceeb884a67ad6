// SPDX-License-Identifier: GPL-2.0
// Idle timeouts for UDP sessions with BPF timers: each session's HASH entry holds a struct bpf_timer, set up with
// bpf_timer_init and bpf_timer_set_callback and armed for an hour with bpf_timer_start when the session opens,
// re-armed by its traffic, disarmed with bpf_timer_cancel, and freed with the entry by bpf_map_delete_elem. The
// callback (which would delete an idle session) never fires while the sample runs, so every outcome here is a
// return code: a control word at the start of the payload (to UDP port 7000) says what to do:
//   "open"  init (0, or -EBUSY when the session's timer already exists), set_callback, start;
//   "data"  count, start again (re-arming an armed timer is allowed);
//   "stop"  cancel (1: it was armed, 0: it was not), start again (-EINVAL: cancel dropped the callback);
//   "close" delete the session and its timer;
//   "probe" the error paths on a fresh timer in an ARRAY slot: set_callback, start and cancel before init
//           (-EINVAL), init with a clock the helper refuses (-EINVAL), init with CLOCK_BOOTTIME, init again
//           (-EBUSY), start before a callback is set (-EINVAL), start with unknown flags (-EINVAL), then
//           start with BPF_F_TIMER_ABS at an absolute time and with BPF_F_TIMER_CPU_PIN, and cancel twice.
// Commands for a session that does not exist drop the datagram; everything else passes.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define SESSION_PORT 7000
#define HOUR_NS (3600ULL * 1000000000ULL)
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_BOOTTIME 7
#define PROBES 4
/* enum bpf_timer_flags (Linux 6.7 and 6.8); Debian 12's UAPI headers are 6.1's. */
#define BPF_F_TIMER_ABS (1ULL << 0)
#define BPF_F_TIMER_CPU_PIN (1ULL << 1)

struct session_key {
    __u32 addr;
    __u16 port;
    __u16 pad;
};

struct session {
    struct bpf_timer idle;
    __u64 packets;
    __s32 ret_init, ret_set_callback, ret_start;
    __s32 ret_restart;                  /* "data" */
    __s32 ret_cancel, ret_start_after_cancel;   /* "stop" */
    __u32 expired;                      /* set by the callback */
    __u32 pad;
};

struct probe {
    struct bpf_timer t;
    __s32 ret[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, struct session_key);
    __type(value, struct session);
} sessions SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, PROBES);
    __type(key, __u32);
    __type(value, struct probe);
} probes SEC(".maps");

__u32 probes_run;                       /* .bss */
__s32 last_delete;                      /* .bss */

static int session_idle(void *map, struct session_key *key, struct session *s)
{
    s->expired++;
    bpf_map_delete_elem(map, key);
    return 0;
}

static int probe_fired(void *map, __u32 *key, struct probe *p)
{
    p->ret[15]++;
    return 0;
}

static __always_inline int run_probe(void)
{
    __u32 slot = probes_run++;
    struct probe *p;

    if (slot >= PROBES)
        return XDP_PASS;
    p = bpf_map_lookup_elem(&probes, &slot);
    if (!p)
        return XDP_ABORTED;
    p->ret[0] = bpf_timer_set_callback(&p->t, probe_fired);
    p->ret[1] = bpf_timer_start(&p->t, HOUR_NS, 0);
    p->ret[2] = bpf_timer_cancel(&p->t);
    p->ret[3] = bpf_timer_init(&p->t, &probes, CLOCK_PROCESS_CPUTIME_ID);
    p->ret[4] = bpf_timer_init(&p->t, &probes, CLOCK_BOOTTIME);
    p->ret[5] = bpf_timer_init(&p->t, &probes, CLOCK_MONOTONIC);
    p->ret[6] = bpf_timer_start(&p->t, HOUR_NS, 0);
    p->ret[7] = bpf_timer_set_callback(&p->t, probe_fired);
    p->ret[8] = bpf_timer_start(&p->t, HOUR_NS, 1 << 4);
    p->ret[9] = bpf_timer_start(&p->t, bpf_ktime_get_boot_ns() + HOUR_NS, BPF_F_TIMER_ABS);
    p->ret[10] = bpf_timer_start(&p->t, HOUR_NS, BPF_F_TIMER_CPU_PIN);
    p->ret[11] = bpf_timer_cancel(&p->t);
    p->ret[12] = bpf_timer_cancel(&p->t);
    return XDP_PASS;
}

SEC("xdp")
int xdp_timers(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct udphdr *udp;
    struct session_key key = {};
    struct session *s, fresh = {};
    char *cmd;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
        return XDP_PASS;
    udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(SESSION_PORT))
        return XDP_PASS;
    cmd = (void *)(udp + 1);
    if ((void *)(cmd + 4) > data_end)
        return XDP_DROP;

    key.addr = ip->saddr;
    key.port = udp->source;
    s = bpf_map_lookup_elem(&sessions, &key);

    if (cmd[0] == 'o' && cmd[1] == 'p' && cmd[2] == 'e' && cmd[3] == 'n') {
        if (!s) {
            if (bpf_map_update_elem(&sessions, &key, &fresh, BPF_NOEXIST))
                return XDP_DROP;
            s = bpf_map_lookup_elem(&sessions, &key);
            if (!s)
                return XDP_ABORTED;
        }
        s->ret_init = bpf_timer_init(&s->idle, &sessions, CLOCK_MONOTONIC);
        s->ret_set_callback = bpf_timer_set_callback(&s->idle, session_idle);
        s->ret_start = bpf_timer_start(&s->idle, HOUR_NS, 0);
        s->packets++;
        return XDP_PASS;
    }
    if (cmd[0] == 'p' && cmd[1] == 'r' && cmd[2] == 'o' && cmd[3] == 'b')
        return run_probe();
    if (!s)
        return XDP_DROP;
    if (cmd[0] == 'd' && cmd[1] == 'a' && cmd[2] == 't' && cmd[3] == 'a') {
        s->packets++;
        s->ret_restart = bpf_timer_start(&s->idle, HOUR_NS, 0);
        return XDP_PASS;
    }
    if (cmd[0] == 's' && cmd[1] == 't' && cmd[2] == 'o' && cmd[3] == 'p') {
        s->packets++;
        s->ret_cancel = bpf_timer_cancel(&s->idle);
        s->ret_start_after_cancel = bpf_timer_start(&s->idle, HOUR_NS, 0);
        return XDP_PASS;
    }
    if (cmd[0] == 'c' && cmd[1] == 'l' && cmd[2] == 'o' && cmd[3] == 's') {
        last_delete = bpf_map_delete_elem(&sessions, &key);
        return XDP_PASS;
    }
    return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
