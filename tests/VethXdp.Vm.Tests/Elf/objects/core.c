// CO-RE relocations resolved against the object's own BTF: field offsets, sizes, existence, signedness
// and bitfield shifts, type existence/size/id, enum values. struct my_hdr___v2 is a "flavour" of struct
// my_hdr (the ___v2 suffix is dropped when matching), so its accesses are patched to my_hdr's layout.
// Built by the Makefile here; the tests never run clang.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct my_hdr {
	__u8 kind;
	__u8 flags;
	__u16 len;
	__u32 id;
	__u32 bits_a : 3, bits_b : 5;
	__s16 delta;
} __attribute__((preserve_access_index));

struct my_hdr___v2 {
	__u32 id;
	__u32 extra;
} __attribute__((preserve_access_index));

enum my_kind {
	KIND_A = 1,
	KIND_B = 7,
};

enum my_kind___v2 {
	KIND_A___v2 = 3,
	KIND_NEW___v2 = 9,
};

SEC("xdp")
int core_prog(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct my_hdr *h = data;
	struct my_hdr___v2 *h2 = data;
	__u64 acc = 0;

	if ((void *)(h + 1) > data_end)
		return XDP_DROP;
	acc += h->len;                                        /* field byte offset 2 */
	acc += h2->id;                                        /* local offset 0, patched to 4 */
	acc += bpf_core_field_exists(h2->extra);              /* my_hdr has no 'extra': 0 */
	acc += bpf_core_field_size(h->delta);                 /* 2 */
	acc += bpf_core_field_offset(h2->id);                 /* local 0, patched to 4 */
	acc += BPF_CORE_READ_BITFIELD(h, bits_b);             /* lshift/rshift and size */
	acc += bpf_core_type_exists(struct my_hdr___v2);      /* 1 */
	acc += bpf_core_type_size(struct my_hdr___v2);        /* local 8, patched to 12 */
	acc += bpf_core_enum_value_exists(enum my_kind___v2, KIND_NEW___v2); /* my_kind has no KIND_NEW: 0 */
	acc += bpf_core_enum_value(enum my_kind___v2, KIND_A___v2);          /* local 3, patched to 1 */
	acc += bpf_core_enum_value(enum my_kind, KIND_B);     /* 7 */
	acc += bpf_core_type_id_kernel(struct my_hdr___v2);   /* target id of struct my_hdr */
	return acc & 1 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
