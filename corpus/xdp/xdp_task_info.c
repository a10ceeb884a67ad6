// SPDX-License-Identifier: GPL-2.0
// The "current task" helpers from an XDP program. BPF_PROG_TEST_RUN runs a program in the task that called bpf()
// (on a NIC it would be whatever task the softirq interrupted), so what these helpers say about that task differs
// from one run to the next; what must hold between them does not, and that is what the program records and checks:
//  - bpf_get_current_pid_tgid, bpf_get_current_comm and bpf_get_current_task agree with the task_struct that
//    bpf_get_current_task_btf points at (pid, tgid and comm read through the BTF pointer, at the reference
//    kernel's offsets, and through bpf_probe_read_kernel from bpf_get_current_task's address); comm is NUL
//    terminated within 16 bytes and cut short (still terminated) in a 4-byte buffer;
//  - bpf_get_ns_current_pid_tgid gives the same pid and tgid for the initial pid namespace (dev 4, inode
//    0xeffffffc on the reference machine), or -EINVAL with its output zeroed; and -EINVAL for a dev that is not a
//    dev_t, another inode or an output of the wrong size;
//  - bpf_get_current_cgroup_id is one of bpf_get_current_ancestor_cgroup_id's levels; level 0 is the root cgroup
//    (id 1) and levels below the task's own (or negative) are 0; bpf_current_task_under_cgroup on a CGROUP_ARRAY
//    user space left empty: -EAGAIN, and -E2BIG past its end; bpf_get_current_uid_gid and bpf_get_cgroup_classid
//    are recorded only;
//  - bpf_task_pt_regs: the task's saved user registers, which for a task inside bpf() hold orig_ax 321
//    (__NR_bpf), ax -ENOSYS and di 10 (BPF_PROG_TEST_RUN) on x86-64;
//  - bpf_get_task_stack: the kernel and the user stack (a multiple of 8 bytes), and its -EINVAL / -EFAULT cases;
//  - bpf_find_vma: no mapping at address 0 (-ENOENT, or -EBUSY when another thread holds the mm's lock), -EINVAL
//    for flags; bpf_get_branch_snapshot: -ENOENT (no last-branch records), -EINVAL for flags;
//  - bpf_send_signal(0) and bpf_send_signal_thread(0) only check that a signal could be sent (0); signal 65 is
//    -EINVAL; no signal is ever sent;
//  - bpf_probe_read_user(_str) at NULL and at a kernel address: -EFAULT with the buffer zeroed;
//  - bpf_snprintf_btf's argument checks: unknown flags, type id 0, a btf_ptr of the wrong size (-EINVAL) and a
//    type id vmlinux does not have (-ENOENT).
// The facts go to an ARRAY; every frame passes unless a relation fails (XDP_ABORTED).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16
#define EINVAL 22
#define ENOENT 2
#define EFAULT 14
#define EBUSY 16
#define ROOT_CGROUP_ID 1
#define INIT_PID_NS_DEV 4
#define INIT_PID_NS_INO 0xeffffffcULL
#define BTF_F_ALL 0xf

/* The fields read here, at Linux 6.18's x86-64 offsets (its BTF: task_struct is 3264 bytes, pt_regs 168). CO-RE
 * relocations name the fields; the layout below is the one they resolve to. */
struct task_struct {
    char __pad0[1264];
    int pid;                            /* 1264 */
    int tgid;                           /* 1268 */
    char __pad1[1752 - 1272];
    char comm[TASK_COMM_LEN];           /* 1752 */
} __attribute__((preserve_access_index));

struct pt_regs {
    unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
    unsigned long ax, cx, dx, si, di;   /* ax at 80, di at 112 */
    unsigned long orig_ax;              /* 120 */
    unsigned long ip, cs, flags, sp, ss;
} __attribute__((preserve_access_index));

