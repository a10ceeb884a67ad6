// SPDX-License-Identifier: GPL-2.0
/* bpf_obj_new with a type id the verifier does not know (it depends on the packet length): rejected. */
#include "kptr_common.h"

SEC("xdp")
int kptr_new_var_type(struct xdp_md *ctx)
{
    struct kptr_obj *obj = bpf_obj_new_impl(ctx->data_end - ctx->data, NULL);

    if (!obj)
        return XDP_PASS;
    bpf_obj_drop(obj);
    return XDP_PASS;
}
