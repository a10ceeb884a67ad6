namespace VethXdp.Kernel.Tests;

public class KernelInfoTests
{
    [Fact]
    public void Release_OnLinux_IsNotEmpty() => Assert.False(OperatingSystem.IsLinux() && string.IsNullOrEmpty(VethXdp.Kernel.KernelInfo.Release));
}
