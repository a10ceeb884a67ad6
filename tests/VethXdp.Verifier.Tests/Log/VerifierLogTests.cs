using VethXdp.Verifier.Log;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Log;

public class VerifierLogTests
{
    private static string[]? ReferenceLines(string file)
    {
        string? dir = TestPaths.ReferenceDir;
        return dir is null ? null : File.ReadAllLines(Path.Combine(dir, file)).Where(l => l.Length > 0).ToArray();
    }

    [SkippableFact]
    public void WriteStats_Level1WithStats_ClosingLinesOfTheReferenceLog()
    {
        var reference = ReferenceLines("sample_rejected.verifier-log1.txt");
        Skip.If(reference is null, "../shared/reference is absent");
        var log = new VerifierLog(VerifierLogLevel.Level1 | VerifierLogLevel.Stats);
        log.WriteStats(new VerifierStats { InsnProcessed = 2, VerificationTimeUsec = 25, StackDepths = [0] });
        Assert.Equal(string.Join("\n", reference![^3..]) + "\n", log.ToString());
    }

    [SkippableFact]
    public void WriteStats_Level2Stats_ClosingLinesOfTheReferenceLog()
    {
        var reference = ReferenceLines("sample_xdp.verifier-log2.txt");
        Skip.If(reference is null, "../shared/reference is absent");
        var log = new VerifierLog(VerifierLogLevel.Level2 | VerifierLogLevel.Stats);
        log.WriteStats(new VerifierStats
        {
            InsnProcessed = 28, TotalStates = 2, PeakStates = 2, VerificationTimeUsec = 229, StackDepths = [8],
        });
        Assert.Equal(string.Join("\n", reference![^3..]) + "\n", log.ToString());
    }

    [Fact]
    public void WriteStats_WithoutStatsBit_OnlyProcessedLine()
    {
        // recorded at log level 2 on 6.18.44: no time or depth lines without BPF_LOG_STATS
        var log = new VerifierLog(VerifierLogLevel.Level2);
        log.WriteStats(new VerifierStats { InsnProcessed = 22, MaxStatesPerInsn = 1, TotalStates = 2, PeakStates = 2, StackDepths = [0] });
        Assert.Equal("processed 22 insns (limit 1000000) max_states_per_insn 1 total_states 2 peak_states 2 mark_read 0\n", log.ToString());
    }

    [Fact]
    public void WriteStats_SeveralFunctions_DepthsJoinedWithPlus()
    {
        var log = new VerifierLog(VerifierLogLevel.Stats);
        log.WriteStats(new VerifierStats { StackDepths = [16, 0, 8] });
        Assert.StartsWith("verification time 0 usec\nstack depth 16+0+8\n", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Disabled_WritesNothing()
    {
        var log = VerifierLog.Disabled;
        log.WriteLine("x");
        log.Verbose(Msg.UnreachableInsn, 3);
        log.WriteStats(new VerifierStats());
        Assert.Equal(string.Empty, log.ToString());
        Assert.False(log.Enabled);
    }

    [Fact]
    public void ResetTo_SavedPosition_DropsLaterText()
    {
        var log = new VerifierLog(VerifierLogLevel.Level1);
        log.WriteLine("kept");
        int pos = log.Position;
        log.Verbose(Msg.JumpOutOfRange, 1, 7);
        Assert.Equal("kept\njump out of range from insn 1 to 7\n", log.ToString());
        log.ResetTo(pos);
        Assert.Equal("kept\n", log.ToString());
    }

    [SkippableFact]
    public void LineInfo_ReferenceProgram_SourceLinesAsTheKernelPrintsThem()
    {
        var reference = ReferenceLines("sample_xdp.verifier-log2.txt");
        Skip.If(reference is null, "../shared/reference is absent");
        // line_info of sample_xdp.c as clang emits it: a record per statement, two records on line 18 (the two
        // loads, different columns) and several on line 23; the log prints a line once per change of line
        LineInfo L(int slot, int line, int col, string text) => new(slot, "/work/shared/reference/sample_xdp.c", line, col, text);
        string[] src = File.ReadAllLines(Path.Combine(TestPaths.ReferenceDir!, "sample_xdp.c"));
        string S(int line) => src[line - 1];
        var lines = new List<LineInfo>
        {
            L(0, 17, 0, S(17)), L(1, 18, 40, S(18)), L(2, 18, 14, S(18)), L(3, 20, 24, S(20)), L(6, 21, 8, S(21)),
            L(12, 22, 9, S(22)), L(16, 23, 14, S(23)), L(18, 23, 23, S(23)), L(27, 25, 1, S(25)),
        };
        var log = new VerifierLog(VerifierLogLevel.Level2, lines);
        for (int i = 0; i < 28; i++)
        {
            log.LineInfo(i, "; ");
        }

        var expected = reference!.Where(l => l.StartsWith("; ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(expected, log.ToString().TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void LineInfo_NoLines_NothingPrinted()
    {
        var log = new VerifierLog(VerifierLogLevel.Level2);
        log.LineInfo(0, "; ");
        Assert.Equal(string.Empty, log.ToString());
    }
}
