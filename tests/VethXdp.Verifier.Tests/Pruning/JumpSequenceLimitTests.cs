using System.Text;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Pruning;

/// <summary>BPF_COMPLEXITY_LIMIT_JMP_SEQ: more than 8192 pending branches end the verification with "The sequence of
/// N jumps is too complex."; Linux 6.18's push_stack() then returns NULL and check_cond_jmp_op() turns that into
/// -EFAULT, the errno bpf(BPF_PROG_LOAD) returns (recorded from the running 6.18.44 with the program below).</summary>
public sealed class JumpSequenceLimitTests
{
    // 8,300 undecided "if r0 == K goto +0": the fall-through path pushes one branch per jump and never ends before
    // the limit
    private static ProgramSpec UndecidedJumps(int count)
    {
        var sb = new StringBuilder("-- description\nundecided jumps\n-- prog-type\nxdp\n-- asm\ncall bpf_get_prandom_u32\n");
        for (int i = 0; i < count; i++)
        {
            sb.Append("if r0 == ").Append(i).Append(" goto l").Append(i).Append("\nl").Append(i).Append(":\n");
        }

        sb.Append("r0 = 2\nexit\n-- result\naccept\n");
        var c = VerifierCase.Parse(sb.ToString(), "jumps.case");
        return new ProgramSpec { Name = "jumps", SectionName = string.Empty, Type = c.ProgType, Slots = c.Slots.ToArray() };
    }

    [Fact]
    public void Verify_MoreThan8192PendingBranches_RejectedWithLinuxErrnoEfault()
    {
        var r = BpfVerifier.Verify(UndecidedJumps(8300), [], new VerifierOptions { LogLevel = VerifierLogLevel.Level1 });

        Assert.False(r.Accepted);
        Assert.Equal(RejectKind.TooComplex, r.Error!.Kind);
        Assert.Equal("The sequence of 8193 jumps is too complex.", r.Error.Message);
        Assert.Equal(8193, r.Error.InsnIndex);
        Assert.Equal("EFAULT", r.Error.ErrnoName);
        Assert.Equal((8194, 0, 1024, 1024), (r.Stats.InsnProcessed, r.Stats.MaxStatesPerInsn, r.Stats.TotalStates, r.Stats.PeakStates));
    }

    [Fact]
    public void ErrnoName_NoOverride_FollowsKind()
    {
        Assert.Equal("E2BIG", new VerifierError(3, RejectKind.TooComplex, "BPF program is too large. Processed 1000001 insn").ErrnoName);
        Assert.Equal("ENOMEM", new VerifierError(3, RejectKind.TooComplex, "x") { ErrnoOverride = "ENOMEM" }.ErrnoName);
    }
}
