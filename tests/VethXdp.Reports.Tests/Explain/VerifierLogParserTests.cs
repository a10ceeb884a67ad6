using VethXdp.Reports.Explain;

namespace VethXdp.Reports.Tests.Explain;

public sealed class VerifierLogParserTests
{
    // A level-1 log of a rejection after a resumed branch: the kernel rewinds the log to the jump, so the resumed
    // state is glued onto the jump's line.
    private const string Level1 = """
        0: R1=ctx() R10=fp0
        0: (61) r2 = *(u32 *)(r1 +0)          ; R1=ctx() R2=pkt(r=0)
        ; if (x) @ a.c:3
        5: (71) r5 = *(u8 *)(r2 +0)           ; R2=pkt(r=14) R5=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))
        6: (15) if r5 == 0x1 goto pc+2 9: R1=ctx() R2=pkt(r=14) R5=1 R10=fp0
        9: (71) r0 = *(u8 *)(r2 +20)
        invalid access to packet, off=20 size=1, R2(id=0,off=20,r=14)
        R2 offset is outside of the packet
        processed 10 insns (limit 1000000) max_states_per_insn 1 total_states 1 peak_states 1 mark_read 0
        """;

    [Fact]
    public void Parse_GluedBranchState_SplitsTheJumpFromTheState()
    {
        var lines = VerifierLogParser.Parse(Level1);

        var jump = lines.Single(l => l.Kind == VerifierLogLineKind.Instruction && l.Insn == 6);
        Assert.Equal("if r5 == 0x1 goto pc+2", jump.Text);
        var resumed = lines.Single(l => l.Kind == VerifierLogLineKind.State && l.Insn == 9);
        Assert.Equal("R1=ctx() R2=pkt(r=14) R5=1 R10=fp0", resumed.State);
        Assert.Contains(lines, l => l.Kind == VerifierLogLineKind.Source && l.Text == "if (x)");
    }

    [Fact]
    public void Path_Level1Log_IsTheInstructionsInOrder()
    {
        Assert.Equal([0, 5, 6, 9], VerifierLogParser.Path(VerifierLogParser.Parse(Level1)));
    }

    [Fact]
    public void StateBeforeLastInstruction_ReplaysTheResumedState()
    {
        var state = VerifierLogParser.StateBeforeLastInstruction(VerifierLogParser.Parse(Level1));

        Assert.Equal("1", state["R5"]);
        Assert.Equal("pkt(r=14)", state["R2"]);
        Assert.Equal("R1=ctx() R2=pkt(r=14) R5=1 R10=fp0", VerifierLogParser.FormatState(state));
    }

    [Fact]
    public void SplitState_ParenthesisedSpaces_StayInOneValue()
    {
        var entries = VerifierLogParser.SplitState("R4=scalar(smin=0,var_off=(0x0; 0x3c)) fp-8=0000????");

        Assert.Equal(2, entries.Count);
        Assert.Equal("scalar(smin=0,var_off=(0x0; 0x3c))", entries[0].Value);
        Assert.Equal(("fp-8", "0000????"), (entries[1].Key, entries[1].Value));
    }

    [Fact]
    public void ReplayStates_CallClearsCallerSavedRegisters()
    {
        var lines = VerifierLogParser.Parse("""
            0: R1=ctx() R10=fp0
            0: (b7) r3 = 1                        ; R3=1
            1: (85) call bpf_get_prandom_u32#7    ; R0=scalar()
            2: (95) exit
            """);
        var seen = new List<(int, string)>();
        VerifierLogParser.ReplayStates(lines, (i, s) => seen.Add((i, s)));

        Assert.Equal([(0, "R1=ctx() R10=fp0"), (1, "R1=ctx() R3=1 R10=fp0"), (2, "R0=scalar() R10=fp0")], seen);
    }
}
