// SPDX-License-Identifier: GPL-2.0
// A subprogram tail-calls and then writes its caller's stack slot; the caller reads the slot back as a stack offset
// (upstream selftest verifier_live_stack.c, caller_stack_write_tail_call, in XDP form; written anew). On the path where the tail
// call fails the write happens; on the path where it "succeeds" (modelled as a return) it does not, so fp-8 may still
// hold -1024 and the read at fp-1024 is out of bounds. Build: clang -O2 -g -target bpf -c tail_call_caller_stack.c
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} jt SEC(".maps");

static __attribute__((used, naked)) int write_tail_call(void)
{
	asm volatile (
	"r6 = r2;"
	"r2 = %[jt] ll;"
	"r3 = 0;"
	"call %[bpf_tail_call];"
	"*(u64 *)(r6 + 0) = -16;"
	"r0 = 0;"
	"exit;"
	:
	: [jt]"i"(&jt), [bpf_tail_call]"i"(BPF_FUNC_tail_call)
	: "memory");
}

SEC("xdp")
__attribute__((naked)) int caller_stack_write_tail_call(void)
{
	asm volatile (
	"r6 = r1;"
	"*(u64 *)(r10 - 8) = -8;"
	"call %[bpf_get_prandom_u32];"
	"if r0 != 42 goto 1f;"
	"goto 2f;"
	"1:"
	"*(u64 *)(r10 - 8) = -1024;"
	"2:"
	"r1 = r6;"
	"r2 = r10;"
	"r2 += -8;"
	"call write_tail_call;"
	"r1 = *(u64 *)(r10 - 8);"
	"r2 = r10;"
	"r2 += r1;"
	"r0 = *(u64 *)(r2 + 0);"
	"r0 = 2;"
	"exit;"
	:
	: [bpf_get_prandom_u32]"i"(BPF_FUNC_get_prandom_u32)
	: "memory");
}

char _license[] SEC("license") = "GPL";
