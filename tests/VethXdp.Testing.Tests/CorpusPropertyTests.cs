using System.Buffers.Binary;
using FsCheck;
using FsCheck.Xunit;
using VethXdp.Testing.Model;
using VethXdp.Vm.Runtime;
using Xunit.Abstractions;

namespace VethXdp.Testing.Tests;

/// <summary>The library on corpus programs: the port filter's verdicts, the MAC swap's output and counter.</summary>
public class CorpusPropertyTests(ITestOutputHelper output)
{
    // xdp_port_filter.c, read from the bytes: untagged IPv4 whose IHL is at least 5, protocol TCP, the TCP header in
    // the frame, destination port 22: XDP_DROP; everything else XDP_PASS.
    private static XdpAction PortFilterOracle(ReadOnlySpan<byte> f)
    {
        if (f.Length < 34 || BinaryPrimitives.ReadUInt16BigEndian(f[12..]) != 0x0800 || f[23] != 6 || (f[14] & 0xf) < 5)
        {
            return XdpAction.Pass;
        }

        int tcp = 14 + ((f[14] & 0xf) * 4);
        return f.Length >= tcp + 20 && BinaryPrimitives.ReadUInt16BigEndian(f[(tcp + 2)..]) == 22 ? XdpAction.Drop : XdpAction.Pass;
    }

    [Fact]
    public void PortFilter_Tcp22Dropped_EverythingElsePasses()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_port_filter"));
        var report = p.Report(Frames.Spec().Malformed(0.3), XdpAssert.Verdict(c => PortFilterOracle(c.Input.Span), "drop TCP to 22, pass the rest"), maxTest: 1000);
        Assert.True(report.Passed, report.Message);
        Assert.Equal(1000, report.Tests);
    }

    [Fact]
    public void PortFilter_WellFormedModel_VerdictFollowsTheTcpDestinationPort()
    {
        // On the model: an untagged IPv4 packet (not a later fragment) with a TCP header to port 22 is dropped.
        using var p = XdpProperty.For(Corpus.Xdp("xdp_port_filter"));
        var frames = Frames.Spec().WellFormed().Where(f => f.Find<Ipv4Header>() is not { FragmentOffset: > 0 });
        p.Verify(frames, XdpAssert.Verdict(
            c => c.Frame.Headers is [EthernetHeader, Ipv4Header, TcpHeader { DestinationPort: 22 }, ..] ? XdpAction.Drop : XdpAction.Pass),
            maxTest: 500);
    }

    [Fact]
    public void PortFilter_OnlyTcpToPort22_AllDropped()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_port_filter"));
        p.Verify(Frames.Spec().Ipv4().Tcp(dstPorts: 22).Untagged().WellFormed(), XdpAssert.VerdictIs(XdpAction.Drop), maxTest: 200);
    }

    [Fact]
    public void PortFilter_VerdictIsAFunctionOfTheDestinationPort()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_port_filter"));
        p.Verify(Frames.Spec().Ipv4().Tcp(dstPorts: 20..25).Untagged().WellFormed(),
            XdpAssert.VerdictDeterminedBy("TCP destination port", c => c.Frame.Find<TcpHeader>()!.DestinationPort), maxTest: 300);
    }

    [Fact]
    public void PortFilter_WrongClaim_FailsAndShrinksToATcpFrameToPort22()
    {
        // "Everything passes" is false: the counterexample is the simplest TCP frame to port 22.
        using var p = XdpProperty.For(Corpus.Xdp("xdp_port_filter"));
        var report = p.Report(Frames.Spec().Ipv4().Tcp(dstPorts: 20..25).Untagged().WellFormed(), XdpAssert.VerdictIs(XdpAction.Pass), maxTest: 500);
        Assert.False(report.Passed);
        var frame = report.Counterexample!;
        Assert.Equal(54, frame.Length);
        var tcp = Assert.IsType<TcpHeader>(frame.Headers[2]);
        Assert.Equal(22, tcp.DestinationPort);
        Assert.Equal(0, tcp.SourcePort);
        Assert.Equal(Macs.Zero, ((EthernetHeader)frame.Headers[0]).Source);
        Assert.Contains("expected XDP_PASS, the program gave XDP_DROP", report.Reason, StringComparison.Ordinal);
        output.WriteLine(report.Message);
    }

    [Fact]
    public void PaperTx_OutputIsInputWithMacsSwapped_CounterGrowsByOne()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_paper_tx"), options: new LoadOptions { PossibleCpus = 2 });
        var check = XdpAssert.VerdictIs(XdpAction.Tx)
            .And(XdpAssert.OutputIs(FrameTransforms.SwapEthernetAddresses, "output = input with the MACs swapped"))
            .And(XdpAssert.MapCounterGrowsByOne("tx_count"));
        var report = p.Report(Frames.Spec(), check, maxTest: 500);
        Assert.True(report.Passed, report.Message);
        var count = new byte[p.Maps["tx_count"].UserValueSize];
        p.Maps["tx_count"].UserLookup(new byte[4], count);
        Assert.Equal(500ul, BinaryPrimitives.ReadUInt64LittleEndian(count));
    }

    [Fact]
    public void PaperTx_OutputEqualsInputExceptMacs()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_paper_tx"));
        p.Verify(Frames.Spec(), XdpAssert.OutputEqualsInputExcept(FrameField.EthernetDestination, FrameField.EthernetSource), maxTest: 300);
    }

    [Fact]
    public void PaperTx_OutputEqualsInput_FailsOnTheMacs()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_paper_tx"));
        var report = p.Report(Frames.Spec(), XdpAssert.OutputEqualsInputExcept(FrameField.EthernetDestination), maxTest: 100);
        Assert.False(report.Passed);
        Assert.Contains("outside the fields the program may change (Ethernet destination)", report.Reason, StringComparison.Ordinal);
    }

    [Property(MaxTest = 200)]
    public Property PaperDrop_DropsEveryFrame()
    {
        var p = XdpProperty.For(Corpus.Xdp("xdp_paper_drop"));
        return p.Check(Frames.Spec(), c => c.Action == XdpAction.Drop);
    }

    [Property(MaxTest = 200, Arbitrary = [typeof(FrameArbitraries)])]
    public bool FrameParameter_RendersWithinItsLength(Frame frame) =>
        frame.Render().Length == frame.Length && frame.Length >= Frames.MinLength;
}
