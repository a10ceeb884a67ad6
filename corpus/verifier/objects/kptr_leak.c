// SPDX-License-Identifier: GPL-2.0
/* The object bpf_obj_new returns is written and then forgotten: neither dropped nor stored. Linux refuses the
 * reference leak at exit. */
#include "kptr_common.h"

SEC("xdp")
int kptr_leak(struct xdp_md *ctx)
{
    struct kptr_obj *obj = bpf_obj_new(struct kptr_obj);

    if (!obj)
        return XDP_PASS;
    obj->frames = 1;
    return XDP_PASS;
}
