/* bpf_loop callbacks verified as loops, and tail calls from subprograms: small socket-filter and tc programs.
 * Build (objects are committed; tests never run clang):
 *   clang-19 -O2 -g -target bpf -mcpu=v3 -I/usr/include/x86_64-linux-gnu -c callbacks_tailcalls.c
 * The decisions Linux 6.18 takes on each program are in CallbackTailCallTests.cs. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#define __naked __attribute__((naked))
#define __used __attribute__((used))
#define __imm(name) [name]"i"(name)
#define __imm_addr(name) [name]"i"(&name)
#define __clobber_all "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "memory"
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, int); __type(value, long long); } arr SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u32); } progs SEC(".maps");
#define IMMS __imm(bpf_get_prandom_u32), __imm(bpf_map_lookup_elem), __imm(bpf_loop), __imm(bpf_tail_call), __imm_addr(arr), __imm_addr(progs)
#define P(sec, name, body) SEC(sec) __naked void name(void) { asm volatile (body : : IMMS : __clobber_all); }
#define F(name, body) static __used __naked int name(void) { asm volatile (body : : IMMS : __clobber_all); }

/* the callback stores a constant into the caller's slot, then branches: the second iteration repeats states */
P("socket", cb_store_then_branch,
  "*(u64 *)(r10 - 8) = 0; r1 = 3; r2 = cb_store ll; r3 = r10; r3 += -8; r4 = 0; call %[bpf_loop]; r0 = *(u64 *)(r10 - 8); exit;")
F(cb_store, "r6 = r2; *(u64 *)(r6 + 0) = 5; call %[bpf_get_prandom_u32]; if r0 > 10 goto 1f; r0 = 0; exit; 1: r0 = 1; exit;")

/* a map pointer in the caller's slot, replaced by 0 in the first iteration: fails in the second */
P("socket", cb_map_then_zero_two,
  "r0 = %[arr] ll; *(u64 *)(r10 - 16) = r0; r1 = 2; r2 = cb_map ll; r3 = r10; r3 += -16; r4 = 0; call %[bpf_loop]; r0 = 0; exit;")
P("socket", cb_map_then_zero_one,
  "r0 = %[arr] ll; *(u64 *)(r10 - 16) = r0; r1 = 1; r2 = cb_map ll; r3 = r10; r3 += -16; r4 = 0; call %[bpf_loop]; r0 = 0; exit;")
F(cb_map, "r6 = r2; r1 = *(u64 *)(r6 + 0); *(u32 *)(r10 - 4) = 0; r2 = r10; r2 += -4; call %[bpf_map_lookup_elem]; *(u64 *)(r6 + 0) = 0; r0 = 0; exit;")

/* a counter in the caller's stack, 8 iterations, used as an offset into a 64-byte stack area afterwards */
P("socket", cb_counter,
  "*(u64 *)(r10 - 8) = 0; r1 = 8; r2 = cb_inc ll; r3 = r10; r3 += -8; r4 = 0; call %[bpf_loop]; r1 = *(u64 *)(r10 - 8); if r1 > 56 goto 1f; r2 = r10; r2 += -64; r2 += r1; r0 = *(u8 *)(r2 + 0); 1: r0 = 0; exit;")
F(cb_inc, "r1 = *(u64 *)(r2 + 0); r1 += 1; *(u64 *)(r2 + 0) = r1; r0 = 0; exit;")

/* 70 iterations, the counter used unchecked: the verifier unrolls every iteration, so it knows the counter is 70 */
P("socket", cb_counter_unchecked,
  "*(u64 *)(r10 - 8) = 0; r1 = 70; r2 = cb_inc ll; r3 = r10; r3 += -8; r4 = 0; call %[bpf_loop]; r1 = *(u64 *)(r10 - 8); r2 = r10; r2 += -72; r2 += r1; r0 = *(u8 *)(r2 + 0); r0 = 0; exit;")

/* bpf_loop's argument registers are clobbered after the call */
P("socket", cb_args_clobbered,
  "r1 = 2; r2 = cb_nop ll; r3 = 0; r4 = 0; call %[bpf_loop]; r0 = r3; exit;")
F(cb_nop, "r0 = 0; exit;")

/* an unknown loop count */
P("socket", cb_unknown_count,
  "call %[bpf_get_prandom_u32]; r1 = r0; r1 &= 15; *(u64 *)(r10 - 8) = 0; r2 = cb_store ll; r3 = r10; r3 += -8; r4 = 0; call %[bpf_loop]; r0 = *(u64 *)(r10 - 8); exit;")

/* tail call from a static subprogram: the caller's packet pointer is invalid after the call */
P("tc", tail_in_sub_caller_pkt,
  "r6 = r1; r7 = *(u32 *)(r6 + 76); r8 = *(u32 *)(r6 + 80); r9 = r7; r9 += 4; if r9 > r8 goto 1f; r1 = r6; call sub_tail; r0 = *(u32 *)(r7 + 0); 1: r0 = 0; exit;")
F(sub_tail, "r2 = %[progs] ll; r3 = 0; call %[bpf_tail_call]; r0 = 0; exit;")

/* inside the subprogram, after a tail call that failed, its own packet pointer is still valid */
P("tc", tail_in_sub_own_pkt,
  "r6 = r1; call sub_tail_pkt; r0 = 0; exit;")
F(sub_tail_pkt, "r6 = r1; r7 = *(u32 *)(r6 + 76); r8 = *(u32 *)(r6 + 80); r9 = r7; r9 += 4; if r9 > r8 goto 1f; r1 = r6; r2 = %[progs] ll; r3 = 0; call %[bpf_tail_call]; r0 = *(u32 *)(r7 + 0); 1: r0 = 0; exit;")
/* a subprogram declared void may not make a tail call (check_btf_func) */
P("tc", tail_in_void_sub,
  "call sub_tail_void; r0 = 0; exit;")
static __used __naked void sub_tail_void(void) { asm volatile ("r2 = %[progs] ll; r3 = 0; call %[bpf_tail_call]; r0 = 0; exit;" : : IMMS : __clobber_all); }
char _license[] SEC("license") = "GPL";
