using System.Buffers.Binary;
using VethXdp.Testing.Model;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Testing.Tests;

/// <summary>Each helper of <see cref="XdpAssert"/> holds where it should and fails where it should, on hand-written and
/// corpus programs.</summary>
public class XdpAssertTests
{
    private static LoadedObject Asm(string asm, params MapSpec[] maps) => LoadedObject.Create(maps,
        [new ProgramSpec { Name = "prog", SectionName = "xdp", Type = ProgramType.Xdp, Slots = Assembler.Assemble(asm) }],
        new LoadOptions { PossibleCpus = 1 });

    // XDP_ABORTED for frames longer than 60 bytes, XDP_PASS otherwise.
    private const string AbortLong = """
        r2 = *(u32 *)(r1 +0)
        r3 = *(u32 *)(r1 +4)
        r3 -= r2
        r0 = 2
        if r3 <= 60 goto +1
        r0 = 0
        exit
        """;

    [Fact]
    public void NeverAborted_LongFramesAborted_FailsAndShrinksTo61Bytes()
    {
        using var obj = Asm(AbortLong);
        using var p = XdpProperty.For(obj);
        var report = p.Report(Frames.Spec().Payload(0, 400), XdpAssert.NeverAborted(), maxTest: 300);
        Assert.False(report.Passed);
        Assert.Equal("the program returned XDP_ABORTED", report.Reason);
        Assert.Equal(61, report.Counterexample!.Length);
    }

    [Fact]
    public void NeverAborted_RetvalNotAVerdict_Fails()
    {
        using var obj = Asm("r0 = 7\nexit");
        using var p = XdpProperty.For(obj);
        var report = p.Report(Frames.Spec(), XdpAssert.NeverAborted(), maxTest: 10);
        Assert.False(report.Passed);
        Assert.Contains("returned 7, which is not a verdict", report.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void NeverFaults_ReadPastTheFrame_FailsWithTheFault()
    {
        // Reads byte 100 of every frame without a bounds check.
        using var obj = Asm("r2 = *(u32 *)(r1 +0)\nr0 = *(u8 *)(r2 +100)\nr0 = 2\nexit");
        using var p = XdpProperty.For(obj);
        var report = p.Report(Frames.Spec(), XdpAssert.NeverFaults(), maxTest: 50);
        Assert.False(report.Passed);
        Assert.StartsWith("the program faulted: insn 1:", report.Reason, StringComparison.Ordinal);
        Assert.InRange(report.Counterexample!.Length, 14, 100);
    }

    [Fact]
    public void VerdictDeterminedBy_TheWrongField_Fails()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_port_filter"));
        var report = p.Report(Frames.Spec().Ipv4().Tcp(srcPorts: 1000..1002, dstPorts: 21..24).Untagged().WellFormed(),
            XdpAssert.VerdictDeterminedBy("TCP source port", c => c.Frame.Find<TcpHeader>()!.SourcePort), maxTest: 300);
        Assert.False(report.Passed);
        Assert.Contains("an earlier one with the same TCP source port got", report.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RedirectsTo_PairedPort_RedirectsToItsPair()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_paper_redirect"), options: new LoadOptions { PossibleCpus = 1 })
            .WithMaps(m => m["port_pair"].UserUpdate(BitConverter.GetBytes(1u), BitConverter.GetBytes(5u), 0));
        p.Verify(Frames.Spec(), XdpAssert.RedirectsTo(_ => 5).And(XdpAssert.MapCounterGrowsByOne("redirect_stats", key: 0)), maxTest: 100);
        var report = p.Report(Frames.Spec(), XdpAssert.RedirectsTo(_ => 6), maxTest: 10);
        Assert.False(report.Passed);
        Assert.Contains("expected a redirect to ifindex 6, the program gave XDP_REDIRECT (devmap ifindex 5 map port_pair)", report.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RedirectsTo_NoPair_DefaultEgressFromRodata()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_paper_redirect"));
        p.Verify(Frames.Spec(), XdpAssert.RedirectsTo(_ => 1).And(XdpAssert.MapCounterGrowsByOne("redirect_stats", key: 1)), maxTest: 100);
    }

    [Fact]
    public void MapCounterGrowsBy_WrongDelta_Fails()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_paper_tx"));
        var key = new byte[4];
        var report = p.Report(Frames.Spec(), XdpAssert.MapCounterGrowsBy("tx_count", key, _ => 2), maxTest: 10);
        Assert.False(report.Passed);
        Assert.Matches(@"tx_count went from \d+ to \d+, expected \d+", report.Reason);
    }

    [Fact]
    public void MapsJson_FillsTheMaps()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_paper_redirect"))
            .WithMapsJson("""{"maps": {"port_pair": {"type": "devmap_hash", "entries": [{"key": "01000000", "value": 7}]}}}""");
        p.Verify(Frames.Spec(), XdpAssert.RedirectsTo(_ => 7), maxTest: 20);
    }

    [Fact]
    public void WithRunOptions_AfterTheFirstFrame_Throws()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_pass"));
        p.RunFrame(Frames.Spec().Generate(1));
        Assert.Throws<InvalidOperationException>(() => p.WithRunOptions(new RunOptions { Ifindex = 3 }));
    }

