using VethXdp.Devices.Frames;
using VethXdp.Jit;
using VethXdp.Vm.Pcap;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Devices.Tests;

public class InPlaceRunTests
{
    [Theory]
    [InlineData("interp")]
    [InlineData("jit-checked")]
    public unsafe void Run_AdjustHeadProgram_InPlaceMatchesTestRunFrame(string engine)
    {
        // xdp_decap strips an outer IPv4 header with bpf_xdp_adjust_head: run in place on a pool frame, the verdict and
        // the bytes from the new data on equal what the BPF_PROG_TEST_RUN-faithful runner gives for the same frame.
        string path = Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_decap.v3.o");
        using var reference = LoadedObject.Open(path);
        using var inPlace = LoadedObject.Open(path);
        using var runner = new XdpRunner(reference, null, null, ScenarioTests.Engine(engine));
        var spec = inPlace.GetProgram(null);
        using var instance = new XdpProgramInstance(inPlace, inPlace.Prepare(spec), ScenarioTests.Engine(engine), 0, 0, egress: false);
        using var pool = new FramePool(1, 4);
        using var pcap = PcapReader.Open(Path.Combine(TestPaths.CorpusDir, "pcaps", "decap.pcap"));
        int moved = 0;
        int frames = 0;
        while (pcap.TryRead(out var record))
        {
            var bytes = record.Data.Span;
            var expected = runner.Run(bytes);
            int f = pool.Alloc(0);
            bytes.CopyTo(new Span<byte>(pool.FrameStart(f) + FramePool.Headroom, bytes.Length));
            var d = new XdpDesc(f, FramePool.Headroom, (ushort)bytes.Length, 2);
            uint act = instance.Run(pool, ref d, 1, 0, 0, 0);
            Assert.Equal(expected.Retval, act);
            Assert.Equal(expected.Data.ToArray(), pool.Data(d).ToArray());
            moved += d.Headroom != FramePool.Headroom ? 1 : 0;
            frames++;
            pool.Free(f);
        }

        Assert.True(frames > 0);
        Assert.True(moved > 0, "no frame of decap.pcap was decapsulated");
    }

    [Fact]
    public unsafe void LoadInPlace_AdjustHeadPastTheXdpFrame_Refused()
    {
        // As on the buffer's own page: data may not move into the xdp_frame at the start of the page.
        using var pool = new FramePool(1, 1);
        var buffer = new XdpBuffer();
        buffer.LoadInPlace((nint)pool.FrameStart(0), FramePool.Headroom, 64, 1, 0);
        Assert.True(buffer.InPlace);
        Assert.Equal(0, buffer.AdjustHead(-(FramePool.Headroom - XdpBuffer.XdpFrameSize)));
        Assert.NotEqual(0, buffer.AdjustHead(-1));
        Assert.Equal((ulong)pool.FrameStart(0) + XdpBuffer.XdpFrameSize, buffer.Data);
        Assert.Equal(64 + FramePool.Headroom - XdpBuffer.XdpFrameSize, buffer.LinearLength);
    }

    [Fact]
    public unsafe void Load_AfterLoadInPlace_UsesItsOwnPageAgain()
    {
        using var pool = new FramePool(1, 1);
        var buffer = new XdpBuffer();
        ulong own = buffer.HardStart;
        buffer.LoadInPlace((nint)pool.FrameStart(0), 300, 60, 1, 0);
        Assert.Equal((ulong)pool.FrameStart(0), buffer.HardStart);
        Assert.Equal(0, buffer.Load(new byte[60], 1, 0));
        Assert.False(buffer.InPlace);
        Assert.Equal(own, buffer.HardStart);
    }
}
