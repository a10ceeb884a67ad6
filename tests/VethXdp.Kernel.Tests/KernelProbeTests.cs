using VethXdp.Kernel;

namespace VethXdp.Kernel.Tests;

public class KernelProbeTests
{
    [Fact]
    public void IsBpfPermitted_Always_GivesAReason()
    {
        bool permitted = KernelProbe.IsBpfPermitted(out string reason);
        Assert.False(string.IsNullOrWhiteSpace(reason));
        if (!OperatingSystem.IsLinux())
        {
            Assert.False(permitted);
            Assert.Contains("not Linux", reason);
        }
    }

    [Fact]
    public void IsBpfPermitted_Twice_GivesTheSameAnswer()
    {
        bool a = KernelProbe.IsBpfPermitted(out string ra);
        bool b = KernelProbe.IsBpfPermitted(out string rb);
        Assert.Equal(a, b);
        Assert.Equal(ra, rb);
    }

    [SkippableFact]
    public void IsBpfPermitted_WhenPermitted_NamesTheKernel()
    {
        KernelSkip.IfNotPermitted();
        KernelProbe.IsBpfPermitted(out string reason);
        Assert.Contains("Linux", reason);
    }

    [Theory]
    [InlineData("0", 1)]
    [InlineData("0-1\n", 2)]
    [InlineData("0-3,8-11", 12)]
    [InlineData("0,2", 3)]
    public void CountFromCpuList_KernelLists_HighestIdPlusOne(string list, int expected) =>
        Assert.Equal(expected, CpuTopology.CountFromCpuList(list));

    [Theory]
    [InlineData("xdp_prog", "xdp_prog")]
    [InlineData(".rodata.str1.1", ".rodata.str1.1")]
    [InlineData("a_name_longer_than_fifteen", "a_name_longer_t")]
    [InlineData("tx-port", "tx_port")]
    public void KernelName_Names_AreMadeValid(string name, string expected) =>
        Assert.Equal(expected, BpfSyscall.KernelName(name));

    [Fact]
    public void ErrnoNames_KnownAndUnknown_AreNamed()
    {
        Assert.Equal("EACCES", ErrnoNames.Name(13));
        Assert.Equal("ENOTSUPP", ErrnoNames.Name(524));
        Assert.Equal("errno 4000", ErrnoNames.Name(4000));
    }

    [Fact]
    public void KernelLog_Reason_SkipsTheStatistics()
    {
        const string log = "0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
        Assert.Equal("R0 !read_ok", KernelLog.Reason(log));
        Assert.Equal(3, KernelLog.LineCount(log));
    }

    [SkippableFact]
    public void PinCurrentThread_Cpu0_RunsOnCpu0ThenRestores()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "sched_setaffinity is Linux's");
        using (CpuTopology.PinCurrentThread(0))
        {
            Assert.Equal(0, CpuTopology.CurrentCpu);
        }

        Assert.True(CpuTopology.PossibleCpus >= 1);
    }
}
