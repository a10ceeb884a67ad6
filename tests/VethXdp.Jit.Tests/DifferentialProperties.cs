using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Tests;

/// <summary>Random valid programs on random memory through the interpreter and the JIT: the same r0, instruction
/// count and memory after, or the same fault (kind, instruction, message up to host addresses).</summary>
public class DifferentialProperties
{
    [Property(MaxTest = 1000)]
    public Property GeneratedProgram_InterpAndJitChecked_Agree() =>
        Prop.ForAll(ProgramGen.Cases, c =>
        {
            var interp = Engines.Interp(c.Slots, c.Memory, budget: c.Budget);
            var jit = Engines.Jit(c.Slots, c.Memory, budget: c.Budget);
            return Engines.Agree(interp, jit).Label($"{c}\ninterp: {interp}\njit:    {jit}");
        });

    /// <summary>The unchecked emitters on the runs the interpreter completed without a fault: every access of that run
    /// was in bounds, so the same path is safe without checks and must give the same result.</summary>
    [Property(MaxTest = 1000)]
    public Property GeneratedProgram_NoFault_UncheckedJitAgrees() =>
        Prop.ForAll(ProgramGen.Cases, c =>
        {
            var interp = Engines.Interp(c.Slots, c.Memory, budget: c.Budget);
            if (interp.Fault is not null)
            {
                return true.Label("faulted in the interpreter (not run unchecked)");
            }

            var jit = Engines.Jit(c.Slots, c.Memory, budget: c.Budget, unchecked_: true);
            return Engines.Agree(interp, jit).Label($"{c}\ninterp: {interp}\njit:    {jit}");
        });

    /// <summary>The unchecked code on the runs the interpreter stopped for the budget: every access before the stop
    /// was in bounds, and the unchecked code (one budget check per block of store-separated segments, the per-segment
    /// copy when the block does not fit) must stop at the same instruction with the same memory.</summary>
    [Property(MaxTest = 1000)]
    public Property GeneratedProgram_BudgetFault_UncheckedJitStopsAtTheSameInstruction() =>
        Prop.ForAll(ProgramGen.Cases, c =>
        {
            var interp = Engines.Interp(c.Slots, c.Memory, budget: c.Budget);
            if (interp.Fault is not Vm.Interpreter.FaultKind.BudgetExceeded)
            {
                return true.Label("not stopped by the budget");
            }

            var jit = Engines.Jit(c.Slots, c.Memory, budget: c.Budget, unchecked_: true);
            return Engines.Agree(interp, jit).Label($"{c}\ninterp: {interp}\njit:    {jit}");
        });

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void StoreBlock_BudgetRunsOutInside_UncheckedStopsWhereInterpDoes(long budget)
    {
        // Four stores form one block (one budget check); a budget that ends inside it must still stop at the exact
        // store, after the stores before it and before the ones after it.
        var slots = Assembler.Assemble("""
            *(u64 *)(r1 +0) = 1
            *(u64 *)(r1 +8) = 2
            r2 = 3
            *(u64 *)(r1 +16) = r2
            *(u64 *)(r1 +24) = 4
            r0 = 0
            exit
            """).ToArray();
        var interp = Engines.Interp(slots, new byte[32], budget: budget);
        var jit = Engines.Jit(slots, new byte[32], budget: budget, unchecked_: true);
        Engines.AssertSame(interp, jit);
        Assert.Equal(budget < 7, jit.Fault is not null);
    }

    [Theory]
    [InlineData(0UL, false)]
    [InlineData(1UL, false)]
    [InlineData(2UL, false)]
    [InlineData(3UL, false)]
    [InlineData(0UL, true)]
    [InlineData(1UL, true)]
    [InlineData(2UL, true)]
    [InlineData(3UL, true)]
    public void JumpBlock_EveryBudget_BothModesStopAndCountWhereInterpDoes(ulong first, bool unchecked_)
    {
        // Straight code with conditional jumps out of its middle forms one block counted at its start; a taken jump
        // gives back what it skips, and a budget ending anywhere in it takes the exact per-segment copy. Every
        // budget from 1 to past the end, on each exit (first word 0-3 picks it): same r0, count, fault and memory.
        var slots = Assembler.Assemble("""
            r0 = 0
            r2 = *(u64 *)(r1 +0)
            r3 = r2
            if r2 == 0 goto +9
            r0 += 1
            *(u64 *)(r1 +8) = r0
            r3 += 5
            if r2 == 1 goto +6
            r0 += 2
            *(u64 *)(r1 +16) = r3
            if w2 == 2 goto +3
            r0 += 4
            *(u64 *)(r1 +24) = r0
            exit
            r0 += 100
            exit
            """).ToArray();
        var memory = new byte[32];
        BitConverter.TryWriteBytes(memory, first);
        var seen = new HashSet<long>();
        for (long budget = 1; budget <= 18; budget++)
        {
            var interp = Engines.Interp(slots, memory, budget: budget);
            var jit = Engines.Jit(slots, memory, budget: budget, unchecked_: unchecked_);
            Engines.AssertSame(interp, jit);
            if (interp.Fault is null)
            {
                seen.Add(interp.Instructions);
            }
        }

        // Each exit's path has its own length, and a large budget reaches it.
        Assert.Single(seen);
    }

    [Theory]
    [InlineData(0UL, false)]
    [InlineData(3UL, false)]
    [InlineData(9UL, false)]
    [InlineData(0UL, true)]
    [InlineData(3UL, true)]
    [InlineData(9UL, true)]
    public void LoopInCallee_EveryBudget_BothModesStopAndCountWhereInterpDoes(ulong limit, bool unchecked_)
    {
        // A callee with a loop (blocks across its conditional jumps, a back edge, jumps out of its middle), then the
        // caller counts on after the return. Every budget from 1 to past the end: same r0, count, fault and memory as
        // the interpreter.
        var slots = Assembler.Assemble("""
            r6 = r1
            r1 = *(u64 *)(r6 +0)
            call f
            r0 += 1000
            *(u64 *)(r6 +8) = r0
            exit
            f:
            r0 = 0
            r2 = 0
            loop:
            if r2 >= r1 goto done
            r0 += r2
            if r0 > 20 goto big
            r2 += 1
            if r0 == 6 goto out
            goto loop
            out:
            exit
            big:
            r0 = 99
            done:
            r0 += 7
            exit
            """).ToArray();
        var memory = new byte[16];
        BitConverter.TryWriteBytes(memory, limit);
        long most = 0;
        for (long budget = 1; budget <= 90; budget++)
        {
            var interp = Engines.Interp(slots, memory, budget: budget);
            var jit = Engines.Jit(slots, memory, budget: budget, unchecked_: unchecked_);
            Engines.AssertSame(interp, jit);
            most = Math.Max(most, interp.Fault is null ? interp.Instructions : 0);
        }

        Assert.True(most > 10, "a large budget runs the program to its end");
    }

    [Fact]
    public void Generator_Programs_AreValidAndCoverFaultsAndSuccesses()
    {
        var cases = ProgramGen.Case.Sample(300, 20);
        int faults = 0, ok = 0;
        foreach (var c in cases)
        {
            Assert.Null(InstructionValidator.Validate(c.Slots));
            var o = Engines.Interp(c.Slots, c.Memory, budget: c.Budget);
            if (o.Fault is null)
            {
                ok++;
            }
            else
            {
                faults++;
            }
        }

        Assert.True(faults > 10 && ok > 10, $"{ok} completed, {faults} faulted");
    }
}
