using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Helpers;

/// <summary>What the verifier needs of each kfunc's prototype before it checks the call (the kernel reads it from
/// the function's BTF): the number of arguments, which the liveness pass uses (a kfunc reads R1..R<i>n</i>).</summary>
internal static class KfuncProtos
{
    /// <summary>The number of arguments of <paramref name="id"/> (its BTF FUNC_PROTO's vlen); 5 for an unknown id.</summary>
    public static int ArgCount(KfuncId id) => id switch
    {
        KfuncId.DynptrFromXdp => 3,                                 // (xdp_md *, u64 flags, bpf_dynptr *)
        KfuncId.DynptrSlice or KfuncId.DynptrSliceRdwr => 4,         // (dynptr *, u32 off, void *buf, u32 size)
        KfuncId.XdpMetadataRxTimestamp => 2,                        // (ctx, u64 *)
        KfuncId.XdpMetadataRxHash or KfuncId.XdpMetadataRxVlanTag => 3, // (ctx, out, out)
        KfuncId.ObjNewImpl or KfuncId.PercpuObjNewImpl => 2,         // (u64 local_type_id__k, void *meta__ign)
        KfuncId.ObjDropImpl or KfuncId.PercpuObjDropImpl => 2,       // (void *p__alloc, void *meta__ign)
        _ => 5,
    };
}
