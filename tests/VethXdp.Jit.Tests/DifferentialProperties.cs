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
