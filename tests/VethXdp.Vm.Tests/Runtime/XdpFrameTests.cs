using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Tests.Runtime;

/// <summary>The frame as BPF_PROG_TEST_RUN builds it: headroom, bounds, refusals, verdicts, fragments.</summary>
public class XdpFrameTests
{
    private const string Pass = "r0 = 2\nexit";

    [Fact]
    public void Run_PassUnchanged_DataIsTheFrame()
    {
        var frame = Rt.Frame(60);
        var o = Rt.RunOnce(Pass, frame);
        Assert.Null(o.Error);
        Assert.Equal(2u, o.Retval);
        Assert.Equal(XdpAction.Pass, o.Action);
        Assert.Equal(frame, o.Data);
        Assert.Empty(o.Meta);
        Assert.Null(o.Redirect);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(13)]
    public void Run_FrameShorterThanEthHlen_RefusedWithEinval(int length)
    {
        var o = Rt.RunOnce(Pass, new byte[length]);
        Assert.NotNull(o.Error);
        Assert.Null(o.Error.Insn);
        Assert.Contains("shorter than ETH_HLEN (14)", o.Error.Message, StringComparison.Ordinal);
        Assert.Contains("-EINVAL", o.Error.Message, StringComparison.Ordinal);
        Assert.Equal(XdpAction.Unknown, o.Action);
    }

    [Fact]
    public void Run_FourteenBytes_Runs() => Assert.Null(Rt.RunOnce(Pass, new byte[14]).Error);

    [Fact]
    public void Run_RefusedFrame_NextFrameRunsNormally()
    {
        using var obj = Rt.Load(Pass);
        using var runner = new XdpRunner(obj);
        Assert.NotNull(runner.Run(new byte[10]).Error);
        var r = runner.Run(Rt.Frame(20));
        Assert.Null(r.Error);
        Assert.Equal(1, r.Packet);
        Assert.Equal(XdpAction.Pass, r.Action);
    }

    [Fact]
    public void Run_LongerThanPageAndSeventeenFragments_RefusedWithEnomem()
    {
        Assert.Null(Rt.RunOnce(Pass, new byte[XdpBuffer.MaxFrameSize]).Error);
        var o = Rt.RunOnce(Pass, new byte[XdpBuffer.MaxFrameSize + 1]);
        Assert.NotNull(o.Error);
        Assert.Contains("-ENOMEM", o.Error.Message, StringComparison.Ordinal);
        Assert.Equal(73152, XdpBuffer.MaxFrameSize);
    }

    [Fact]
    public void Context_DataAtPacketHeadroom_InAPageAlignedFrame()
    {
        // r0 = data & 0xfff: the frame starts on a page, data 256 bytes in.
        var o = Rt.RunOnce("r0 = *(u32 *)(r1 +0)\nr0 &= 4095\nexit");
        Assert.Equal(256u, o.Retval);
    }

    [Fact]
    public void Context_MetaEqualsData_AndEndIsDataPlusLength()
    {
        // r0 = (data - data_meta) * 10000 + (data_end - data)
        var o = Rt.RunOnce("""
            r2 = *(u32 *)(r1 +0)
            r3 = *(u32 *)(r1 +4)
            r4 = *(u32 *)(r1 +8)
            r0 = r2
            r0 -= r4
            r0 *= 10000
            r3 -= r2
            r0 += r3
            exit
            """, Rt.Frame(77));
        Assert.Equal(77u, o.Retval);
    }

    [Fact]
    public void Context_IfindexAndQueue_FromRunOptions()
    {
        var defaults = Rt.RunOnce("r0 = *(u32 *)(r1 +12)\nr2 = *(u32 *)(r1 +16)\nr2 *= 100\nr0 += r2\nexit");
        Assert.Equal(1u, defaults.Retval);   // loopback, queue 0
        // BPF_PROG_TEST_RUN needs the device and the queue to exist (see RealWorld/IngressDeviceTests).
        var network = new NetEnvironment();
        network.AddInterface("eth7", ifindex: 7).RxQueues = 4;
        var set = Rt.RunOnce("r0 = *(u32 *)(r1 +12)\nr2 = *(u32 *)(r1 +16)\nr2 *= 100\nr0 += r2\nexit", options: new RunOptions { Ifindex = 7, RxQueue = 3, Network = network });
        Assert.Equal(307u, set.Retval);
    }

    [Fact]
    public void Run_ProgramWritesPacket_DataShowsIt()
    {
        var o = Rt.RunOnce("r2 = *(u32 *)(r1 +0)\n*(u8 *)(r2 +5) = 0xab\nr0 = 3\nexit");
        Assert.Equal(XdpAction.Tx, o.Action);
        Assert.Equal(0xab, o.Data[5]);
        Assert.Equal(60, o.Data.Length);
    }