enum relation {
    PID_MATCHES_TASK,                   /* (u32)pid_tgid == task->pid */
    TGID_MATCHES_TASK,                  /* pid_tgid >> 32 == task->tgid */
    TASK_POINTERS_EQUAL,                /* bpf_get_current_task() == bpf_get_current_task_btf() */
    PROBE_READ_MATCHES,                 /* bpf_probe_read_kernel(task->pid) == task->pid */
    COMM_MATCHES_TASK,                  /* bpf_get_current_comm == task->comm */
    COMM_TERMINATED,                    /* 1 to 15 bytes and a NUL */
    COMM_CUT_SHORT,                     /* 3 bytes and a NUL in a 4-byte buffer */
    NS_PID_CONSISTENT,                  /* 0 and the same pid/tgid, or -EINVAL and zeroed */
    ROOT_CGROUP_AT_LEVEL_0,
    OWN_CGROUP_IS_AN_ANCESTOR_LEVEL,
    NO_CGROUP_BELOW_OWN,
    NO_MAPPING_AT_NULL,                 /* bpf_find_vma: -ENOENT (or -EBUSY) */
    STACKS_WHOLE_ENTRIES,               /* kernel and user stack: >= 0, a multiple of 8 */
    USER_READS_ZEROED,                  /* bpf_probe_read_user(_str) left their buffers zeroed */
    RELATIONS,
};

struct task_facts {
    /* compared with the kernel */
    __u32 runs;
    __u8 holds[RELATIONS];              /* 1 where the relation held in the last run */
    __u8 pad0[16 - RELATIONS];
    __u64 regs_orig_ax, regs_ax, regs_di;
    __u64 ancestor_root, ancestor_negative, ancestor_deep;
    __s32 comm_ret, comm_short_ret;
    __s32 ns_bad_dev_ret, ns_bad_ino_ret, ns_bad_size_ret;
    __s32 signal_ret, signal_thread_ret, signal_bad_ret, signal_thread_bad_ret;
    __s32 stack_bad_flags_ret, stack_bad_size_ret, stack_kernel_build_id_ret, stack_skip_all_ret;
    __s32 vma_bad_flags_ret, vma_callbacks;
    __s32 branch_ret, branch_bad_flags_ret;
    __s32 user_read_null_ret, user_read_kernel_ret, user_read_str_ret;
    __s32 btf_bad_flags_ret, btf_no_id_ret, btf_bad_size_ret, btf_no_type_ret;
    __s32 under_cgroup_empty_ret, under_cgroup_past_end_ret;
    /* what the task is (differs between runs; kernelSkipFields) */
    __u64 pid_tgid, uid_gid, cgroup_id, own_cgroup_level;
    __s32 ns_ret, vma_ret, stack_kernel_ret, stack_user_ret;
    __u32 classid;
    char comm[TASK_COMM_LEN];
    __u32 pad2;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct task_facts);
} facts SEC(".maps");

/* Cgroups user space may store (by fd) for bpf_current_task_under_cgroup; none here. */
struct {
    __uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} cgroups SEC(".maps");

/* Scratch space for the stack traces and branch records (too big for the BPF stack). */
struct scratch {
    __u64 stack[16];
    __u8 branches[24 * 4];              /* 4 struct perf_branch_entry */
    char out[64];
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct scratch);
} scratch_space SEC(".maps");

static long count_vma(struct task_struct *task, void *vma, __s32 *callbacks)
{
    *callbacks = 1;                     /* (a count would make the verifier walk every value) */
    return 0;
}

/* One byte per relation, in the map value: a bit mask in a register would make the verifier walk every
 * combination of outcomes. */
#define SET(r, cond) (f->holds[r] = (cond) ? 1 : 0)

