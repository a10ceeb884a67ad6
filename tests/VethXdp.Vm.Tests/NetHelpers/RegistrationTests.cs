using VethXdp.Vm.Helpers;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Tests.NetHelpers;

/// <summary>The default table has every networking and dynptr helper of the XDP set, under the kernel's names, and the
/// XDP kfuncs under theirs.</summary>
public class RegistrationTests
{
    public static TheoryData<int> NetAndDynptrIds()
    {
        var d = new TheoryData<int>();
        foreach (var e in XdpHelperSet.Entries)
        {
            if (e.Group is HelperGroup.Net or HelperGroup.Dynptr)
            {
                d.Add(e.Id);
            }
        }

        return d;
    }

    [Theory]
    [MemberData(nameof(NetAndDynptrIds))]
    public void CreateDefault_HasHelper_UnderKernelName(int id)
    {
        var t = HelperTable.CreateDefault();
        Assert.True(t.Contains(id));
        Assert.Equal(HelperNames.Name(id), t.GetName(id));
    }

    [Theory]
    [InlineData(KfuncId.DynptrFromXdp)]
    [InlineData(KfuncId.DynptrSlice)]
    [InlineData(KfuncId.DynptrSliceRdwr)]
    [InlineData(KfuncId.XdpMetadataRxTimestamp)]
    [InlineData(KfuncId.XdpMetadataRxHash)]
    [InlineData(KfuncId.XdpMetadataRxVlanTag)]
    public void CreateDefault_HasKfunc_UnderKernelName(KfuncId id)
    {
        var t = HelperTable.CreateDefault();
        Assert.True(t.TryGetKfunc((int)id, out _));
        Assert.Equal(Kfuncs.NameOf(id), t.GetKfuncName((int)id));
    }
}
