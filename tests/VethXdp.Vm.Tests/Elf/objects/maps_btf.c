// BTF-defined maps (.maps): key/value by type and by size, flags, numa_node, pinning, max_entries 0,
// a program array and a devmap with __array(values, ...) initial slots, an array of maps with an inner
// map definition and initial slots, a hash of maps. Built by the Makefile here; the tests never run clang.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow {
	__u64 packets;
	__u64 bytes;
	__u32 last_seen;
};

struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct flow);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 16);
	__uint(max_entries, 8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} by_size SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u64);
	__uint(value_size, 8);
	__uint(max_entries, 128);
	__uint(map_flags, BPF_F_NUMA_NODE);
	__uint(numa_node, 1);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct lpm_key);
	__type(value, __u32);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 4);
} perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
} unsized SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__type(value, __u32);
	__uint(max_entries, 16);
} queue SEC(".maps");

int tail_a(struct xdp_md *ctx);
int tail_b(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, 4);
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = { [0] = (void *)&tail_a, [2] = (void *)&tail_b },
};

int devmap_prog(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__uint(key_size, 4);
	__uint(value_size, 8);
	__array(values, int (void *));
} tx_port SEC(".maps") = {
	.values = { [1] = (void *)&devmap_prog },
};

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 3);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a, [2] = &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 5);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 10);
		__type(key, __u32);
		__type(value, __u32);
	});
} outer_hash SEC(".maps");

SEC("xdp")
int use_maps(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);
	__u64 *c = bpf_map_lookup_elem(&counters, &key);
	void *inner = bpf_map_lookup_elem(&outer, &key);

	if (f)
		f->packets++;
	if (c)
		(*c)++;
	if (inner)
		bpf_map_lookup_elem(inner, &key);
	bpf_map_lookup_elem(&by_size, &key);
	bpf_map_lookup_elem(&lru, &key);
	bpf_map_lookup_elem(&lpm, &key);
	bpf_map_lookup_elem(&unsized, &key);
	bpf_map_lookup_elem(&outer_hash, &key);
	bpf_map_push_elem(&queue, &key, 0);
	bpf_ringbuf_output(&events, &key, sizeof(key), 0);
	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &key, sizeof(key));
	bpf_tail_call(ctx, &jumps, 0);
	return bpf_redirect_map(&tx_port, 0, 0);
}

SEC("xdp")
int tail_a(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int tail_b(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp/devmap")
int devmap_prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