    [Fact]
    public void WithRunOptions_RxQueue_ReachesTheProgram()
    {
        // Returns xdp_md.rx_queue_index: queue 3 is XDP_TX.
        using var obj = Asm("r0 = *(u32 *)(r1 +16)\nexit");
        using var p = XdpProperty.For(obj).WithRunOptions(new RunOptions { RxQueue = 3 });
        p.Verify(Frames.Spec(), XdpAssert.VerdictIs(XdpAction.Tx), maxTest: 20);
    }

    [Fact]
    public void Refused_QueueWithoutIfindex_NotAFault()
    {
        // BPF_PROG_TEST_RUN refuses an rx_queue_index without an ingress_ifindex: a refusal, not the program's fault.
        using var p = XdpProperty.For(Corpus.Xdp("xdp_pass")).WithRunOptions(new RunOptions { Ifindex = 0, RxQueue = 1 });
        var c = p.RunFrame(Frames.Spec().Generate(2));
        Assert.True(c.Refused, c.Summary);
        Assert.False(c.Faulted);
        p.Verify(Frames.Spec(), XdpAssert.NeverFaults(), maxTest: 10);
    }

    [Fact]
    public void RunFrame_Case_ExposesInputOutputAndSummary()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_paper_tx"));
        var frame = Frames.Spec().Ipv4().Udp().WellFormed().Generate(3);
        var c = p.RunFrame(frame);
        Assert.Equal(XdpAction.Tx, c.Action);
        Assert.Equal("XDP_TX", c.Summary);
        Assert.Equal(frame.Render(), c.Input.ToArray());
        Assert.Equal(c.Input.Span[6..12].ToArray(), c.Output[..6].ToArray());
        Assert.False(c.Faulted);
        Assert.False(c.Refused);
        Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(c.Input.Span[12..]), BinaryPrimitives.ReadUInt16BigEndian(c.Output[12..]));
    }

    [Fact]
    public void Verify_Failing_ThrowsWithTheReport()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_pass"));
        var e = Assert.Throws<XdpPropertyException>(() => p.Verify(Frames.Spec(), c => c.Action == XdpAction.Drop, maxTest: 5));
        Assert.NotNull(e.Report);
        Assert.Contains("\"the property\" does not hold for xdp_pass in xdp_pass.v4.o", e.Message, StringComparison.Ordinal);
        Assert.Contains("Smallest failing frame:", e.Message, StringComparison.Ordinal);
        Assert.Contains("Replay: \"", e.Message, StringComparison.Ordinal);
    }
}
