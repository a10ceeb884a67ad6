// SPDX-License-Identifier: GPL-2.0
/* Shared by the kptr_*.c objects: the allocation kfuncs (as tools/testing/selftests/bpf/bpf_experimental.h declares
 * them), an object type, and an ARRAY whose value holds a `__kptr` and a `__percpu_kptr` field. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_obj_drop_impl(void *kptr, void *meta) __ksym;
extern void *bpf_percpu_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_percpu_obj_drop_impl(void *kptr, void *meta) __ksym;

#define __percpu_kptr __attribute__((btf_type_tag("percpu_kptr")))
#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)
#define bpf_percpu_obj_new(type) ((type __percpu_kptr *)bpf_percpu_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_percpu_obj_drop(kptr) bpf_percpu_obj_drop_impl(kptr, NULL)

struct kptr_obj {
    __u64 frames;
    __u64 bytes;
    __u32 len;
    __u32 gen;
};

struct kptr_val {
    __u64 count;
    struct kptr_obj __kptr *obj;
    struct kptr_obj __percpu_kptr *pc;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct kptr_val);
} kptr_vals SEC(".maps");

char _license[] SEC("license") = "GPL";
