// SPDX-License-Identifier: GPL-2.0
/* An 8-byte load at offset 12 of the map value, across its __kptr field at 8: rejected. */
#include "kptr_common.h"

SEC("xdp")
int kptr_load_misaligned(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct kptr_val *v = bpf_map_lookup_elem(&kptr_vals, &zero);

    if (!v)
        return XDP_PASS;
    return *(volatile __u64 *)((char *)v + 12) ? XDP_PASS : XDP_DROP;
}
void *keep_type(void) { return bpf_obj_new(struct kptr_obj);
}
