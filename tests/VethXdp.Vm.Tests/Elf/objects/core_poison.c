// A field that only the newer flavour of a struct has, read behind bpf_core_field_exists(): against the object's
// own BTF the field does not exist, so the check becomes 0 and the read is poisoned (call 0xbad2310), as libbpf
// does; the program still loads. Built by the Makefile here; the tests never run clang.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct hdr {
	__u32 a;
	__u32 b;
} __attribute__((preserve_access_index));

struct hdr___new {
	__u32 a;
	__u32 c;
} __attribute__((preserve_access_index));

SEC("xdp")
int core_poison(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr___new *h = data;
	struct hdr *o = data;

	if ((void *)(o + 1) > data_end)
		return XDP_DROP;
	if (bpf_core_field_exists(h->c))
		return h->c;
	return o->b;
}

char _license[] SEC("license") = "GPL";
