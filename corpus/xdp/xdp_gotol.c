// SPDX-License-Identifier: GPL-2.0
// A program large enough that clang-19 at -mcpu=v4 emits gotol (BPF_JMP32 | BPF_JA, a jump with a 32-bit
// offset in imm) instead of goto, whose 16-bit offset cannot be trusted to reach. A duplicate-frame detector
// hashes up to the first 2048 bytes of every frame with FNV-1a, fully unrolled for speed: each byte costs a
// bounds check, and the check's exit jumps to the end of the function, over everything unrolled after it.
// A frame whose hash equals the previous frame's (kept in .bss) is dropped as a duplicate; others pass.
// At -mcpu=v2 and v3 the same long jumps still fit in 16 bits and compile to goto.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define HASH_BYTES 2048
#define FNV_OFFSET 0x811c9dc5u
#define FNV_PRIME 0x01000193u

__u32 last_hash;
__u64 duplicates;

SEC("xdp")
int xdp_gotol(struct xdp_md *ctx)
{
    __u8 *data = (void *)(long)ctx->data;
    __u8 *data_end = (void *)(long)ctx->data_end;
    __u32 h = FNV_OFFSET;
    int i;

#pragma unroll
    for (i = 0; i < HASH_BYTES; i++) {
        if (data + i + 1 > data_end)
            break;
        h = (h ^ data[i]) * FNV_PRIME;
    }

    if (h == last_hash) {
        duplicates++;
        return XDP_DROP;
    }
    last_hash = h;
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
