// SPDX-License-Identifier: GPL-2.0
// Task and cgroup local storage from XDP: a TASK_STORAGE map keeps one value per task (here the task that runs the
// program: under BPF_PROG_TEST_RUN the caller's thread), reached with bpf_task_storage_get on the task that
// bpf_get_current_task_btf() gives and dropped with bpf_task_storage_delete. Each frame takes the next step of a
// five-step cycle (a counter in .bss), and what each call returned goes to the ARRAY `results` (slot = step), which
// user space can read where it cannot read the storage itself (a task storage map is keyed by a pidfd):
//   0  get without BPF_LOCAL_STORAGE_GET_F_CREATE (NULL: no value yet), get with an unknown flag (NULL), then
//      get with F_CREATE from an initial value on the stack: the value, holding the initial bytes;
//   1  get again (the same value, found), add the frame's length;
//   2  get with F_CREATE once more (it exists: the initial value given is ignored), add again;
//   3  delete (0), delete again (-ENOENT), get without F_CREATE (NULL);
//   4  the cgroup storage helpers on a NULL cgroup (the only cgroup pointer XDP code can name without walking
//      the task's css_set): get (NULL, with or without F_CREATE) and delete (-EINVAL); then a task value created
//      from zeros and deleted again.
// Frames whose step found what it expected pass; a step that saw anything else drops the frame.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* BPF_MAP_TYPE_CGRP_STORAGE (Linux 6.2); Debian 12's UAPI headers are 6.1's. */
#define BPF_MAP_TYPE_CGRP_STORAGE 32

#define STEPS 5
#define F_CREATE BPF_LOCAL_STORAGE_GET_F_CREATE

struct task_value {
    __u64 frames;
    __u64 bytes;
    __u32 magic;
    __u32 created_at_step;
};

struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct task_value);
} task_store SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, __u64);
} cgrp_store SEC(".maps");

/* What one step saw: return codes and the value's fields. */
struct step_result {
    __s64 ret[4];
    __u64 frames;
    __u64 bytes;
    __u32 magic;
    __u32 runs;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, STEPS);
    __type(key, __u32);
    __type(value, struct step_result);
} results SEC(".maps");

__u32 step_counter;

static __always_inline void note(struct step_result *r, const struct task_value *v)
{
    if (v) {
        r->frames = v->frames;
        r->bytes = v->bytes;
        r->magic = v->magic;
    }
}

SEC("xdp")
int xdp_local_storage(struct xdp_md *ctx)
{
    __u64 len = (__u64)(long)ctx->data_end - (__u64)(long)ctx->data;
    __u32 step = step_counter++ % STEPS;
    struct step_result *r = bpf_map_lookup_elem(&results, &step);
    struct task_struct *task = bpf_get_current_task_btf();
    struct task_value init = { .frames = 1, .bytes = len, .magic = 0x5eed0000 | step, .created_at_step = step };
    struct task_value *v;
    int ok = 0;

    if (!r)
        return XDP_ABORTED;
    r->runs++;

    switch (step) {
    case 0:
        v = bpf_task_storage_get(&task_store, task, 0, 0);
        r->ret[0] = v != 0;
        v = bpf_task_storage_get(&task_store, task, &init, F_CREATE | 2);
        r->ret[1] = v != 0;
        v = bpf_task_storage_get(&task_store, task, &init, F_CREATE);
        r->ret[2] = v != 0;
        note(r, v);
        ok = !r->ret[0] && !r->ret[1] && v && v->magic == init.magic;
        break;
    case 1:
    case 2:
        v = bpf_task_storage_get(&task_store, task, &init, step == 2 ? F_CREATE : 0);
        r->ret[0] = v != 0;
        if (v) {
            v->frames++;
            v->bytes += len;
            r->ret[1] = v->created_at_step;
        }
        note(r, v);
        ok = v && v->created_at_step == 0;
        break;
    case 3:
        r->ret[0] = bpf_task_storage_delete(&task_store, task);
        r->ret[1] = bpf_task_storage_delete(&task_store, task);
        v = bpf_task_storage_get(&task_store, task, 0, 0);
        r->ret[2] = v != 0;
        ok = r->ret[0] == 0 && r->ret[1] == -2 && !v;
        break;
    default: {
        __u64 zero = 0;
        __u64 *c = bpf_cgrp_storage_get(&cgrp_store, 0, &zero, F_CREATE);
        r->ret[0] = c != 0;
        c = bpf_cgrp_storage_get(&cgrp_store, 0, 0, 0);
        r->ret[1] = c != 0;
        r->ret[2] = bpf_cgrp_storage_delete(&cgrp_store, 0);
        v = bpf_task_storage_get(&task_store, task, 0, F_CREATE);
        note(r, v);
        r->ret[3] = bpf_task_storage_delete(&task_store, task);
        ok = !r->ret[0] && !r->ret[1] && r->ret[2] == -22 && v && v->magic == 0 && r->ret[3] == 0;
        break;
    }
    }
    return ok ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
