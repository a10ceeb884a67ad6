// SPDX-License-Identifier: GPL-2.0
/* A 4-byte load of the map value's __kptr field: rejected (only the whole 8 bytes may be read). */
#include "kptr_common.h"

SEC("xdp")
int kptr_load_u32(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct kptr_val *v = bpf_map_lookup_elem(&kptr_vals, &zero);

    if (!v)
        return XDP_PASS;
    return *(volatile __u32 *)((char *)v + 8) ? XDP_PASS : XDP_DROP;
}
void *keep_type(void) { return bpf_obj_new(struct kptr_obj);
}
