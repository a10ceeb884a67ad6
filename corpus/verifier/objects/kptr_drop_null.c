// SPDX-License-Identifier: GPL-2.0
/* bpf_obj_drop(NULL): rejected. */
#include "kptr_common.h"

SEC("xdp")
int kptr_drop_null(struct xdp_md *ctx)
{
    bpf_obj_drop((void *)0);
    return XDP_PASS;
}
void *keep_type(void) { return bpf_obj_new(struct kptr_obj);
}
