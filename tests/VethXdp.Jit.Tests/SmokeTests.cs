using VethXdp.Vm.Isa;

namespace VethXdp.Jit.Tests;

public class SmokeTests
{
    [Fact]
    public void Program_MovAddExit_SameR0()
    {
        var o = Engines.Same(Assembler.Assemble("mov %r0, 1\nadd %r0, 41\nexit"));
        Assert.Equal(42UL, o.R0);
        Assert.Equal(3, o.Instructions);
    }
}
