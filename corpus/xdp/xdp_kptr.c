// SPDX-License-Identifier: GPL-2.0
// Objects the program allocates, kept in map values: a counter object per slot (the frame's length modulo 4 picks
// the slot) allocated with bpf_obj_new (bpf_obj_new_impl, its type named by the BTF type-id relocation
// bpf_core_type_id_local emits) lives in the `__kptr` field of an ARRAY value. Each frame takes its slot's object
// out with bpf_kptr_xchg (leaving NULL), counts into it, and puts it back with bpf_kptr_xchg; the third frame of a
// slot drops the object instead (bpf_obj_drop_impl), so the next frame of that slot starts a new one. A per-CPU
// object (bpf_percpu_obj_new_impl) lives in a `__percpu_kptr` field: every CPU's copy is cleared through
// bpf_per_cpu_ptr when it is made, the current CPU's copy counts frames through bpf_this_cpu_ptr, CPU 0's copy is
// read back through bpf_per_cpu_ptr, and a CPU number past the last possible one gives NULL. Every fifth frame
// exchanges the per-CPU object out and frees it (bpf_percpu_obj_drop_impl). What each step saw goes to the ARRAY
// `results` and into the frame's destination MAC (the slot's count and generation, and CPU 0's count), so both the
// maps and the bytes show it. User space reads the `__kptr` fields as zeros (the kernel hides them, as it hides spin
// locks and timers).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* The allocation kfuncs as tools/testing/selftests/bpf/bpf_experimental.h declares them. */
extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_obj_drop_impl(void *kptr, void *meta) __ksym;
extern void *bpf_percpu_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_percpu_obj_drop_impl(void *kptr, void *meta) __ksym;

#define __percpu_kptr __attribute__((btf_type_tag("percpu_kptr")))
#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)
#define bpf_percpu_obj_new(type) ((type __percpu_kptr *)bpf_percpu_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_percpu_obj_drop(kptr) bpf_percpu_obj_drop_impl(kptr, NULL)

#define FLOWS 4
#define MAX_CPUS 64
#define FAR_CPU 100000

/* Names no vmlinux struct has: the kernel refuses an object whose local type shares a name with one. */
struct kptr_flow_obj {
    __u64 frames;
    __u64 bytes;
    __u32 first_len;
    __u32 generation;
};

struct kptr_cpu_obj {
    __u64 frames;
    __u64 bytes;
};

struct flow_slot {
    __u64 generations;
    struct kptr_flow_obj __kptr *obj;
};

struct cpu_slot {
    __u64 made;
    struct kptr_cpu_obj __percpu_kptr *pc;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, FLOWS);
    __type(key, __u32);
    __type(value, struct flow_slot);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct cpu_slot);
} cpu_stats SEC(".maps");

enum {
    R_FRAMES,       /* frames seen */
    R_NEW,          /* flow objects allocated */
    R_DROPPED,      /* flow objects dropped after their third frame */
    R_PUT_BACK,     /* objects put back (the exchange returned NULL) */
    R_PCPU_NEW,     /* per-CPU objects allocated */
    R_PCPU_DROPPED, /* per-CPU objects freed */
    R_CPU0_FRAMES,  /* CPU 0's frame count, read through bpf_per_cpu_ptr */
    R_FAR_NULL,     /* bpf_per_cpu_ptr past the last CPU gave NULL */
    R_CPUS,         /* CPUs bpf_per_cpu_ptr found a copy for when the last object was made */
    R_THIS_BYTES,   /* this CPU's byte count, through bpf_this_cpu_ptr */
    R_MAX,
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, R_MAX);
    __type(key, __u32);
    __type(value, __u64);
} results SEC(".maps");

static __always_inline void bump(__u32 slot, __u64 by)
{
    __u64 *v = bpf_map_lookup_elem(&results, &slot);
    if (v)
        *v += by;
}

static __always_inline void set(__u32 slot, __u64 to)
{
    __u64 *v = bpf_map_lookup_elem(&results, &slot);
    if (v)
        *v = to;
}