    [Theory]
    [InlineData(0u, XdpAction.Aborted)]
    [InlineData(1u, XdpAction.Drop)]
    [InlineData(3u, XdpAction.Tx)]
    [InlineData(5u, XdpAction.Unknown)]
    [InlineData(0xffffffffu, XdpAction.Unknown)]
    public void Run_ReturnValue_ActionFromLow32Bits(uint retval, XdpAction action)
    {
        // r0 = 0x1_0000_0000 | retval: only the low 32 bits count.
        var o = Rt.RunOnce($"r0 = {(1UL << 32) | retval} ll\nexit");
        Assert.Equal(retval, o.Retval);
        Assert.Equal(action, o.Action);
    }

    [Fact]
    public void Run_ReadPastDataEnd_FaultNamesInstruction_NextPacketRuns()
    {
        const string asm = """
            r2 = *(u32 *)(r1 +4)
            r0 = *(u8 *)(r2 +0)
            r0 = 2
            exit
            """;
        using var obj = Rt.Load(asm);
        using var runner = new XdpRunner(obj);
        var r = runner.Run(Rt.Frame());
        Assert.NotNull(r.Error);
        Assert.Equal(1, r.Error.Insn);
        Assert.Contains("out-of-bounds load of 1 byte", r.Error.Message, StringComparison.Ordinal);
        Assert.Equal(XdpAction.Unknown, r.Action);
        Assert.NotNull(runner.Run(Rt.Frame()).Error);
        Assert.Equal(2, runner.PacketsRun);
    }

    [Fact]
    public void Run_Tailroom_IsNotThePrograms()
    {
        // The byte after data_end (inside the page) still faults: the packet region is [data_meta, data_end).
        var o = Rt.RunOnce("r2 = *(u32 *)(r1 +4)\n*(u8 *)(r2 +0) = 1\nr0 = 2\nexit");
        Assert.NotNull(o.Error);
        Assert.Equal(1, o.Error.Insn);
    }

    [Fact]
    public void Run_JumboFrame_LinearPartIsAPage_DataHasEveryByte()
    {
        var frame = Rt.Frame(5000);
        // r0 = (data_end - data) * 100000 + bpf_xdp_get_buff_len(ctx)
        var o = Rt.RunOnce("""
            r6 = r1
            r2 = *(u32 *)(r6 +0)
            r7 = *(u32 *)(r6 +4)
            r7 -= r2
            r7 *= 100000
            r1 = r6
            call bpf_xdp_get_buff_len
            r0 += r7
            exit
            """, frame);
        Assert.Equal((3520u * 100000) + 5000, o.Retval);
        Assert.Equal(frame, o.Data);
    }

    [Fact]
    public void Runner_DevmapProgram_Refused()
    {
        using var obj = Rt.Load([], Rt.Xdp(Pass, "devprog", "xdp/devmap", XdpRunner.AttachXdpDevmap));
        var e = Assert.Throws<RuntimeLoadException>(() => new XdpRunner(obj));
        Assert.Contains("-EINVAL", e.Message, StringComparison.Ordinal);
        Assert.Equal("devprog", e.ProgramName);
    }

    [Fact]
    public void Runner_CpuNotPossible_Throws()
    {
        using var obj = Rt.Load(Pass);
        Assert.Throws<ArgumentOutOfRangeException>(() => new XdpRunner(obj, null, new RunOptions { Cpu = 2 }));
    }

    [Fact]
    public void Run_Clock_StartsAtTimeNsAndStepsPerPacket()
    {
        using var obj = Rt.Load("call bpf_ktime_get_ns\nr6 = r0\ncall bpf_ktime_get_ns\nr0 -= r6\nr0 += r6\nexit");
        using var runner = new XdpRunner(obj, null, new RunOptions { TimeNs = 1000, TimeStepNs = 50 });
        Assert.Equal(1000u, runner.Run(Rt.Frame()).Retval);
        Assert.Equal(1050u, runner.Run(Rt.Frame()).Retval);
        Assert.Equal(1100u, runner.Run(Rt.Frame()).Retval);
    }

    [Fact]
    public void Run_MapsPersistAcrossPackets()
    {
        const string asm = """
            *(u32 *)(r10 -4) = 0
            r2 = r10
            r2 += -4
            r1 = map[idx:0]
            call bpf_map_lookup_elem
            if r0 == 0 goto out
            r1 = 1
            lock *(u64 *)(r0 +0) += r1
            r0 = *(u64 *)(r0 +0)
            exit
            out:
            r0 = 0
            exit
            """;
        using var obj = Rt.Load(asm, Rt.Map("counter", MapType.Array, 4, 8, 1));
        using var runner = new XdpRunner(obj);
        Assert.Equal(1u, runner.Run(Rt.Frame()).Retval);
        Assert.Equal(2u, runner.Run(Rt.Frame()).Retval);
        Assert.Equal(3u, runner.Run(Rt.Frame()).Retval);
        var value = new byte[8];
        Assert.Equal(0, obj.Maps["counter"].UserLookup(Rt.U32(0), value));
        Assert.Equal(3UL, BitConverter.ToUInt64(value));
    }
}
