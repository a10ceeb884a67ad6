using System.Buffers.Binary;
using VethXdp.Devices.Frames;
using VethXdp.Devices.Napi;
using VethXdp.Devices.Skb;
using VethXdp.Devices.Veth;

namespace VethXdp.Devices.Tests;

/// <summary>The skb path does the kernel's work: napi_build_skb / __alloc_skb, eth_type_trans, GRO, ip_rcv_core,
/// and frees every skb it makes.</summary>
public class SkbTests
{
    private const ulong MacA = 0x0200_0000_0a01UL, MacB = 0x0200_0000_0b01UL, MacOther = 0x0200_0000_0c09UL;

    [Theory]
    [InlineData(false)] // b's NAPI off: veth_xmit -> netif_rx -> the backlog
    [InlineData(true)] // GRO on b: b's ring and NAPI
    public void Receive_UnicastToAnotherMac_DroppedAsOtherHost(bool gro)
    {
        using var rig = new Rig(gro);
        rig.Send(Frame(MacOther, tcp: false));
        rig.Send(Frame(MacB, tcp: false));
        rig.Send(Frame(0xffff_ffff_ffffUL, tcp: false));
        Assert.Equal(1, rig.End(FrameEnd.OtherHost));
        Assert.Equal(2, rig.End(FrameEnd.Stack));
        Assert.Equal("otherhost", FrameEnds.Name(FrameEnd.OtherHost));
    }

    [Fact]
    public void Receive_DeviceWithoutAddress_TakesEveryUnicast()
    {
        using var rig = new Rig(gro: true, macB: 0);
        rig.Send(Frame(MacOther, tcp: false));
        Assert.Equal(1, rig.End(FrameEnd.Stack));
    }

    [Fact]
    public void Receive_BadIpv4Checksum_DroppedAsIpCsum()
    {
        using var rig = new Rig(gro: true);
        var f = Frame(MacB, tcp: false);
        f[14 + 10] ^= 0x40;
        rig.Send(f);
        Assert.Equal(1, rig.End(FrameEnd.IpCsum));
        Assert.Equal(0, rig.End(FrameEnd.Stack));
        Assert.Equal(1, rig.Cpu.IpCsumErrors);
        Assert.Equal(1, rig.Cpu.IpInHdrErrors);
        Assert.Equal("ip_csum", FrameEnds.Name(FrameEnd.IpCsum));
    }

