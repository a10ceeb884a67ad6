using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.Runtime;

/// <summary>The example of docs/api.md ("Loading and running objects"), line for line.</summary>
public class ApiExampleTests
{
    [SkippableFact]
    public void DocsExample_RedirectsToThePairedPort()
    {
        string path = Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_paper_redirect.v4.o");
        Skip.IfNot(File.Exists(path), $"{path} is not built");

        using var obj = LoadedObject.Open(path, new LoadOptions { PossibleCpus = 2 });
        obj.Maps["port_pair"].UserUpdate(BitConverter.GetBytes(1u), BitConverter.GetBytes(5u), 0);

        using var runner = new XdpRunner(obj, "xdp_paper_redirect", new RunOptions { Ifindex = 1 });
        byte[] frame = Convert.FromHexString("ffffffffffff02000000000108004500001400010000400100000a0000010a000002");
        XdpResult r = runner.Run(frame);
        Assert.Equal("4 XDP_REDIRECT devmap 5 port_pair",
            $"{r.Retval} {XdpActions.KernelName(r.Action)} {r.Redirect?.KindName} {r.Redirect?.Ifindex} {r.Redirect?.Map}");

        var stats = new byte[obj.Maps["redirect_stats"].UserValueSize];
        Assert.Equal(0, obj.Maps["redirect_stats"].UserLookup(BitConverter.GetBytes(0u), stats));
        Assert.Equal(1UL, BitConverter.ToUInt64(stats, 0));
        string json = MapsJson.Format(obj.Maps, obj.Names);
        Assert.StartsWith("{\"maps\":{", json, StringComparison.Ordinal);
        Assert.Contains("\"port_pair\"", json, StringComparison.Ordinal);
    }
}
