namespace VethXdp.Testing.Tests;

public class PlaceholderTests
{
    [Fact]
    public void Project_Builds() => Assert.Equal("VethXdp.Testing", typeof(VethXdp.Testing.TestingInfo).Assembly.GetName().Name);
}
