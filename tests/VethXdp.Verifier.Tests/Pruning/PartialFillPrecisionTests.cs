using VethXdp.Verifier.Log;
using VethXdp.Verifier.Tests.Cases;

namespace VethXdp.Verifier.Tests.Pruning;

/// <summary>Backtracking through a fill (check_stack_read_fixed_off's insn_flags): a read of part of a spilled
/// register that does not restore it (here the spill's high byte, `*(u8 *)(r10 -25)` of the 8-byte spill at fp-32)
/// gives an unknown scalar that owes nothing to the slot, so the slot is not made precise and the join prunes. Counts
/// recorded from Linux 6.18.44 (BPF_PROG_LOAD, log_level 2).</summary>
public sealed class PartialFillPrecisionTests
{
    private const string Program = """
        -- description
        fp-32 holds 7 or 15 at the join; its high byte is read, masked and used as a map value offset
        -- prog-type
        xdp
        -- maps
        m array key=4 value=16 max=4
        -- asm
        *(u32 *)(r10 -68) = 0
        r2 = r10
        r2 += -68
        r1 = map[m]
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r9 = r0
        call bpf_get_prandom_u32
        if r0 > 127 goto e0
        r3 = 7
        *(u64 *)(r10 -32) = r3
        r0 = 1
        r0 += 1
        r0 += 1
        r0 += 1
        r0 += 1
        r0 += 1
        r0 += 1
        r0 += 1
        goto j0
        e0:
        r3 = 15
        *(u64 *)(r10 -32) = r3
        j0:
        r1 = *(u8 *)(r10 -25)
        r1 &= 15
        r2 = r9
        r2 += r1
        r0 = *(u8 *)(r2 +0)
        out:
        r0 = 2
        exit
        -- result
        accept
        """;

    [Fact]
    public void Verify_HighByteOfSpill_SlotNotPreciseJoinPrunedAsLinux()
    {
        var r = VerifierCaseTests.Verify(VerifierCase.Parse(Program, "inline.case"), VerifierLogLevel.Level2);

        Assert.True(r.Accepted, r.Error?.Message);
        Assert.Equal((30, 0, 2, 2), (r.Stats.InsnProcessed, r.Stats.MaxStatesPerInsn, r.Stats.TotalStates, r.Stats.PeakStates));
    }
}
