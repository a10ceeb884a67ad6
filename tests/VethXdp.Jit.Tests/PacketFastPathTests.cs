using VethXdp.Vm.Runtime;

namespace VethXdp.Jit.Tests;

/// <summary>The checked JIT's packet fast path (the packet region's bounds kept in locals): a helper that moves the
/// packet must be seen by the next access, so an access the table refuses still faults exactly as the interpreter's.
/// And its partial frame clearing: a stack byte the run has not written reads 0, whatever earlier runs wrote.</summary>
public class PacketFastPathTests
{
    [Fact]
    public void AdjustHead_ShrinkThenLoadOldStart_FaultsAsInterpreter()
    {
        string r = Xdp.SameFault("""
            r6 = *(u32 *)(r1 +0)
            r0 = *(u8 *)(r6 +0)
            r2 = 14
            call bpf_xdp_adjust_head
            r0 = *(u8 *)(r6 +0)
            exit
            """);

                Assert.Contains("out-of-bounds load of 1 byte", r, StringComparison.Ordinal);
    }

    [Fact]
    public void AdjustTail_ShrinkThenStoreOldEnd_FaultsAsInterpreter()
    {
        string r = Xdp.SameFault("""
            r6 = *(u32 *)(r1 +4)
            r7 = r1
            *(u8 *)(r6 -1) = 7
            r1 = r7
            r2 = -10
            call bpf_xdp_adjust_tail
            *(u8 *)(r6 -1) = 8
            r0 = 2
            exit
            """);

                Assert.Contains("out-of-bounds store of 1 byte", r, StringComparison.Ordinal);
    }

    [Fact]
    public void AdjustHead_GrowThenWriteNewStart_SameBytesAsInterpreter()
    {
        string r = Xdp.Once("""
            r6 = r1
            r2 = -4
            call bpf_xdp_adjust_head
            r2 = *(u32 *)(r6 +0)
            *(u32 *)(r2 +0) = 0x11223344
            r0 = *(u16 *)(r2 +2)
            r0 += 1
            exit
            """);

        Assert.Contains("retval=4", r, StringComparison.Ordinal);
        Assert.Contains("data=44332211000102", r, StringComparison.Ordinal);
    }

    [Fact]
    public void PacketLoad_LastByteAndOnePast_InBoundsThenFaults()
    {
        string ok = Xdp.Once("""
            r2 = *(u32 *)(r1 +4)
            r0 = *(u8 *)(r2 -1)
            exit
            """);
        string past = Xdp.SameFault("""
            r2 = *(u32 *)(r1 +4)
            r0 = *(u16 *)(r2 -1)
            exit
            """);

        Assert.Contains("retval=59", ok, StringComparison.Ordinal);
        Assert.Contains("out-of-bounds load of 2 bytes", past, StringComparison.Ordinal);
        Assert.Contains("past the end of packet", past, StringComparison.Ordinal);
    }

    [Fact]
    public void StackWrittenThroughPointer_NextRun_ReadsZero()
    {
        var runs = Xdp.Same([], [Xdp.Prog("""
            r0 = *(u64 *)(r10 -256)
            r2 = r10
            r2 += -256
            *(u64 *)(r2 +0) = 5
            exit
            """)], Xdp.Frame(), Xdp.Frame());

        Assert.All(runs, r => Assert.StartsWith("retval=0 ", r, StringComparison.Ordinal));
    }

    [Fact]
    public void StackWrittenByR10Store_NextRun_ReadsZero()
    {
        var runs = Xdp.Same([], [Xdp.Prog("""
            r0 = *(u64 *)(r10 -8)
            *(u64 *)(r10 -8) = 7
            exit
            """)], Xdp.Frame(), Xdp.Frame());

        Assert.All(runs, r => Assert.StartsWith("retval=0 ", r, StringComparison.Ordinal));
    }
}
