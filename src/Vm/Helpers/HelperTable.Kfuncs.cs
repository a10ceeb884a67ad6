using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Helpers;

public sealed partial class HelperTable
{
    // The kfuncs, by KfuncId (the imm of a call with src 2 after loading).
    static partial void RegisterKfuncs(HelperTable table)
    {
        Add(table, KfuncId.DynptrFromXdp, KfuncHelpers.DynptrFromXdp);
        Add(table, KfuncId.DynptrSlice, KfuncHelpers.DynptrSlice);
        Add(table, KfuncId.DynptrSliceRdwr, KfuncHelpers.DynptrSliceRdwr);
        Add(table, KfuncId.XdpMetadataRxTimestamp, KfuncHelpers.XdpMetadataRxTimestamp);
        Add(table, KfuncId.XdpMetadataRxHash, KfuncHelpers.XdpMetadataRxHash);
        Add(table, KfuncId.XdpMetadataRxVlanTag, KfuncHelpers.XdpMetadataRxVlanTag);
        Add(table, KfuncId.ObjNewImpl, ObjectKfuncs.ObjNewImpl);
        Add(table, KfuncId.ObjDropImpl, ObjectKfuncs.ObjDropImpl);
        Add(table, KfuncId.PercpuObjNewImpl, ObjectKfuncs.PercpuObjNewImpl);
        Add(table, KfuncId.PercpuObjDropImpl, ObjectKfuncs.PercpuObjDropImpl);

        static void Add(HelperTable t, KfuncId id, HelperFunc f) => t.RegisterKfunc((int)id, Kfuncs.NameOf(id), f);
    }
}
