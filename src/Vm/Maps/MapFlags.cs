namespace VethXdp.Vm.Maps;

/// <summary>map_flags bits of BPF_MAP_CREATE (include/uapi/linux/bpf.h), with the kernel's values.</summary>
/// <remarks>
/// <code>
///  bit  18              13  12  11  10   9   8   7   6   5   4   3   2   1   0
///      NO_USER_CONV ... LINK INNER PRESERVE MMAP CLONE WRO RDO ZERO BID WR RD NUMA NOCOMMON NOPREALLOC
///                                                  _PROG _PROG SEED           LRU
/// </code>
/// </remarks>
public static class MapFlags
{
    /// <summary>BPF_F_NO_PREALLOC: allocate hash elements on demand (LPM tries require it).</summary>
    public const uint NoPrealloc = 1u << 0;

    /// <summary>BPF_F_NO_COMMON_LRU: one LRU list per CPU instead of one shared list.</summary>
    public const uint NoCommonLru = 1u << 1;

    /// <summary>BPF_F_NUMA_NODE: numa_node is valid.</summary>
    public const uint NumaNode = 1u << 2;

    /// <summary>BPF_F_RDONLY: user space may only read.</summary>
    public const uint Rdonly = 1u << 3;

    /// <summary>BPF_F_WRONLY: user space may only write.</summary>
    public const uint Wronly = 1u << 4;

    /// <summary>BPF_F_STACK_BUILD_ID (stack trace maps).</summary>
    public const uint StackBuildId = 1u << 5;

    /// <summary>BPF_F_ZERO_SEED: hash with seed 0 (deterministic bucket order).</summary>
    public const uint ZeroSeed = 1u << 6;

    /// <summary>BPF_F_RDONLY_PROG: programs may only read values.</summary>
    public const uint RdonlyProg = 1u << 7;

    /// <summary>BPF_F_WRONLY_PROG: programs may only write values.</summary>
    public const uint WronlyProg = 1u << 8;

    /// <summary>BPF_F_CLONE (socket local storage).</summary>
    public const uint Clone = 1u << 9;

    /// <summary>BPF_F_MMAPABLE: array memory may be mmap()ed (global data maps).</summary>
    public const uint Mmapable = 1u << 10;

    /// <summary>BPF_F_PRESERVE_ELEMS: keep perf events when the map's last user-space reference goes.</summary>
    public const uint PreserveElems = 1u << 11;

    /// <summary>BPF_F_INNER_MAP: an inner array map whose max_entries may differ from the template's.</summary>
    public const uint InnerMap = 1u << 12;

    /// <summary>BPF_F_LINK (struct_ops).</summary>
    public const uint Link = 1u << 13;

    /// <summary>BPF_F_PATH_FD (pinning).</summary>
    public const uint PathFd = 1u << 14;

    /// <summary>BPF_F_VTYPE_BTF_OBJ_FD (struct_ops).</summary>
    public const uint VtypeBtfObjFd = 1u << 15;

    /// <summary>BPF_F_TOKEN_FD: a BPF token is passed.</summary>
    public const uint TokenFd = 1u << 16;

    /// <summary>BPF_F_SEGV_ON_FAULT (arena).</summary>
    public const uint SegvOnFault = 1u << 17;

    /// <summary>BPF_F_NO_USER_CONV (arena).</summary>
    public const uint NoUserConv = 1u << 18;

    /// <summary>BPF_F_ACCESS_MASK: the four access bits.</summary>
    public const uint AccessMask = Rdonly | RdonlyProg | Wronly | WronlyProg;

    /// <summary>bpf_map_flags_access_ok(): a map cannot be both read-only and write-only for programs.</summary>
    public static bool AccessOk(uint flags) => (flags & (RdonlyProg | WronlyProg)) != (RdonlyProg | WronlyProg);
}

/// <summary>Flags of map updates (bpf_map_update_elem, BPF_MAP_UPDATE_ELEM), with the kernel's values.</summary>
public static class MapUpdateFlags
{
    /// <summary>BPF_ANY: create a new element or update an existing one.</summary>
    public const ulong Any = 0;

    /// <summary>BPF_NOEXIST: create a new element only if it did not exist.</summary>
    public const ulong NoExist = 1;

    /// <summary>BPF_EXIST: update an existing element only (queue/stack push: overwrite the oldest when full).</summary>
    public const ulong Exist = 2;

    /// <summary>BPF_F_LOCK: update the value under its bpf_spin_lock (maps whose value holds one).</summary>
    public const ulong Lock = 4;
}