    [Fact]
    public void Receive_TotLenBeyondTheFrame_DroppedAsPktTooSmall()
    {
        using var rig = new Rig(gro: true);
        var f = Frame(MacB, tcp: false);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14 + 2), 1000);
        FixIpChecksum(f);
        rig.Send(f);
        Assert.Equal(1, rig.End(FrameEnd.PktTooSmall));
        Assert.Equal(1, rig.Cpu.IpInTruncatedPkts);
    }

    [Fact]
    public void Receive_Ipv4HeaderVersion6_DroppedAsIpInHdr()
    {
        using var rig = new Rig(gro: true);
        var f = Frame(MacB, tcp: false);
        f[14] = 0x65;
        FixIpChecksum(f);
        rig.Send(f);
        Assert.Equal(1, rig.End(FrameEnd.IpInHdr));
    }

    [Fact]
    public void Receive_UnknownEtherType_DroppedAsUnhandledProto()
    {
        using var rig = new Rig(gro: true);
        var f = Frame(MacB, tcp: false);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x88b5); // IEEE local experimental: no handler
        rig.Send(f);
        Assert.Equal(1, rig.End(FrameEnd.UnhandledProto));
        Assert.Equal(1, rig.Cpu.RxNoHandler);
    }

    [Fact]
    public void Gro_TcpSegmentsOfOneFlow_HeldThenFlushedAtTheEndOfThePoll()
    {
        using var rig = new Rig(gro: true);
        for (int i = 0; i < 5; i++)
        {
            rig.Xmit(Frame(MacB, tcp: true));
        }

        rig.Xmit(Frame(MacB, tcp: false)); // UDP: no GRO socket, flushed at once
        rig.Poll();
        var gro = rig.B.Rq[0].Gro;
        // each segment of the flow replaces the held one (we do not merge), the last is flushed with the poll
        Assert.Equal(5, gro.HeldTotal);
        Assert.Equal(5, gro.FlushedTotal);
        Assert.False(gro.Pending);
        Assert.Equal(6, rig.End(FrameEnd.Stack));
    }

    [Fact]
    public void Gro_DeviceWithoutGroFeature_HoldsNothing()
    {
        using var rig = new Rig(gro: false);
        rig.B.Gro = false;
        rig.Send(Frame(MacB, tcp: true));
        Assert.Equal(0, rig.Cpu.Backlog.Gro.HeldTotal);
        Assert.Equal(1, rig.End(FrameEnd.Stack));
    }

    [Fact]
    public void Run_ManyFrames_EverySkbFreedOnce()
    {
        using var rig = new Rig(gro: true);
        for (int i = 0; i < 200; i++)
        {
            rig.Xmit(Frame(i % 3 == 0 ? MacOther : MacB, tcp: (i & 1) == 0));
            if (i % 50 == 49)
            {
                rig.Poll();
            }
        }

        rig.Poll();
        Assert.Equal(200, rig.Cpu.SkbsAllocated);
        Assert.Equal(200, rig.Cpu.SkbsConsumed + rig.Cpu.SkbsDropped);
        Assert.Equal(67, rig.Cpu.SkbsDropped);
        Assert.Equal(200, rig.Cpu.SoftnetProcessed);
        Assert.Equal(0, rig.World.Pool.InUse(0));
    }

    [Fact]
    public unsafe void BuildSkb_Frame_FieldsAsBuildSkbAroundAndEthTypeTransSetThem()
    {
        using var rig = new Rig(gro: true);
        var bytes = Frame(0xffff_ffff_ffffUL, tcp: false);
        int f = rig.World.Pool.Alloc(0);
        byte* start = rig.World.Pool.FrameStart(f);
        new Span<byte>(start, FramePool.FrameSize).Fill(0xaa);
        bytes.CopyTo(new Span<byte>(start + FramePool.Headroom, bytes.Length));
        var d = new XdpDesc(f, FramePool.Headroom, (ushort)bytes.Length, rig.B.Ifindex);
        rig.Cpu.BuildSkb(rig.B, ref d, 0);
        ref var skb = ref rig.World.Skbs[f];
        Assert.True(d.Skb);
        Assert.Equal(1, skb.Users);
        Assert.Equal(4096U - 320 + 256 + 320, skb.Truesize); // SKB_TRUESIZE(PAGE_SIZE - shinfo)
        Assert.Equal(FramePool.Headroom, skb.MacHeader);
        Assert.Equal(FramePool.Headroom + 14, skb.Data);
        Assert.Equal((uint)bytes.Length - 14, skb.Len);
        Assert.Equal((ushort)0x0800, skb.Protocol);
        Assert.Equal(SkBuff.PacketBroadcast, skb.PktType);
        Assert.Equal(SkBuff.Unset, skb.TransportHeader);
        Assert.Equal((ushort)1, skb.QueueMapping); // skb_record_rx_queue(0)
        byte* shinfo = start + FramePool.FrameSize - FramePool.SharedInfoSize;
        Assert.True(new ReadOnlySpan<byte>(shinfo, SkbHeads.OffsetofDataref).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(1, *(int*)(shinfo + SkbHeads.OffsetofDataref));
        Assert.Equal(0xaa, shinfo[SkbHeads.OffsetofDataref + 4]); // past dataref: untouched, as Linux leaves it
        rig.Cpu.End(d, FrameEnd.Stack);
        Assert.Equal(0, *(int*)(shinfo + SkbHeads.OffsetofDataref));
        Assert.Equal(0, skb.Users);
    }

    [Fact]
    public void SkBuff_Layout_HasTheKernelSizeAndCbOffset()
    {
        Assert.Equal(SkbHeads.SizeofSkBuff, System.Runtime.CompilerServices.Unsafe.SizeOf<SkBuff>());
        Assert.Equal(40, (int)System.Runtime.InteropServices.Marshal.OffsetOf<SkBuff>(nameof(SkBuff.Cb)));
        Assert.Equal(SkbHeads.OffsetofTail, (int)System.Runtime.InteropServices.Marshal.OffsetOf<SkBuff>(nameof(SkBuff.Tail)));
    }

    [Fact]
    public unsafe void IpFastCsum_ValidHeader_IsZero()
    {
        var f = Frame(MacB, tcp: false);
        fixed (byte* p = f)
        {
            Assert.Equal(0, NapiContext.IpFastCsum(p + 14, 20));
            f[14 + 8]--;
            Assert.NotEqual(0, NapiContext.IpFastCsum(p + 14, 20));
        }
    }

    [Fact]
    public void Bridge_SteadyState_NoAllocationPerFrame()
    {
        using var world = Scenarios.ScenarioBuilder.Build(ScenarioTests.ScenarioPath("xsk-bridge"), ScenarioTests.Select, 40_000);
        var sim = new Simulator(world);
        var cpu = world.Cpu(0);
        var source = world.Source!;
        void Round()
        {
            source.Deliver(cpu);
            while (cpu.HasScheduledWork)
            {
                cpu.NetRxAction();
            }
        }

        for (int i = 0; i < 200; i++)
        {
            Round(); // warm up: the fdb learns, the JIT has run
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        long generated = cpu.Generated;
        for (int i = 0; i < 200; i++)
        {
            Round();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(cpu.Generated - generated > 1000);
        Assert.Equal(0, allocated);
        Assert.True(cpu.SkbsAllocated > cpu.Generated); // one per frame and per flooded copy
        GC.KeepAlive(sim);
    }

    [Fact]
    public void Build_DeviceMac_SetsDevAddrAndMulticastIsRefused()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vethxdp-skb-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "s.json");
            File.WriteAllText(path, """
                { "name": "mac", "kernel": "6.18", "cpus": 1,
                  "devices": [ { "name": "eth0", "type": "nic", "queues": 1 },
                               { "name": "a", "type": "veth", "peer": "b", "queues": 1, "mac": "02:00:00:00:0a:01", "peer_mac": "02:00:00:00:0b:01" } ],
                  "traffic": { "device": "eth0", "packets": 1 } }
                """);
            using (var world = Scenarios.ScenarioBuilder.Build(path, ScenarioTests.Select, 1))
            {
                Assert.Equal(MacA, world.Device("a")!.DevAddr);
                Assert.Equal(MacB, world.Device("b")!.DevAddr);
            }

            File.WriteAllText(path, File.ReadAllText(path).Replace("02:00:00:00:0a:01", "01:00:5e:00:00:01", StringComparison.Ordinal));
            Assert.Throws<Scenarios.ScenarioException>(() => Scenarios.ScenarioBuilder.Build(path, ScenarioTests.Select, 1).Dispose());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // ---- helpers ----

    /// <summary>An Ethernet + IPv4 frame from <see cref="MacA"/> to <paramref name="dst"/>: TCP ACK with 20 bytes of
    /// payload, or UDP; a valid IPv4 checksum.</summary>
    internal static byte[] Frame(ulong dst, bool tcp)
    {
        int l4 = tcp ? 20 : 8;
        var b = new byte[14 + 20 + l4 + 20];
        WriteMac(b.AsSpan(0), dst);
        WriteMac(b.AsSpan(6), MacA);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(12), 0x0800);
        b[14] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(16), (ushort)(b.Length - 14));
        b[14 + 8] = 64;
        b[14 + 9] = (byte)(tcp ? 6 : 17);
        b[14 + 12] = 10;
        b[14 + 15] = 1;
        b[14 + 16] = 10;
        b[14 + 19] = 2;
        FixIpChecksum(b);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(34), 40000);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(36), 80);
        if (tcp)
        {
            b[34 + 12] = 0x50;
            b[34 + 13] = 0x10; // ACK
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(38), (ushort)(8 + 20));
        }

        return b;
    }

    internal static void FixIpChecksum(byte[] b)
    {
        b[24] = 0;
        b[25] = 0;
        uint sum = 0;
        for (int i = 0; i < 20; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(14 + i));
        }

        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(24), (ushort)~sum);
    }

    private static void WriteMac(Span<byte> to, ulong mac)
    {
        BinaryPrimitives.WriteUInt16BigEndian(to, (ushort)(mac >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(to[2..], (uint)mac);
    }

    // A veth pair a/b, no programs; b has address MacB; frames leave a as skbs of its sender (veth_xmit).
    private sealed class Rig : IDisposable
    {
        public Rig(bool gro, ulong macB = MacB)
        {
            World = new SimWorld(KernelProfile.Find("6.18")!, 1);
            (A, B) = World.AddVethPair("a", "b", 1);
            A.DevAddr = MacA;
            B.DevAddr = macB;
            B.Gro = gro;
            World.Seal();
        }

        public SimWorld World { get; }

        public VethDevice A { get; }

        public VethDevice B { get; }

        public NapiContext Cpu => World.Cpu(0);

        public unsafe void Xmit(byte[] frame)
        {
            int f = World.Pool.Alloc(0);
            frame.CopyTo(new Span<byte>(World.Pool.FrameStart(f) + XskSocketPad, frame.Length));
            Cpu.Generated++;
            Assert.True(A.StartXmit(Cpu, Cpu.XskBuildSkb(A, f, XskSocketPad, frame.Length, 0)));
        }

        public void Poll()
        {
            while (Cpu.HasScheduledWork)
            {
                Cpu.NetRxAction();
            }
        }

        public void Send(byte[] frame)
        {
            Xmit(frame);
            Poll();
        }

        public long End(FrameEnd e) => Cpu.Ends[(int)e];

        public void Dispose() => World.Dispose();

        private const int XskSocketPad = 64;
    }
}
