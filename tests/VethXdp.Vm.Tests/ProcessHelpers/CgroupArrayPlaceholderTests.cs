using VethXdp.Vm.Maps;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.CurrentTask;

/// <summary>bpf_current_task_under_cgroup on the CGROUP_ARRAY the default map factory builds (a map that cannot hold
/// cgroups: user space cannot store a cgroup fd in it), as corpus/xdp/xdp_task_info.c calls it: every slot is empty,
/// as in the kernel's array before user space fills it (Linux 6.18 gave -EAGAIN and -E2BIG).</summary>
public class CgroupArrayPlaceholderTests
{
    [Theory]
    [InlineData(0u, -Errno.EAGAIN)]
    [InlineData(1u, -Errno.EAGAIN)]
    [InlineData(2u, -Errno.E2BIG)]
    public void CurrentTaskUnderCgroup_DefaultFactoryArray_EmptySlotsAsLinux(uint index, int expected)
    {
        var o = Rt.RunOnce($"""
            r1 = map[idx:0]
            r2 = {index}
            call bpf_current_task_under_cgroup
            exit
            """, maps: Rt.Map("cgroups", MapType.CgroupArray, 4, 4, 2));

        Assert.Null(o.Error);
        Assert.Equal(Rt.Err(-expected), o.Retval);
    }
}
