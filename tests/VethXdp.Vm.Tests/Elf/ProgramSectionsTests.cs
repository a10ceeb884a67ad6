using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Tests.Elf;

public class ProgramSectionsTests
{
    [Theory]
    [InlineData("xdp", ProgramType.Xdp, AttachType.Xdp, false, true, "xdp")]
    [InlineData("?xdp", ProgramType.Xdp, AttachType.Xdp, false, false, "xdp")]
    [InlineData("xdp.frags", ProgramType.Xdp, AttachType.Xdp, true, true, "xdp.frags")]
    [InlineData("xdp/devmap", ProgramType.Xdp, AttachType.XdpDevmap, false, true, "xdp/devmap")]
    [InlineData("xdp.frags/devmap", ProgramType.Xdp, AttachType.XdpDevmap, true, true, "xdp.frags/devmap")]
    [InlineData("xdp/cpumap", ProgramType.Xdp, AttachType.XdpCpumap, false, true, "xdp/cpumap")]
    [InlineData("?xdp.frags/cpumap", ProgramType.Xdp, AttachType.XdpCpumap, true, false, "xdp.frags/cpumap")]
    [InlineData("socket", ProgramType.SocketFilter, (AttachType)0, false, true, "socket")]
    [InlineData("tc", ProgramType.SchedCls, (AttachType)0, false, true, "tc")]
    [InlineData("classifier", ProgramType.SchedCls, (AttachType)0, false, true, "classifier")]
    [InlineData("tc/ingress", ProgramType.SchedCls, AttachType.TcxIngress, false, true, "tc/ingress")]
    [InlineData("tcx/egress", ProgramType.SchedCls, AttachType.TcxEgress, false, true, "tcx/egress")]
    [InlineData("tracepoint/syscalls/sys_enter_write", ProgramType.Tracepoint, (AttachType)0, false, true, "tracepoint+")]
    [InlineData("tp/net/netif_receive_skb", ProgramType.Tracepoint, (AttachType)0, false, true, "tp+")]
    [InlineData("kprobe/do_sys_open", ProgramType.Kprobe, (AttachType)0, false, true, "kprobe+")]
    [InlineData("kprobe", ProgramType.Kprobe, (AttachType)0, false, true, "kprobe+")]
    [InlineData("kprobe.multi/tcp_*", ProgramType.Kprobe, AttachType.TraceKprobeMulti, false, true, "kprobe.multi+")]
    [InlineData("fentry/tcp_v4_connect", ProgramType.Tracing, AttachType.TraceFentry, false, true, "fentry+")]
    [InlineData("sk_skb/verdict", ProgramType.SkSkb, AttachType.SkSkbVerdict, false, true, "sk_skb/verdict")]
    [InlineData("cgroup_skb/ingress", ProgramType.CgroupSkb, AttachType.CgroupInetIngress, false, true, "cgroup_skb/ingress")]
    [InlineData("netfilter", ProgramType.Netfilter, AttachType.Netfilter, false, true, "netfilter")]
    [InlineData("xdp_prog", ProgramType.Xdp, AttachType.Xdp, false, true, "xdp")]
    [InlineData("xdp_devmap/redirect", ProgramType.Xdp, AttachType.XdpDevmap, false, true, "xdp_devmap/")]
    [InlineData("classifier_ingress", ProgramType.SchedCls, (AttachType)0, false, true, "classifier")]
    [InlineData("prog", ProgramType.Unspec, (AttachType)0, false, true, null)]
    [InlineData("tracepointx", ProgramType.Unspec, (AttachType)0, false, true, null)]
    public void Parse_SectionName_TypeAttachTypeAndFlags(string section, ProgramType type, AttachType attach, bool frags, bool autoLoad, string? definition)
    {
        var info = ProgramSections.Parse(section);

        Assert.Equal((section.TrimStart('?'), type, attach, frags, autoLoad, definition), (info.SectionName, info.Type, info.ExpectedAttachType, info.Frags, info.AutoLoad, info.Definition));
    }

    [Fact]
    public void Parse_SleepableSections_AreMarked()
    {
        Assert.True(ProgramSections.Parse("syscall").Sleepable);
        Assert.True(ProgramSections.Parse("fentry.s/x").Sleepable);
        Assert.False(ProgramSections.Parse("xdp").Sleepable);
    }
}
