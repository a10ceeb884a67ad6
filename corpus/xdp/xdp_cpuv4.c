// SPDX-License-Identifier: GPL-2.0
// Source that clang-19 compiles to the cpu v4 instructions when built with -mcpu=v4: sign-extending loads
// (r = *(s8/s16/s32 *)), sign-extending moves (r = (s8/s16/s32)r), signed division and modulo (s/=, s%=) and
// the unconditional byte swap (bswap16/32/64) that bpf_ntohs/bpf_ntohl/__builtin_bswap64 become. The same
// source builds at v2 and v3 too, where clang uses shifts and be16/be32/be64, and signed division goes
// through magnitudes: clang refuses sdiv below v4, so that part is behind __BPF_CPU_VERSION__.
// The program reads a small telemetry protocol over UDP port 9000 whose fields are signed: a temperature (s8),
// a delta (s16, network order), an offset (s32, network order), a sample count, a 64-bit sequence number, and a
// vendor extension written by a little-endian sensor (s16 trim, s32 drift, loaded as they are). It keeps the mean
// delta per sample (sdiv), the offset's remainder modulo the sample count (smod), the drift per sample in
// thousandths (a 64-bit sdiv) and the rest in an ARRAY.
// Samples out of range are dropped.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TELEMETRY_PORT 9000

struct telemetry {
    __s8 temperature;                   /* degrees Celsius */
    __u8 samples;
    __be16 delta;                       /* signed, network order */
    __be32 offset;                      /* signed, network order */
    __be64 sequence;
    __s16 trim;                         /* little-endian vendor extension */
    __u16 reserved;
    __s32 drift;
};

struct summary {
    __s64 temperature;
    __s64 mean_delta;
    __s64 offset;
    __s64 offset_rem;
    __u64 sequence;
    __s64 trim;
    __s64 drift;
    __s64 milli_drift_per_sample;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct summary);
} last SEC(".maps");

/* The sign rules of C (and of the BPF sdiv/smod instructions): the quotient truncates toward zero, the
 * remainder takes the sign of the dividend. */
static __always_inline __s64 signed_div(__s64 a, __s64 b)
{
#if __BPF_CPU_VERSION__ >= 4
    return a / b;                       /* sdiv */
#else
    __u64 ua = a < 0 ? -(__u64)a : (__u64)a;
    __u64 ub = b < 0 ? -(__u64)b : (__u64)b;

    return (a < 0) != (b < 0) ? -(__s64)(ua / ub) : (__s64)(ua / ub);
#endif
}

static __always_inline __s64 signed_mod(__s64 a, __s64 b)
{
#if __BPF_CPU_VERSION__ >= 4
    return a % b;                       /* smod */
#else
    __u64 ua = a < 0 ? -(__u64)a : (__u64)a;
    __u64 ub = b < 0 ? -(__u64)b : (__u64)b;

    return a < 0 ? -(__s64)(ua % ub) : (__s64)(ua % ub);
#endif
}

SEC("xdp")
int xdp_cpuv4(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct udphdr *uh;
    struct telemetry *t;
    struct summary *s;
    __u32 key = 0;
    __s64 temperature, delta, offset;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
        return XDP_PASS;
    uh = (void *)(ip + 1);
    if ((void *)(uh + 1) > data_end || uh->dest != bpf_htons(TELEMETRY_PORT))
        return XDP_PASS;
    t = (void *)(uh + 1);
    if ((void *)(t + 1) > data_end || bpf_ntohs(uh->len) < sizeof(*uh) + sizeof(*t))   /* bswap16 */
        return XDP_DROP;

    temperature = t->temperature;                       /* ldsx: *(s8 *) */
    if (temperature < -40 || temperature > 125)
        return XDP_DROP;
    if (t->samples == 0)
        return XDP_DROP;
    delta = (__s16)bpf_ntohs(t->delta);                 /* bswap16 then movsx (s16) */

    s = bpf_map_lookup_elem(&last, &key);
    if (!s)
        return XDP_ABORTED;
    offset = (__s32)bpf_ntohl(t->offset);               /* bswap32 then movsx (s32) */
    s->temperature = temperature;
    s->mean_delta = signed_div(delta, t->samples);
    s->offset = offset;
    s->offset_rem = signed_mod(offset, t->samples);
    s->sequence = __builtin_bswap64(t->sequence);       /* bswap64 */
    s->trim = t->trim;                                  /* ldsx: *(s16 *) */
    s->drift = t->drift;                                /* ldsx: *(s32 *) */
    s->milli_drift_per_sample = signed_div((__s64)t->drift * 1000, t->samples);  /* 64-bit sdiv */
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