SEC("xdp")
int xdp_task_info(struct xdp_md *ctx)
{
    struct task_struct *task = bpf_get_current_task_btf();
    struct bpf_pidns_info ns = {}, ns_bad = {};
    struct btf_ptr bp = {};
    struct task_facts *f;
    struct scratch *s;
    struct pt_regs *regs;
    char comm[TASK_COMM_LEN] = {}, comm_short[4] = {};
    char user_buf[8] = {}, user_str[8] = {};
    __u32 key = 0, i, len;
    __s32 callbacks = 0;
    __u64 id, level;
    int pid = 0;
    long ret;

    f = bpf_map_lookup_elem(&facts, &key);
    s = bpf_map_lookup_elem(&scratch_space, &key);
    if (!f || !s)
        return XDP_ABORTED;
    f->runs++;

    /* ids and names */
    f->pid_tgid = bpf_get_current_pid_tgid();
    f->uid_gid = bpf_get_current_uid_gid();
    SET(PID_MATCHES_TASK, (__u32)f->pid_tgid == (__u32)task->pid);
    SET(TGID_MATCHES_TASK, (f->pid_tgid >> 32) == (__u32)task->tgid);
    id = bpf_get_current_task();
    SET(TASK_POINTERS_EQUAL, id == (__u64)(long)task);
    bpf_core_read(&pid, sizeof(pid), &((struct task_struct *)(long)id)->pid);
    SET(PROBE_READ_MATCHES, pid == task->pid);

    f->comm_ret = bpf_get_current_comm(comm, sizeof(comm));
    __builtin_memcpy(f->comm, comm, sizeof(comm));
    len = TASK_COMM_LEN;
    for (i = 0; i < TASK_COMM_LEN; i++) {
        if (comm[i] != task->comm[i])
            break;
        if (comm[i] == 0 && len == TASK_COMM_LEN)
            len = i;
    }
    SET(COMM_MATCHES_TASK, i == TASK_COMM_LEN);
    SET(COMM_TERMINATED, len >= 1 && len < TASK_COMM_LEN);
    f->comm_short_ret = bpf_get_current_comm(comm_short, sizeof(comm_short));
    SET(COMM_CUT_SHORT, comm_short[3] == 0 && comm_short[0] == comm[0] && comm_short[1] == comm[1]
                                   && comm_short[2] == comm[2]);

    /* pid namespace */
    f->ns_ret = bpf_get_ns_current_pid_tgid(INIT_PID_NS_DEV, INIT_PID_NS_INO, &ns, sizeof(ns));
    SET(NS_PID_CONSISTENT,
        (f->ns_ret == 0 && ns.pid == (__u32)f->pid_tgid && ns.tgid == (__u32)(f->pid_tgid >> 32))
            || (f->ns_ret == -EINVAL && ns.pid == 0 && ns.tgid == 0));
    ns_bad.pid = 7;
    f->ns_bad_dev_ret = bpf_get_ns_current_pid_tgid(1ULL << 40, INIT_PID_NS_INO, &ns_bad, sizeof(ns_bad));
    f->ns_bad_ino_ret = bpf_get_ns_current_pid_tgid(INIT_PID_NS_DEV, 1, &ns_bad, sizeof(ns_bad));
    f->ns_bad_size_ret = bpf_get_ns_current_pid_tgid(INIT_PID_NS_DEV, INIT_PID_NS_INO, &ns_bad, 4);

    /* cgroups */
    f->cgroup_id = bpf_get_current_cgroup_id();
    f->classid = bpf_get_cgroup_classid((void *)0);
    f->ancestor_root = bpf_get_current_ancestor_cgroup_id(0);
    f->ancestor_negative = bpf_get_current_ancestor_cgroup_id(-1);
    f->ancestor_deep = bpf_get_current_ancestor_cgroup_id(1000);
    SET(ROOT_CGROUP_AT_LEVEL_0, f->ancestor_root == ROOT_CGROUP_ID);
    f->own_cgroup_level = ~0ULL;
    for (level = 0; level < 16; level++) {
        id = bpf_get_current_ancestor_cgroup_id(level);
        if (id == f->cgroup_id) {
            f->own_cgroup_level = level;
            break;
        }
    }
    SET(OWN_CGROUP_IS_AN_ANCESTOR_LEVEL, level < 16);
    SET(NO_CGROUP_BELOW_OWN, level < 16 && bpf_get_current_ancestor_cgroup_id(level + 1) == 0
                                        && f->ancestor_negative == 0 && f->ancestor_deep == 0);
    f->under_cgroup_empty_ret = bpf_current_task_under_cgroup(&cgroups, 0);
    f->under_cgroup_past_end_ret = bpf_current_task_under_cgroup(&cgroups, 2);

    /* registers and stacks */
    regs = (struct pt_regs *)bpf_task_pt_regs(task);
    f->regs_orig_ax = regs->orig_ax;
    f->regs_ax = regs->ax;
    f->regs_di = regs->di;
    f->stack_kernel_ret = bpf_get_task_stack(task, s->stack, sizeof(s->stack), 0);
    f->stack_user_ret = bpf_get_task_stack(task, s->stack, sizeof(s->stack), BPF_F_USER_STACK);
    SET(STACKS_WHOLE_ENTRIES, f->stack_kernel_ret >= 0 && f->stack_kernel_ret % 8 == 0
                                         && f->stack_user_ret >= 0 && f->stack_user_ret % 8 == 0);
    f->stack_bad_flags_ret = bpf_get_task_stack(task, s->stack, sizeof(s->stack), 1 << 12);
    f->stack_bad_size_ret = bpf_get_task_stack(task, s->stack, 12, 0);
    f->stack_kernel_build_id_ret = bpf_get_task_stack(task, s->stack, sizeof(s->stack), BPF_F_USER_BUILD_ID);
    f->stack_skip_all_ret = bpf_get_task_stack(task, s->stack, sizeof(s->stack), 255);

    /* address space */
    f->vma_ret = bpf_find_vma(task, 0, count_vma, &callbacks, 0);
    SET(NO_MAPPING_AT_NULL, (f->vma_ret == -ENOENT || f->vma_ret == -EBUSY) && callbacks == 0);
    f->vma_bad_flags_ret = bpf_find_vma(task, 0, count_vma, &callbacks, 1);
    f->vma_callbacks = callbacks;
    user_buf[0] = 1;
    user_str[0] = 1;
    f->user_read_null_ret = bpf_probe_read_user(user_buf, sizeof(user_buf), (void *)0);
    f->user_read_kernel_ret = bpf_probe_read_user(user_buf, sizeof(user_buf), task);
    f->user_read_str_ret = bpf_probe_read_user_str(user_str, sizeof(user_str), (void *)0);
    SET(USER_READS_ZEROED, user_buf[0] == 0 && user_str[0] == 0);

    /* branch records and BTF printing */
    f->branch_ret = bpf_get_branch_snapshot(s->branches, sizeof(s->branches), 0);
    f->branch_bad_flags_ret = bpf_get_branch_snapshot(s->branches, sizeof(s->branches), 1);
    bp.ptr = task;
    bp.type_id = 1;
    f->btf_bad_flags_ret = bpf_snprintf_btf(s->out, sizeof(s->out), &bp, sizeof(bp), BTF_F_ALL + 1);
    bp.type_id = 0;
    f->btf_no_id_ret = bpf_snprintf_btf(s->out, sizeof(s->out), &bp, sizeof(bp), 0);
    bp.type_id = 1;
    f->btf_bad_size_ret = bpf_snprintf_btf(s->out, sizeof(s->out), &bp, 8, 0);
    bp.type_id = 0x7fffffff;
    f->btf_no_type_ret = bpf_snprintf_btf(s->out, sizeof(s->out), &bp, sizeof(bp), 0);

    /* signals: 0 only checks that one could be sent */
    f->signal_ret = bpf_send_signal(0);
    f->signal_thread_ret = bpf_send_signal_thread(0);
    f->signal_bad_ret = bpf_send_signal(65);
    f->signal_thread_bad_ret = bpf_send_signal_thread(65);

    for (i = 0; i < RELATIONS; i++)
        if (!f->holds[i])
            return XDP_ABORTED;
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
