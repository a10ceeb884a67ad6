namespace VethXdp.Reports.Tests;

public class PlaceholderTests
{
    [Fact]
    public void Project_Builds() => Assert.Equal("VethXdp.Reports", typeof(VethXdp.Reports.ReportsInfo).Assembly.GetName().Name);
}
