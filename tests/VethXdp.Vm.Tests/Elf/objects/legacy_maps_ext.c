// A legacy "maps" section whose definitions carry extra trailing fields (iproute2's struct bpf_elf_map:
// id, pinning, inner_id, inner_idx): the definition size is the section size divided by the number of
// map symbols, and the fields after map_flags are ignored, as libbpf did. Built without BTF (no -g), as
// iproute2-era objects were. Built by the Makefile here; the tests never run clang.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_elf_map {
	unsigned int type;
	unsigned int size_key;
	unsigned int size_value;
	unsigned int max_elem;
	unsigned int flags;
	unsigned int id;
	unsigned int pinning;
	unsigned int inner_id;
	unsigned int inner_idx;
};

struct bpf_elf_map SEC("maps") counts = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 16,
	.pinning = 2,
};

struct bpf_elf_map SEC("maps") ports = {
	.type = BPF_MAP_TYPE_HASH,
	.size_key = sizeof(__u16),
	.size_value = sizeof(__u32),
	.max_elem = 32,
	.id = 7,
};

SEC("prog")
int classify(struct xdp_md *ctx)
{
	__u32 key = 3;
	__u16 port = 80;
	__u64 *c = bpf_map_lookup_elem(&counts, &key);

	if (c)
		(*c)++;
	return bpf_map_lookup_elem(&ports, &port) ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