/* The slot's counter object: taken out of the map, counted into, put back or dropped. Returns its frame count. */
static __noinline __u64 count_flow(__u32 flow, __u32 len)
{
    struct kptr_flow_obj *obj, *old;
    struct flow_slot *slot;
    __u64 frames;

    slot = bpf_map_lookup_elem(&flows, &flow);
    if (!slot)
        return 0;

    obj = bpf_kptr_xchg(&slot->obj, NULL);
    if (!obj) {
        obj = bpf_obj_new(struct kptr_flow_obj);
        if (!obj)
            return 0;
        obj->frames = 0;
        obj->bytes = 0;
        obj->first_len = len;
        obj->generation = (__u32)++slot->generations;
        bump(R_NEW, 1);
    }

    obj->frames++;
    obj->bytes += len;
    frames = obj->frames | ((__u64)obj->generation << 8);
    if (obj->frames >= 3) {
        bpf_obj_drop(obj);
        bump(R_DROPPED, 1);
        return frames;
    }

    old = bpf_kptr_xchg(&slot->obj, obj);
    if (old) {
        bpf_obj_drop(old);
        return frames;
    }

    bump(R_PUT_BACK, 1);
    return frames;
}

/* The per-CPU object: made (every CPU's copy cleared) when the slot is empty, counted into on this CPU, CPU 0's
 * count read back; every fifth frame frees it. Returns CPU 0's frame count. */
static __noinline __u64 count_cpu(__u32 len)
{
    struct kptr_cpu_obj __percpu_kptr *p, *old;
    struct kptr_cpu_obj *mine, *cpu0, *far;
    struct cpu_slot *slot;
    __u32 zero = 0;
    __u64 frames0;
    int i, cpus = 0;

    slot = bpf_map_lookup_elem(&cpu_stats, &zero);
    if (!slot)
        return 0;

    if (!slot->pc) {
        /* A new object goes into the map first: Linux takes bpf_per_cpu_ptr only on the RCU pointer read from
         * the map, not on the reference bpf_percpu_obj_new returned. */
        p = bpf_percpu_obj_new(struct kptr_cpu_obj);
        if (!p)
            return 0;
        old = bpf_kptr_xchg(&slot->pc, p);
        if (old)
            bpf_percpu_obj_drop(old);
        p = slot->pc;
        if (!p)
            return 0;
        for (i = 0; i < MAX_CPUS; i++) {
            struct kptr_cpu_obj *c = bpf_per_cpu_ptr(p, i);
            if (!c)
                break;
            c->frames = 0;
            c->bytes = 0;
            cpus++;
        }
        slot->made++;
        bump(R_PCPU_NEW, 1);
        set(R_CPUS, cpus);
    }

    p = slot->pc;
    if (!p)
        return 0;

    mine = bpf_this_cpu_ptr(p);
    mine->frames++;
    mine->bytes += len;
    set(R_THIS_BYTES, mine->bytes);

    cpu0 = bpf_per_cpu_ptr(p, 0);
    if (!cpu0)
        return 0;
    frames0 = cpu0->frames;
    set(R_CPU0_FRAMES, frames0);

    far = bpf_per_cpu_ptr(p, FAR_CPU);
    if (!far)
        bump(R_FAR_NULL, 1);

    if (frames0 % 5 == 0) {
        old = bpf_kptr_xchg(&slot->pc, NULL);
        if (old) {
            bpf_percpu_obj_drop(old);
            bump(R_PCPU_DROPPED, 1);
        }
    }

    return frames0;
}

SEC("xdp")
int xdp_kptr(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    __u32 len = (__u32)(data_end - data);
    __u64 flow_frames, cpu0_frames;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;

    bump(R_FRAMES, 1);
    flow_frames = count_flow(len % FLOWS, len);
    cpu0_frames = count_cpu(len);
    if (!flow_frames || !cpu0_frames)
        return XDP_ABORTED;

    eth->h_dest[0] = (__u8)flow_frames;
    eth->h_dest[1] = (__u8)(flow_frames >> 8);
    eth->h_dest[2] = (__u8)cpu0_frames;
    return XDP_TX;
}

char _license[] SEC("license") = "GPL";
