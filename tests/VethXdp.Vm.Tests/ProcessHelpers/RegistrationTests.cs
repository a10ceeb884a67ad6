using VethXdp.Vm.Helpers;
using VethXdp.Vm.Isa;

namespace VethXdp.Vm.Tests.CurrentTask;

/// <summary>Every helper Linux lets an XDP program call is registered, under the kernel's name.</summary>
public class RegistrationTests
{
    [Fact]
    public void CreateDefault_EveryXdpHelper_Registered()
    {
        var table = HelperTable.CreateDefault();
        var missing = XdpHelperSet.Entries.Where(e => !table.Contains(e.Id)).ToList();
        Assert.True(missing.Count == 0,
            $"{missing.Count} XDP helpers are not registered by HelperTable.CreateDefault(): "
            + string.Join(", ", missing.Select(e => $"{e.Id} {e.Name} ({e.Group})")));
    }

    [Fact]
    public void AddProcessGroups_RegistersExactlyProcessTimerAndOther()
    {
        var table = new HelperTable();
        HelperTable.AddProcessGroups(table);
        var expected = XdpHelperSet.Entries
            .Where(e => e.Group is HelperGroup.Process or HelperGroup.Timer or HelperGroup.Other)
            .Select(e => e.Id);
        Assert.Equal(expected, table.Ids);
        foreach (int id in table.Ids)
        {
            Assert.Equal(HelperNames.Name(id), table.GetName(id));
        }
    }

    [Fact]
    public void AddProcessGroups_AfterCreateDefault_ReplacesEarlierProcessHelpers()
    {
        var table = HelperTable.CreateDefault();
        HelperTable.AddProcessGroups(table);
        Assert.True(table.TryGet(14, out var f));
        Assert.Equal(typeof(VethXdp.Vm.Helpers.ProcessHelpers), f.Method.DeclaringType);
    }
}
