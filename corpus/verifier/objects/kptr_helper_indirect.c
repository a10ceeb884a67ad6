// SPDX-License-Identifier: GPL-2.0
/* bpf_map_update_elem copies a map value that holds kptrs from another map value: a helper may not touch kptr fields. */
#include "kptr_common.h"

SEC("xdp")
int kptr_helper_indirect(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct kptr_val *v = bpf_map_lookup_elem(&kptr_vals, &zero);

    if (!v)
        return XDP_PASS;
    bpf_map_update_elem(&kptr_vals, &zero, v, 0);
    return XDP_PASS;
}
void *keep_type(void) { return bpf_obj_new(struct kptr_obj);
}
