using VethXdp.Kernel;
using VethXdp.Vm.Conformance;
using VethXdp.Vm.Isa;

namespace VethXdp.Kernel.Tests;

public class KernelConformanceRunnerTests
{
    private const string Wide = """
        -- asm
        lddw %r0, 0x1122334455667788
        exit
        -- result
        0x1122334455667788
        """;

    private const string ReadsMemory = """
        -- asm
        ldxh %r0, [%r1+2]
        add %r0, %r2
        exit
        -- mem
        aa bb 11 22
        -- result
        0x2215
        """;

    [Fact]
    public void Wrapper_CallsTheSlotRightAfterIt()
    {
        var w = KernelConformanceRunner.Wrapper();
        Assert.Equal(13, w.Length);
        Assert.Equal(Op.Call, w[0].Opcode);
        Assert.Equal((int)CallKind.Local, w[0].SrcReg);
        Assert.Equal(w.Length, 1 + w[0].Imm);   // the target is pc + 1 + imm
        Assert.Equal(Op.Exit, w[^1].Opcode);
        Assert.Equal((int)PseudoSrc.MapIdx, w[3].SrcReg);
    }

    [SkippableFact]
    public void Run_Wrapped_GivesAll64Bits()
    {
        KernelSkip.IfNotPermitted();
        var r = KernelConformanceRunner.Run(ConformanceFile.Parse(Wide, "wide"));
        Assert.True(r.Accepted, r.RefusalReason);
        Assert.Equal(0x1122334455667788UL, r.R0);
        Assert.Equal(0x55667788u, r.Retval);
    }

    [SkippableFact]
    public void Run_Plain_GivesTheLow32Bits()
    {
        KernelSkip.IfNotPermitted();
        var r = KernelConformanceRunner.Run(ConformanceFile.Parse(Wide, "wide"), KernelConformanceMode.Plain);
        Assert.True(r.Accepted, r.RefusalReason);
        Assert.Equal(0x55667788UL, r.R0);
    }

    [SkippableFact]
    public void Run_ShortMemory_IsPaddedAndSeenThroughTheProlog()
    {
        KernelSkip.IfNotPermitted();
        var file = ConformanceFile.Parse(ReadsMemory, "mem");
        var r = KernelConformanceRunner.Run(file);
        Assert.True(r.Accepted, r.RefusalReason);
        Assert.Equal(0x2215UL, r.R0);   // 0x2211 + r2 = 4 (the memory's length, not the padded frame's)
        Assert.Equal(ConformanceRunner.Run(file, ConformanceMode.XdpProlog), r.R0);
    }

    [SkippableFact]
    public void Run_RefusedProgram_IsAResultWithTheVerifierMessage()
    {
        KernelSkip.IfNotPermitted();
        var r = KernelConformanceRunner.Run(ConformanceFile.Parse("-- asm\nmov %r0, 1\nlsh %r0, 64\nexit\n-- result\n0x0\n", "shift"));
        Assert.False(r.Accepted);
        Assert.Equal("invalid shift 64", r.RefusalReason);
        Assert.NotNull(r.Error?.VerifierLog);
    }
}
