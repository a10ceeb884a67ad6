namespace VethXdp.Vm.Programs;

/// <summary>The kernel functions (kfuncs) an XDP program may call, as the loader encodes them: a call with
/// src 2 (BPF_PSEUDO_KFUNC_CALL) and imm = one of these ids, where Linux puts the function's BTF id.</summary>
/// <remarks>Any other <c>.ksyms</c> extern is refused at load with its name.</remarks>
public enum KfuncId
{
    /// <summary>Not a kfunc.</summary>
    None = 0,
    /// <summary><c>int bpf_dynptr_from_xdp(struct xdp_md *x, u64 flags, struct bpf_dynptr *ptr__uninit)</c>.</summary>
    DynptrFromXdp = 1,
    /// <summary><c>void *bpf_dynptr_slice(const struct bpf_dynptr *p, u32 offset, void *buffer__opt, u32 buffer__szk)</c>.</summary>
    DynptrSlice = 2,
    /// <summary><c>void *bpf_dynptr_slice_rdwr(const struct bpf_dynptr *p, u32 offset, void *buffer__opt, u32 buffer__szk)</c>.</summary>
    DynptrSliceRdwr = 3,
    /// <summary><c>int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, u64 *timestamp)</c> (device-bound programs only).</summary>
    XdpMetadataRxTimestamp = 4,
    /// <summary><c>int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, u32 *hash, enum xdp_rss_hash_type *rss_type)</c> (device-bound programs only).</summary>
    XdpMetadataRxHash = 5,
    /// <summary><c>int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto, u16 *vlan_tci)</c> (device-bound programs only).</summary>
    XdpMetadataRxVlanTag = 6,
    /// <summary><c>void *bpf_obj_new_impl(u64 local_type_id__k, void *meta__ign)</c>: an object of a type of the program's
    /// own BTF (kernel/bpf/helpers.c).</summary>
    ObjNewImpl = 7,
    /// <summary><c>void bpf_obj_drop_impl(void *p__alloc, void *meta__ign)</c>: frees an object of <see cref="ObjNewImpl"/>.</summary>
    ObjDropImpl = 8,
    /// <summary><c>void *bpf_percpu_obj_new_impl(u64 local_type_id__k, void *meta__ign)</c>: a per-CPU object (one copy
    /// per possible CPU), reached through bpf_per_cpu_ptr and bpf_this_cpu_ptr.</summary>
    PercpuObjNewImpl = 9,
    /// <summary><c>void bpf_percpu_obj_drop_impl(void *p__alloc, void *meta__ign)</c>: frees a per-CPU object.</summary>
    PercpuObjDropImpl = 10,
}

/// <summary>The kfunc names the loader accepts, and their ids.</summary>
public static class Kfuncs
{
    /// <summary>The kernel's name of a kfunc.</summary>
    public static string NameOf(KfuncId id) => id switch
    {
        KfuncId.DynptrFromXdp => "bpf_dynptr_from_xdp",
        KfuncId.DynptrSlice => "bpf_dynptr_slice",
        KfuncId.DynptrSliceRdwr => "bpf_dynptr_slice_rdwr",
        KfuncId.XdpMetadataRxTimestamp => "bpf_xdp_metadata_rx_timestamp",
        KfuncId.XdpMetadataRxHash => "bpf_xdp_metadata_rx_hash",
        KfuncId.XdpMetadataRxVlanTag => "bpf_xdp_metadata_rx_vlan_tag",
        KfuncId.ObjNewImpl => "bpf_obj_new_impl",
        KfuncId.ObjDropImpl => "bpf_obj_drop_impl",
        KfuncId.PercpuObjNewImpl => "bpf_percpu_obj_new_impl",
        KfuncId.PercpuObjDropImpl => "bpf_percpu_obj_drop_impl",
        _ => "unknown",
    };

    /// <summary>The id of a kfunc by its kernel name; <see cref="KfuncId.None"/> for any other name.</summary>
    public static KfuncId IdOf(string name) => name switch
    {
        "bpf_dynptr_from_xdp" => KfuncId.DynptrFromXdp,
        "bpf_dynptr_slice" => KfuncId.DynptrSlice,
        "bpf_dynptr_slice_rdwr" => KfuncId.DynptrSliceRdwr,
        "bpf_xdp_metadata_rx_timestamp" => KfuncId.XdpMetadataRxTimestamp,
        "bpf_xdp_metadata_rx_hash" => KfuncId.XdpMetadataRxHash,
        "bpf_xdp_metadata_rx_vlan_tag" => KfuncId.XdpMetadataRxVlanTag,
        "bpf_obj_new_impl" => KfuncId.ObjNewImpl,
        "bpf_obj_drop_impl" => KfuncId.ObjDropImpl,
        "bpf_percpu_obj_new_impl" => KfuncId.PercpuObjNewImpl,
        "bpf_percpu_obj_drop_impl" => KfuncId.PercpuObjDropImpl,
        _ => KfuncId.None,
    };

    /// <summary>True for the metadata kfuncs, which Linux lets only device-bound programs call.</summary>
    public static bool NeedsDevice(KfuncId id) =>
        id is KfuncId.XdpMetadataRxTimestamp or KfuncId.XdpMetadataRxHash or KfuncId.XdpMetadataRxVlanTag;
}

/// <summary>A kfunc call in a linked program.</summary>
/// <param name="Slot">The call instruction's slot in <see cref="ProgramSpec.Slots"/>.</param>
/// <param name="Name">The kfunc's name.</param>
/// <param name="Id">Its id (also the call's imm).</param>
public sealed record KfuncCall(int Slot, string Name, KfuncId Id);
