namespace VethXdp.Vm.Maps;

/// <summary>Map type names as bpftool prints them (libbpf's map_type_name table).</summary>
public static class MapTypeNames
{
    private static readonly string[] s_names =
    [
        "unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash", "percpu_array", "stack_trace",
        "cgroup_array", "lru_hash", "lru_percpu_hash", "lpm_trie", "array_of_maps", "hash_of_maps", "devmap",
        "sockmap", "cpumap", "xskmap", "sockhash", "cgroup_storage", "reuseport_sockarray", "percpu_cgroup_storage",
        "queue", "stack", "sk_storage", "devmap_hash", "struct_ops", "ringbuf", "inode_storage", "task_storage",
        "bloom_filter", "user_ringbuf", "cgrp_storage", "arena",
    ];

    /// <summary>The bpftool name of <paramref name="type"/> ("hash", "lru_percpu_hash", ...), or "type N" for an unknown value.</summary>
    public static string ToName(MapType type) =>
        (uint)type < (uint)s_names.Length ? s_names[(int)type] : "type " + ((uint)type).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Parses a bpftool name ("lpm_trie"); false for an unknown one.</summary>
    public static bool TryParse(string name, out MapType type)
    {
        int i = Array.IndexOf(s_names, name);
        type = (MapType)(uint)Math.Max(i, 0);
        return i > 0;
    }

    /// <summary>True for the per-CPU types, whose user-side values hold one value per possible CPU.</summary>
    public static bool IsPerCpu(MapType type) =>
        type is MapType.PercpuArray or MapType.PercpuHash or MapType.LruPercpuHash or MapType.PercpuCgroupStorage;
}
