using VethXdp.Testing.Model;

namespace VethXdp.Testing.Tests;

/// <summary>The per-frame path (render into the reused buffer, run, check) allocates nothing when the check holds.</summary>
public class AllocationTests
{
    [Fact]
    public void RunFrameAndCheck_Steady_AllocatesNothing()
    {
        using var p = XdpProperty.For(Corpus.Xdp("xdp_port_filter"));
        var frames = Frames.Spec().Malformed(0.3).Sample(300, seed: 31);
        var check = XdpAssert.NeverAborted().And(XdpAssert.NeverFaults());
        for (int i = 0; i < frames.Count; i++)
        {
            Run(p, check, frames[i]);   // warm up: buffers grow to the largest frame
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        int failures = 0;
        for (int i = 0; i < frames.Count; i++)
        {
            failures += Run(p, check, frames[i]) is null ? 0 : 1;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, failures);
        Assert.Equal(0, allocated);
    }

    private static string? Run(XdpProperty p, XdpCheck check, Frame frame)
    {
        var c = p.RunFrame(frame);
        return check.Check(in c);
    }
}
