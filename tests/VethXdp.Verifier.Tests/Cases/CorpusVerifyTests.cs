using VethXdp.Verifier;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Elf;

namespace VethXdp.Verifier.Tests.Cases;

/// <summary>Our verifier on real clang-built objects: the corpus programs Linux loads, and the deliberately buggy one
/// it refuses.</summary>
public sealed class CorpusVerifyTests
{
    private static VerificationResult VerifyOnly(string relative, VerifierLogLevel level = VerifierLogLevel.Level1)
    {
        var obj = ElfObjectReader.Load(Path.Combine(TestPaths.CorpusDir, relative));
        return BpfVerifier.Verify(obj.Programs[0], obj.Maps, new VerifierOptions { LogLevel = level });
    }

    [Theory]
    [InlineData("xdp/xdp_paper_drop.v4.o")]
    [InlineData("xdp/xdp_paper_tx.v2.o")]
    [InlineData("xdp/xdp_paper_redirect.v3.o")]
    [InlineData("xdp/xdp_l4_filter.v4.o")]
    [InlineData("xdp/xdp_flow_counter.v4.o")]
    [InlineData("xdp/xdp_global_data.v4.o")]
    public void Verify_CorpusProgramLinuxLoads_IsAccepted(string relative)
    {
        var r = VerifyOnly(relative);
        Assert.True(r.Accepted, r.Log);
        Assert.True(r.Stats.InsnProcessed > 0);
        Assert.StartsWith("processed ", r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_BuggyOffByOne_RejectedWithPacketMessage()
    {
        var r = VerifyOnly("buggy/xdp_off_by_one.v4.o");
        Assert.False(r.Accepted);
        Assert.Equal("EACCES", r.Error!.ErrnoName);
        Assert.Contains("R", r.Error.Message, StringComparison.Ordinal);
        Assert.Contains("offset is outside of the packet", r.Error.Message, StringComparison.Ordinal);
        // the level-1 log shows the failing path: the instructions, a source line, the error, the closing line
        Assert.Contains("; ", r.Log, StringComparison.Ordinal);
        Assert.Contains("invalid access to packet", r.Log, StringComparison.Ordinal);
        Assert.Contains("processed ", r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_Level2_PrintsLiveRegsTableAndStates()
    {
        var r = VerifyOnly("xdp/xdp_paper_drop.v4.o", VerifierLogLevel.Level2 | VerifierLogLevel.Level1);
        Assert.True(r.Accepted);
        Assert.Contains("Live regs before insn:", r.Log, StringComparison.Ordinal);
        Assert.Contains("0: R1=ctx() R10=fp0", r.Log, StringComparison.Ordinal);
        Assert.Matches(@"\n\d+: \(85\) call bpf_map_lookup_elem#1 +; R0=", r.Log);
    }
}
