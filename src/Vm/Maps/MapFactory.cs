using System.Globalization;
using System.Numerics;

namespace VethXdp.Vm.Maps;

/// <summary>Creates maps: checks a definition as bpf(BPF_MAP_CREATE) does (the generic checks of map_create in
/// kernel/bpf/syscall.c, then the type's map_alloc_check / map_alloc) and builds the map.</summary>
/// <remarks>
/// A definition the kernel would refuse throws <see cref="MapCreateException"/> naming the map, the attribute and the
/// errno the kernel returns. A max_entries of 0 is refused with a hint to size the map with <c>--map-size</c>, except
/// for PERF_EVENT_ARRAY, which gets one entry per possible CPU as libbpf gives it. The created map's
/// <see cref="BpfMap.Spec"/> holds the sizes actually used (PERF_EVENT_ARRAY's CPU count; LRU maps with
/// BPF_F_NO_COMMON_LRU rounded to a multiple of the CPU count, as the kernel rounds them).
/// The kernel's other map types (sockmap, stack_trace, the local storages, ...) are created as
/// <see cref="UnmodelledMap"/> placeholders, so that objects holding one load as the kernel loads them.
/// Maps are not thread-safe: one simulated CPU at a time operates on a map (the <c>cpu</c> arguments say which).
/// </remarks>
public static class MapFactory
{
    /// <summary>PAGE_SIZE of the reference machine (x86-64).</summary>
    public const uint PageSize = 4096;

    private const ulong KmallocMaxSize = 1UL << 22;        // KMALLOC_MAX_SIZE: 1 << (MAX_PAGE_ORDER + PAGE_SHIFT)
    private const ulong HtabElemSize = 48;                // sizeof(struct htab_elem) on 64-bit
    private const ulong PcpuMinUnitSize = 32 << 10;       // PCPU_MIN_UNIT_SIZE
    private const uint LpmDataSizeMax = 256;              // LPM_DATA_SIZE_MAX
    private const ulong LpmNodeSize = 40;                 // sizeof(struct lpm_trie_node)

    private const uint ArrayFlags = MapFlags.NumaNode | MapFlags.Mmapable | MapFlags.AccessMask | MapFlags.PreserveElems | MapFlags.InnerMap;
    private const uint HtabFlags = MapFlags.NoPrealloc | MapFlags.NoCommonLru | MapFlags.NumaNode | MapFlags.AccessMask | MapFlags.ZeroSeed;
    private const uint LpmFlags = MapFlags.NoPrealloc | MapFlags.NumaNode | MapFlags.AccessMask;
    private const uint DevFlags = MapFlags.NumaNode | MapFlags.Rdonly | MapFlags.Wronly;
    private const uint QueueStackFlags = MapFlags.NumaNode | MapFlags.AccessMask;
    private const uint BloomFlags = MapFlags.NumaNode | MapFlags.ZeroSeed | MapFlags.AccessMask;

    /// <summary>Checks <paramref name="spec"/> and creates the map with <paramref name="possibleCpus"/> CPUs for per-CPU
    /// values.</summary>
    /// <exception cref="MapCreateException">The kernel would refuse the definition (or the map cannot be allocated).</exception>
    public static BpfMap Create(MapSpec spec, int possibleCpus)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(possibleCpus);
        var s = Check(spec, possibleCpus, inner: false);
        BpfMap map;
        try
        {
            map = Build(s, possibleCpus);
        }
        catch (Exception e) when (e is OutOfMemoryException or OverflowException)
        {
            throw new MapCreateException(spec.Name, "cannot allocate the map's memory (max_entries " + s.MaxEntries + ")", Errno.ENOMEM);
        }

        if (s.Frozen)
        {
            map.Freeze();
        }

