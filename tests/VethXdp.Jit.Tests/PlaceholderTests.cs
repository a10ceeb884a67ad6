namespace VethXdp.Jit.Tests;

public class PlaceholderTests
{
    [Fact]
    public void Project_Builds() => Assert.Equal("VethXdp.Jit", typeof(VethXdp.Jit.JitInfo).Assembly.GetName().Name);
}
