using VethXdp.Vm.Helpers;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Tests.Helpers;

/// <summary>Coverage of the helpers Linux 6.18 grants XDP programs.</summary>
public class HelperSetTests
{
    [Fact]
    public void XdpHelperSet_104Entries_NamesAsTheKernel()
    {
        Assert.Equal(104, XdpHelperSet.Entries.Count);
        int last = 0;
        foreach (var e in XdpHelperSet.Entries)
        {
            Assert.True(e.Id > last, $"ids ascend ({e.Id})");
            last = e.Id;
            Assert.Equal(HelperNames.Name(e.Id), e.Name);
        }

        Assert.True(XdpHelperSet.Contains(51));
        Assert.False(XdpHelperSet.Contains(4));     // bpf_probe_read: tracing only
    }

    [Fact]
    public void CreateDefault_RegistersEveryCoreHelper()
    {
        var table = HelperTable.CreateDefault();
        var missing = XdpHelperSet.Entries.Where(e => e.Group == HelperGroup.Core && !table.Contains(e.Id)).Select(e => e.Name).ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void CreateDefault_RegistersNothingXdpMayNotCall()
    {
        var table = HelperTable.CreateDefault();
        Assert.All(table.Ids, id => Assert.True(XdpHelperSet.Contains(id), $"helper {id} ({table.GetName(id)}) is not one XDP programs may call"));
    }

    [Fact]
    public void CreateDefault_NamesAreTheKernels()
    {
        var table = HelperTable.CreateDefault();
        Assert.All(table.Ids, id => Assert.Equal(HelperNames.Name(id), table.GetName(id)));
    }

    [SkippableFact]
    public void CreateDefault_RegistersEveryXdpHelper()
    {
        var table = HelperTable.CreateDefault();
        var missing = XdpHelperSet.Entries.Where(e => !table.Contains(e.Id)).ToList();
        Skip.If(missing.Count > 0 && missing.All(e => e.Group != HelperGroup.Core),
            $"{missing.Count} helpers of other groups are not registered yet: " + string.Join(", ", missing.Select(e => $"{e.Name}#{e.Id} ({e.Group})")));
        Assert.Empty(missing);
    }
}
