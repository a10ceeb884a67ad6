namespace VethXdp.Verifier.Tests;

public class PlaceholderTests
{
    [Fact]
    public void Project_Builds() => Assert.Equal("6.18", VethXdp.Verifier.VerifierInfo.Kernel);
}
