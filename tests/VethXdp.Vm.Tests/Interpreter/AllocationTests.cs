using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using static VethXdp.Vm.Tests.Interpreter.Asm;

namespace VethXdp.Vm.Tests.Interpreter;

public class AllocationTests
{
    [Fact]
    public void RunWithMemory_ThousandRuns_AllocatesNothing()
    {
        // A 1,000-iteration loop that touches memory, the stack, a helper and a local call on every run.
        var prog = Prog(
            Mov64(R0, 0),
            Mov64(R6, 1000),
            I(Op.StxDw, R10, R6, -8),              // loop:
            I(Op.LdxDw, R7, R10, -8),
            I(Op.AtomicDw, R10, R6, -16, 0x00),
            I(Op.LdxB, R8, R1, 0),
            I(Op.Add64Reg, R0, R8),
            I(Op.Sub64Imm, R6, imm: 1),
            I(Op.JneImm, R6, off: -7, imm: 0),
            new Instruction(Op.Call, 0, 0, 0, 5),
            new Instruction(Op.Call, 0, (Register)1, 0, 1),
            Exit(),
            Mov64(R0, 3),                          // local function
            Exit());
        using var vm = new BpfInterpreter(BpfProgram.Create(prog));
        var memory = new byte[] { 2, 0, 0, 0 };
        var warm = vm.RunWithMemory(memory);
        Assert.Equal(3UL, warm.R0);
        Assert.True(warm.InstructionsExecuted > 7000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        ulong sum = 0;
        for (int i = 0; i < 1000; i++)
        {
            sum += vm.RunWithMemory(memory).R0;
        }

        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(3000UL, sum);
        Assert.Equal(0, after - before);
    }

    [Fact]
    public void RunXdp_ThousandRuns_AllocatesNothing()
    {
        var prog = Prog(I(Op.LdxW, R2, R1, 0), I(Op.LdxW, R3, R1, 4), Mov64(R0, R3), I(Op.Sub64Reg, R0, R2), Exit());
        using var vm = new BpfInterpreter(BpfProgram.Create(prog));
        var packet = new byte[64];
        Assert.Equal(64UL, vm.RunXdp(packet).R0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            vm.RunXdp(packet);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