        return map;
    }

    /// <summary>Checks <paramref name="spec"/> as <see cref="Create"/> does and returns the definition the map would
    /// get (sizes adjusted as the kernel adjusts them), without allocating.</summary>
    /// <exception cref="MapCreateException">The kernel would refuse the definition.</exception>
    public static MapSpec Validate(MapSpec spec, int possibleCpus)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(possibleCpus);
        return Check(spec, possibleCpus, inner: false);
    }

    private static BpfMap Build(MapSpec s, int cpus) => s.Type switch
    {
        MapType.Array or MapType.PercpuArray => new ArrayMap(s, cpus),
        MapType.Hash or MapType.PercpuHash or MapType.LruHash or MapType.LruPercpuHash => new HashMap(s, cpus),
        MapType.LpmTrie => new LpmTrieMap(s, cpus),
        MapType.ProgArray => new ProgArrayMap(s, cpus),
        MapType.PerfEventArray => new PerfEventArrayMap(s, cpus),
        MapType.Devmap => new DevMap(s, cpus),
        MapType.DevmapHash => new DevMapHash(s, cpus),
        MapType.Cpumap => new CpuMap(s, cpus),
        MapType.Xskmap => new XskMap(s, cpus),
        MapType.ArrayOfMaps => new ArrayOfMapsMap(s, cpus),
        MapType.HashOfMaps => new HashOfMapsMap(s, cpus),
        MapType.Ringbuf => new RingBufMap(s, cpus),
        MapType.UserRingbuf => new UserRingBufMap(s, cpus),
        MapType.Queue or MapType.Stack => new QueueStackMap(s, cpus),
        MapType.BloomFilter => new BloomFilterMap(s, cpus),
        MapType.TaskStorage or MapType.CgrpStorage => new VethXdp.Vm.Helpers.LocalStorageMap(s, cpus),
        _ when UnmodelledMap.IsUnmodelled(s.Type) => new UnmodelledMap(s, cpus),
        _ => throw new MapCreateException(s.Name, "map type " + MapTypeNames.ToName(s.Type) + " is not supported", Errno.EINVAL),
    };

    private static MapSpec Check(MapSpec spec, int cpus, bool inner)
    {
        var s = spec;
        string name = spec.Name;
        MapType type = spec.Type;

        if (!IsSupported(type))
        {
            string what = (uint)type <= (uint)MapType.Arena
                ? "map type " + MapTypeNames.ToName(type) + " (" + (uint)type + ") is not supported"
                : "unknown map type " + (uint)type;
            throw Refuse(name, what, Errno.EINVAL);
        }

        if (s.MaxEntries == 0 && !UnmodelledMap.RequiresZeroMaxEntries(type))
        {
            if (type != MapType.PerfEventArray)
            {
                throw Refuse(name, inner
                    ? "inner map max_entries is 0"
                    : "max_entries is 0: size it with --map-size " + name + "=N", Errno.EINVAL);
            }

            s = s with { MaxEntries = (uint)cpus };
        }

        // kernel: map_create
        uint flags = s.Flags & ~MapFlags.TokenFd;
        if (s.MapExtra != 0 && type != MapType.BloomFilter)
        {
            throw Refuse(name, "map_extra is 0x" + s.MapExtra.ToString("x", CultureInfo.InvariantCulture) + ": only bloom filters take map_extra", Errno.EINVAL);
        }

        if ((flags & MapFlags.Rdonly) != 0 && (flags & MapFlags.Wronly) != 0)
        {
            throw Refuse(name, "map_flags has both BPF_F_RDONLY and BPF_F_WRONLY", Errno.EINVAL);
        }

        if ((flags & MapFlags.NumaNode) != 0 && s.NumaNode != 0)
        {
            throw Refuse(name, "numa_node " + s.NumaNode + " is not online (one node: 0)", Errno.EINVAL);
        }

        var t = MapTypeNames.ToName(type);
        switch (type)
        {
            case MapType.Array:
            case MapType.PercpuArray:
                CheckArray(s, flags, t);
                break;
            case MapType.ProgArray:
            case MapType.PerfEventArray:
            case MapType.ArrayOfMaps:
                // kernel: fd_array_map_alloc_check
                if (s.ValueSize != 4)
                {
                    throw Refuse(name, "value_size must be 4 (a file descriptor) for " + t + " maps, not " + s.ValueSize, Errno.EINVAL);
                }

                if ((flags & (MapFlags.RdonlyProg | MapFlags.WronlyProg)) != 0)
                {
                    throw Refuse(name, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are not valid for " + t + " maps", Errno.EINVAL);
                }

                CheckArray(s, flags, t);
                break;
            case MapType.Hash:
            case MapType.PercpuHash:
            case MapType.LruHash:
            case MapType.LruPercpuHash:
            case MapType.HashOfMaps:
                if (type == MapType.HashOfMaps && s.ValueSize != 4)
                {
                    throw Refuse(name, "value_size must be 4 (a file descriptor) for hash_of_maps maps, not " + s.ValueSize, Errno.EINVAL);
                }

                s = CheckHash(s, flags, cpus, t);
                break;
            case MapType.LpmTrie:
                CheckLpm(s, flags);
                break;
            case MapType.Devmap:
            case MapType.DevmapHash:
                // kernel: dev_map_init_map
                RequireKey4(s, t);
                if (s.ValueSize != 4 && s.ValueSize != 8)
                {
                    throw Refuse(name, "value_size must be 4 (u32 ifindex) or 8 (struct bpf_devmap_val) for " + t + " maps, not " + s.ValueSize, Errno.EINVAL);
                }

                RequireFlags(s, flags, DevFlags, t);
                if (type == MapType.DevmapHash && s.MaxEntries > 1U << 31)
                {
                    throw Refuse(name, "max_entries " + s.MaxEntries + " is above 2^31", Errno.EINVAL);
                }

                // the kernel makes device maps read-only for programs (lookups return &dev->val)
                s = s with { Flags = s.Flags | MapFlags.RdonlyProg };
                break;
            case MapType.Cpumap:
                // kernel: cpu_map_alloc
                RequireKey4(s, t);
                if (s.ValueSize != 4 && s.ValueSize != 8)
                {
                    throw Refuse(name, "value_size must be 4 (u32 qsize) or 8 (struct bpf_cpumap_val) for cpumap maps, not " + s.ValueSize, Errno.EINVAL);
                }

                RequireFlags(s, flags, MapFlags.NumaNode, t);
                if (s.MaxEntries > CpuMap.NrCpus)
                {
                    throw Refuse(name, "max_entries " + s.MaxEntries + " is above NR_CPUS (" + CpuMap.NrCpus + ")", Errno.E2BIG);
                }

                s = s with { Flags = s.Flags | MapFlags.RdonlyProg };
                break;
            case MapType.Xskmap:
                // kernel: xsk_map_alloc
                RequireKey4(s, t);
                if (s.ValueSize != 4)
                {
                    throw Refuse(name, "value_size must be 4 (a socket fd) for xskmap maps, not " + s.ValueSize, Errno.EINVAL);
                }

                RequireFlags(s, flags, DevFlags, t);
                break;
            case MapType.Queue:
            case MapType.Stack:
                // kernel: queue_stack_map_alloc_check
                if (s.KeySize != 0)
                {
                    throw Refuse(name, "key_size must be 0 for " + t + " maps, not " + s.KeySize, Errno.EINVAL);
                }

                RequireValue(s);
                RequireFlags(s, flags, QueueStackFlags, t);
                RequireAccessOk(s, flags);
                if (s.ValueSize > KmallocMaxSize)
                {
                    throw Refuse(name, "value_size " + s.ValueSize + " is above KMALLOC_MAX_SIZE", Errno.E2BIG);
                }

                break;
            case MapType.Ringbuf:
            case MapType.UserRingbuf:
                // kernel: ringbuf_map_alloc (both ring buffer types)
                RequireFlags(s, flags, MapFlags.NumaNode, t);
                if (s.KeySize != 0 || s.ValueSize != 0)
                {
                    throw Refuse(name, "key_size and value_size must be 0 for " + t + " maps (they are " + s.KeySize + " and " + s.ValueSize + ")", Errno.EINVAL);
                }

                if (!BitOperations.IsPow2(s.MaxEntries) || s.MaxEntries % PageSize != 0)
                {
                    throw Refuse(name, "max_entries " + s.MaxEntries + " must be a power of 2 and a multiple of the page size (" + PageSize + ")", Errno.EINVAL);
                }

                break;
            case MapType.BloomFilter:
                // kernel: bloom_map_alloc
                if (s.KeySize != 0)
                {
                    throw Refuse(name, "key_size must be 0 for bloom_filter maps, not " + s.KeySize, Errno.EINVAL);
                }

                RequireValue(s);
                RequireFlags(s, flags, BloomFlags, t);
                RequireAccessOk(s, flags);
                if ((s.MapExtra & ~0xFUL) != 0)
                {
                    throw Refuse(name, "map_extra 0x" + s.MapExtra.ToString("x", CultureInfo.InvariantCulture) + ": only the low 4 bits (the number of hash functions) may be set", Errno.EINVAL);
                }

                break;
        }

        if (type is MapType.ArrayOfMaps or MapType.HashOfMaps)
        {
            CheckInner(s, cpus);
        }

        if (s.IsGlobalData || s.InitialData is not null)
        {
            if (type != MapType.Array)
            {
                throw Refuse(name, "initial data is only valid for array maps", Errno.EINVAL);
            }

            if (s.InitialData is { } data && (ulong)data.Length > (ulong)s.ValueSize * s.MaxEntries)
            {
                throw Refuse(name, "initial data of " + data.Length + " bytes does not fit value_size " + s.ValueSize, Errno.EINVAL);
            }
        }

        return s;
    }

    private static bool IsSupported(MapType type) => type is MapType.Array or MapType.PercpuArray or MapType.Hash or
        MapType.PercpuHash or MapType.LruHash or MapType.LruPercpuHash or MapType.LpmTrie or MapType.ProgArray or
        MapType.PerfEventArray or MapType.Devmap or MapType.DevmapHash or MapType.Cpumap or MapType.Xskmap or
        MapType.ArrayOfMaps or MapType.HashOfMaps or MapType.Ringbuf or MapType.UserRingbuf or MapType.Queue or
        MapType.Stack or MapType.BloomFilter or MapType.TaskStorage or MapType.CgrpStorage || UnmodelledMap.IsUnmodelled(type);

    private static void CheckArray(MapSpec s, uint flags, string t)
    {
        // kernel: array_map_alloc_check
        bool percpu = s.Type == MapType.PercpuArray;
        RequireKey4(s, t);
        RequireValue(s);
        RequireFlags(s, flags, ArrayFlags, t);
        RequireAccessOk(s, flags);
        if (percpu && (flags & MapFlags.NumaNode) != 0)
        {
            throw Refuse(s.Name, "BPF_F_NUMA_NODE is not valid for percpu_array maps", Errno.EINVAL);
        }

        if (s.Type != MapType.Array && (flags & (MapFlags.Mmapable | MapFlags.InnerMap)) != 0)
        {
            throw Refuse(s.Name, "BPF_F_MMAPABLE and BPF_F_INNER_MAP are only valid for array maps", Errno.EINVAL);
        }

        if (s.Type != MapType.PerfEventArray && (flags & MapFlags.PreserveElems) != 0)
        {
            throw Refuse(s.Name, "BPF_F_PRESERVE_ELEMS is only valid for perf_event_array maps", Errno.EINVAL);
        }

        if (s.ValueSize > int.MaxValue)
        {
            throw Refuse(s.Name, "value_size " + s.ValueSize + " is above INT_MAX", Errno.E2BIG);
        }

        if (percpu && (ulong)MapValue.RoundUp8((int)s.ValueSize) > PcpuMinUnitSize)
        {
            throw Refuse(s.Name, "value_size " + s.ValueSize + " is above the per-CPU limit (" + PcpuMinUnitSize + ")", Errno.E2BIG);
        }
    }

    private static MapSpec CheckHash(MapSpec s, uint flags, int cpus, string t)
    {
        // kernel: htab_map_alloc_check, then htab_map_alloc's size checks
        bool percpu = s.Type is MapType.PercpuHash or MapType.LruPercpuHash;
        bool lru = s.Type is MapType.LruHash or MapType.LruPercpuHash;
        bool percpuLru = (flags & MapFlags.NoCommonLru) != 0;
        bool prealloc = (flags & MapFlags.NoPrealloc) == 0;
        RequireFlags(s, flags, HtabFlags, t);
        RequireAccessOk(s, flags);
        if (!lru && percpuLru)
        {
            throw Refuse(s.Name, "BPF_F_NO_COMMON_LRU is only valid for LRU maps", Errno.EINVAL);
        }

        if (lru && !prealloc)
        {
            throw Refuse(s.Name, "BPF_F_NO_PREALLOC is not supported for " + t + " maps", Errno.ENOTSUPP);
        }

        if ((flags & MapFlags.NumaNode) != 0 && (percpu || percpuLru))
        {
            throw Refuse(s.Name, "BPF_F_NUMA_NODE is not valid for per-CPU maps or per-CPU LRU lists", Errno.EINVAL);
        }

        if (s.KeySize == 0)
        {
            throw Refuse(s.Name, "key_size is 0", Errno.EINVAL);
        }

        RequireValue(s);
        if ((ulong)s.KeySize + s.ValueSize >= KmallocMaxSize - HtabElemSize)
        {
            throw Refuse(s.Name, "key_size + value_size (" + ((ulong)s.KeySize + s.ValueSize) + ") is too large", Errno.E2BIG);
        }

        if (percpu && (ulong)MapValue.RoundUp8((int)Math.Min(s.ValueSize, int.MaxValue - 8)) > PcpuMinUnitSize)
        {
            throw Refuse(s.Name, "value_size " + s.ValueSize + " is above the per-CPU limit (" + PcpuMinUnitSize + ")", Errno.E2BIG);
        }

        uint max = s.MaxEntries;
        if (percpuLru)
        {
            // each CPU's LRU list gets the same number of elements
            ulong up = ((ulong)max + (ulong)cpus - 1) / (ulong)cpus * (ulong)cpus;
            max = up <= uint.MaxValue ? (uint)up : max / (uint)cpus * (uint)cpus;
        }

        if (max > 1U << 31)
        {
            throw Refuse(s.Name, "max_entries " + max + " is above 2^31", Errno.E2BIG);
        }

        return max == s.MaxEntries ? s : s with { MaxEntries = max };
    }

    private static void CheckLpm(MapSpec s, uint flags)
    {
        // kernel: trie_alloc
        if ((flags & MapFlags.NoPrealloc) == 0)
        {
            throw Refuse(s.Name, "lpm_trie maps must be created with BPF_F_NO_PREALLOC", Errno.EINVAL);
        }

        RequireFlags(s, flags, LpmFlags, "lpm_trie");
        RequireAccessOk(s, flags);
        if (s.KeySize < 5 || s.KeySize > 4 + LpmDataSizeMax)
        {
            throw Refuse(s.Name, "key_size " + s.KeySize + " must be 5..260 for lpm_trie maps (u32 prefixlen and 1..256 data bytes)", Errno.EINVAL);
        }

        if (s.ValueSize < 1 || s.ValueSize > KmallocMaxSize - LpmDataSizeMax - LpmNodeSize)
        {
            throw Refuse(s.Name, "value_size " + s.ValueSize + " is out of range for lpm_trie maps", Errno.EINVAL);
        }
    }

    private static void CheckInner(MapSpec s, int cpus)
    {
        // kernel: bpf_map_meta_alloc
        if (s.InnerMap is not { } inner)
        {
            throw Refuse(s.Name, "a map of maps needs an inner map definition (__array(values, ...) or inner_map_fd)", Errno.EBADF);
        }

        if (inner.Type is MapType.ArrayOfMaps or MapType.HashOfMaps)
        {
            throw Refuse(s.Name, "inner map type " + MapTypeNames.ToName(inner.Type) + ": maps of maps cannot nest", Errno.EINVAL);
        }

        if (!InnerMapCheck.CanBeInner(inner.Type))
        {
            throw Refuse(s.Name, "inner map type " + MapTypeNames.ToName(inner.Type) + " cannot be an inner map", Errno.ENOTSUPP);
        }

        try
        {
            Check(inner, cpus, inner: true);
        }
        catch (MapCreateException e)
        {
            throw Refuse(s.Name, "inner map: " + e.Reason, e.ErrorCode);
        }
    }

    private static void RequireKey4(MapSpec s, string t)
    {
        if (s.KeySize != 4)
        {
            throw Refuse(s.Name, "key_size must be 4 for " + t + " maps, not " + s.KeySize, Errno.EINVAL);
        }
    }

    private static void RequireValue(MapSpec s)
    {
        if (s.ValueSize == 0)
        {
            throw Refuse(s.Name, "value_size is 0", Errno.EINVAL);
        }
    }

    private static void RequireFlags(MapSpec s, uint flags, uint allowed, string t)
    {
        if ((flags & ~allowed) != 0)
        {
            throw Refuse(s.Name, "map_flags 0x" + flags.ToString("x", CultureInfo.InvariantCulture) + ": 0x" +
                (flags & ~allowed).ToString("x", CultureInfo.InvariantCulture) + " is not valid for " + t + " maps", Errno.EINVAL);
        }
    }

    private static void RequireAccessOk(MapSpec s, uint flags)
    {
        if (!MapFlags.AccessOk(flags))
        {
            throw Refuse(s.Name, "map_flags has both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG", Errno.EINVAL);
        }
    }

    private static MapCreateException Refuse(string name, string reason, int errno) => new(name, reason, errno);
}
