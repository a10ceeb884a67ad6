using VethXdp.Verifier.Fixups;
using VethXdp.Vm.Isa;

namespace VethXdp.Verifier.Tests.Fixups;

public class InsnPatcherTests
{
    private static readonly Instruction s_nop = new(Op.Mov64Imm, Register.R0, 0, 0, 0);       // r0 = 0
    private static readonly Instruction s_exit = new(Op.Exit, 0, 0, 0, 0);

    private static Instruction Ja(short off) => new(Op.Ja, 0, 0, off, 0);

    private static Instruction[] Three => [s_nop, s_nop, s_nop];

    [Fact]
    public void TryBuild_ForwardJumpOverPatch_Grows()
    {
        // 0: goto +2 (to 3); 1: patched into 3 slots; 2: nop; 3: exit
        var p = new InsnPatcher([Ja(2), s_nop, s_nop, s_exit]);
        p.Replace(1, Three);
        Assert.True(p.TryBuild(out var slots, out var map, out int failed));
        Assert.Equal(-1, failed);
        Assert.Equal(6, slots.Length);
        Assert.Equal(4, slots[0].Offset);
        Assert.Equal([0, 1, 4, 5], map);
    }

    [Fact]
    public void TryBuild_JumpOntoPatchedSlot_LandsOnPatchStart()
    {
        // 0: goto +1 (to 2); 1: nop; 2: patched; 3: exit
        var p = new InsnPatcher([Ja(1), s_nop, s_nop, s_exit]);
        p.Replace(2, Three);
        Assert.True(p.TryBuild(out var slots, out var map, out _));
        Assert.Equal(1, slots[0].Offset);
        Assert.Equal(2, map[2]);
    }

    [Fact]
    public void TryBuild_BackwardJumpOverPatch_Shrinks()
    {
        // 0: nop; 1: patched; 2: nop; 3: goto -4 (to 0); 4: exit
        var p = new InsnPatcher([s_nop, s_nop, s_nop, Ja(-4), s_exit]);
        p.Replace(1, Three);
        Assert.True(p.TryBuild(out var slots, out _, out _));
        Assert.Equal(-6, slots[5].Offset);
    }

    [Fact]
    public void TryBuild_JumpsInsidePatch_KeptRelative()
    {
        var p = new InsnPatcher([s_nop, s_exit]);
        p.Replace(0, [Ja(1), s_nop, s_nop]);
        Assert.True(p.TryBuild(out var slots, out _, out _));
        Assert.Equal(1, slots[0].Offset);
    }

    [Fact]
    public void TryBuild_Prologue_JumpToSlotZeroSkipsIt()
    {
        // adjust_jmp_off: 0: nop; 1: goto -2 (to 0); 2: exit, with a 2-slot prologue
        var p = new InsnPatcher([s_nop, Ja(-2), s_exit]);
        p.SetPrologue([s_nop, s_nop]);
        Assert.True(p.TryBuild(out var slots, out var map, out _));
        Assert.Equal(5, slots.Length);
        Assert.Equal([2, 3, 4], map);
        Assert.Equal(-2, slots[3].Offset);
    }

    [Fact]
    public void TryBuild_OffsetOutOfRange_NamesFirstOverflowingPatch()
    {
        var prog = new Instruction[6];
        prog[0] = Ja(4);
        for (int i = 1; i < 5; i++)
        {
            prog[i] = s_nop;
        }

        prog[5] = s_exit;
        var p = new InsnPatcher(prog);
        var big = new Instruction[20000];
        Array.Fill(big, s_nop);
        p.Replace(2, big);
        p.Replace(3, big);
        Assert.False(p.TryBuild(out _, out _, out int failed));
        Assert.Equal(3, failed);
    }

    [Fact]
    public void TryBuild_Gotol_AdjustsImm()
    {
        var p = new InsnPatcher([new Instruction(Op.Ja32, 0, 0, 0, 1), s_nop, s_exit]);
        p.Replace(1, Three);
        Assert.True(p.TryBuild(out var slots, out _, out _));
        Assert.Equal(3, slots[0].Imm);
        Assert.Equal(0, slots[0].Offset);
    }
}
