using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using VethXdp.Devices.Frames;
using VethXdp.Devices.Scenarios;
using VethXdp.Devices.Veth;
using VethXdp.Devices.Xsk;
using VethXdp.Jit;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using Xunit.Abstractions;

namespace VethXdp.Devices.Tests.Xsk;

public class XskTests(ITestOutputHelper output)
{
    // ---- rings against a queue model ----

    // op % 4: 0 user produces k, 1 kernel consumes k (not yet published), 2 kernel publishes (a wakeup), 3 user re-reads.
    [FsCheck.Xunit.Property(MaxTest = 300)]
    public Property FillRing_AnyInterleaving_NoFrameLostOrDuplicated(int[] ops)
    {
        using var mem = new XskRingMemory(8, 8);
        var prod = new XskProdRing(mem);
        var kern = new XskQueue(mem);
        var model = new Queue<ulong>();
        var consumed = new List<ulong>();
        var expected = new List<ulong>();
        ulong next = 1;
        foreach (int raw in ops ?? [])
        {
            int op = raw & 3;
            uint k = (uint)((raw >> 2) & 7) + 1;
            switch (op)
            {
                case 0:
                    if (prod.Reserve(k, out uint idx) == k)
                    {
                        for (uint i = 0; i < k; i++)
                        {
                            prod.FillAddr(idx + i) = next;
                            model.Enqueue(next++);
                        }

                        prod.Submit(k);
                    }
                    else
                    {
                        // A refused reserve must mean the ring really lacks k free slots.
                        if (8 - model.Count >= k && mem.Consumer == mem.Producer - (uint)model.Count)
                        {
                            return false.Label($"reserve {k} refused with {model.Count} queued");
                        }
                    }

                    break;
                case 1:
                    for (uint i = 0; i < k && kern.ConsPeekAddr(out ulong a); i++)
                    {
                        kern.ConsRelease();
                        consumed.Add(a);
                        expected.Add(model.Dequeue());
                    }

                    break;
                case 2:
                    kern.ConsPublish();
                    break;
                default:
                    prod.NbFree(8);
                    break;
            }
        }

        while (kern.ConsPeekAddr(out ulong a))
        {
            kern.ConsRelease();
            consumed.Add(a);
            expected.Add(model.Dequeue());
        }

        return (consumed.SequenceEqual(expected) && model.Count == 0 && consumed.Distinct().Count() == consumed.Count)
            .Label($"consumed {consumed.Count}, model left {model.Count}");
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public Property RxRing_AnyInterleaving_NoDescLostOrDuplicated(int[] ops)
    {
        using var mem = new XskRingMemory(4, 16);
        var kern = new XskQueue(mem);
        var user = new XskConsRing(mem);
        var model = new Queue<ulong>();
        var got = new List<ulong>();
        var want = new List<ulong>();
        var submitted = 0;
        var reserved = new List<ulong>();
        ulong next = 1;
        foreach (int raw in ops ?? [])
        {
            uint k = (uint)((raw >> 2) & 3) + 1;
            switch (raw & 3)
            {
                case 0:
                    if (kern.ProdReserveDesc(next, 60) == 0)
                    {
                        reserved.Add(next++);
                    }

                    break;
                case 1:
                    kern.ProdSubmit();
                    foreach (var r in reserved)
                    {
                        model.Enqueue(r);
                    }

                    submitted += reserved.Count;
                    reserved.Clear();
                    break;
                default:
                    uint n = user.Peek(k, out uint idx);
                    for (uint i = 0; i < n; i++)
                    {
                        got.Add(user.RxDesc(idx + i).Addr);
                        want.Add(model.Dequeue());
                    }

                    user.Release(n);
                    break;
            }
        }

        return (got.SequenceEqual(want) && got.Distinct().Count() == got.Count && got.Count + model.Count == submitted)
            .Label($"got {got.Count} of {submitted}");
    }

    [Fact]
    public void RingMemory_SizeNotPowerOfTwo_Einval()
    {
        var e = Assert.Throws<XskException>(() => new XskRingMemory(6, 8));
        Assert.Equal(-Errno.EINVAL, e.Errno);
    }

    [Fact]
    public void UmemCreate_ChunkNotPowerOfTwo_Einval()
    {
        var e = Assert.Throws<XskException>(() => XskUmem.Create(3000 * 4, new XskUmemConfig { FrameSize = 3000 }));
        Assert.Equal(-Errno.EINVAL, e.Errno);
    }

    // ---- a veth pair a/b with an AF_XDP port program on b ----

    private sealed class Rig : IDisposable
    {
        public Rig(int queues = 1, uint fill = 64)
        {
            World = new SimWorld(KernelProfile.Find("6.18")!, 1);
            (A, B) = World.AddVethPair("a", "b", queues);
            var obj = LoadedObject.Open(Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_xsk_switch_port.v3.o"), new LoadOptions { PossibleCpus = 1 });
            World.Own(obj);
            Map = (XskMap)obj.Maps["xsks"];
            World.Attach(B, obj, "port", null, XdpMode.Native, JitEngineFactory.Checked);
            World.Seal();
            Hub = XskHub.Of(World);
            Umem = Hub.CreateUmem(64 * 4096, new XskUmemConfig { FillSize = fill, CompSize = 64 });
        }

        public SimWorld World { get; }

        public VethDevice A { get; }

        public VethDevice B { get; }

        public XskMap Map { get; }

        public XskHub Hub { get; }

        public XskUmem Umem { get; }

        public unsafe void Send(int n, int len = 64)
        {
            var cpu = World.Cpu(0);
            for (int i = 0; i < n; i++)
            {
                int f = World.Pool.Alloc(0);
                var span = new Span<byte>(World.Pool.FrameStart(f) + FramePool.Headroom, len);
                span.Clear();
                span[0] = 0x02;
                span[5] = (byte)i;
                cpu.Generated++;
                A.StartXmit(cpu, new XdpDesc(f, FramePool.Headroom, (ushort)len, A.Ifindex, Skb: true));
            }

            while (cpu.HasScheduledWork)
            {
                cpu.NetRxAction();
            }
        }

        public void Fill(uint n)
        {
            Assert.Equal(n, Umem.Fill.Reserve(n, out uint idx));
            for (uint i = 0; i < n; i++)
            {
                Umem.Fill.FillAddr(idx + i) = i * 4096;
            }

            Umem.Fill.Submit(n);
        }

        public long End(FrameEnd e) => World.Cpu(0).Ends[(int)e];

        public void Dispose() => World.Dispose();
    }

    [Fact]
    public void Bind_ZeroCopyOnVeth_EopnotsuppWithReason()
    {
        using var rig = new Rig();
        var e = Assert.Throws<XskException>(() => rig.Hub.CreateSocket(rig.B, 0, rig.Umem, new XskSocketConfig { BindFlags = XskConstants.ZeroCopy }));
        Assert.Equal(-Errno.EOPNOTSUPP, e.Errno);
        Assert.Contains("NETDEV_XDP_ACT_XSK_ZEROCOPY", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Redirect_EmptySlot_FallbackVerdictDrop()
    {
        using var rig = new Rig();
        rig.Send(5);
        Assert.Equal(5, rig.End(FrameEnd.XdpDrop));
        Assert.Equal(5UL, rig.B.Rq[0].XdpDrops);
    }

    [Fact]
    public unsafe void Redirect_BoundSocket_FrameCopiedIntoFillChunkAt256()
    {
        using var rig = new Rig();
        var s = rig.Hub.CreateSocket(rig.B, 0, rig.Umem);
        Assert.Equal(0, rig.Hub.SetSlot(rig.Map, 0, s));
        rig.Fill(8);
        rig.Send(3, len: 100);
        Assert.Equal(3, rig.End(FrameEnd.Xsk));
        Assert.Equal(3U, s.Rx!.Peek(8, out uint idx));
        var d = s.Rx.RxDesc(idx + 1);
        Assert.Equal(4096UL + XskConstants.PacketHeadroom, d.Addr);
        Assert.Equal(100U, d.Len);
        Assert.Equal(1, rig.Umem.Data(d.Addr, 100)[5]);
        Assert.Equal(0, rig.World.Pool.InUse(0));
    }

    [Fact]
    public void Redirect_SocketOnOtherQueue_DroppedAndCounted()
    {
        using var rig = new Rig(queues: 2);
        var s = rig.Hub.CreateSocket(rig.B, 1, rig.Umem);
        Assert.Equal(0, rig.Hub.SetSlot(rig.Map, 0, s));
        rig.Fill(8);
        rig.Send(4);
        Assert.Equal(4UL, s.RxWrongQueue);
        Assert.Equal(4, rig.End(FrameEnd.XdpRedirectErr));
        Assert.Equal(4UL, rig.B.Rq[0].RxDrops);
        Assert.Equal(0U, s.Rx!.Pending);
    }

    [Fact]
    public void Redirect_FillRingEmpty_RxDroppedAndEmptyDescsCounted()
    {
        using var rig = new Rig();
        var s = rig.Hub.CreateSocket(rig.B, 0, rig.Umem);
        rig.Hub.SetSlot(rig.Map, 0, s);
        rig.Fill(2);
        rig.Send(5);
        var st = s.Statistics;
        Assert.Equal(3UL, st.RxDropped);
        Assert.True(st.RxFillRingEmptyDescs >= 3);
        Assert.Equal(2, rig.End(FrameEnd.Xsk));
        Assert.Equal(3, rig.End(FrameEnd.XdpRedirectErr));
    }

    [Fact]
    public void Redirect_RxRingFull_RxRingFullCountedChunkReused()
    {
        using var rig = new Rig();
        var s = rig.Hub.CreateSocket(rig.B, 0, rig.Umem, new XskSocketConfig { RxSize = 4 });
        rig.Hub.SetSlot(rig.Map, 0, s);
        rig.Fill(16);
        rig.Send(6);
        Assert.Equal(2UL, s.Statistics.RxRingFull);
        Assert.Equal(1, rig.Umem.KernelFreeChunks);
        Assert.Equal(4U, s.Rx!.Pending);
    }

    [Fact]
    public unsafe void SendTo_TxDescs_DeliveredToPeerAndCompleted()
    {
        using var rig = new Rig();
        var frame = SkbTests.Frame(0x0200_0000_0b01UL, tcp: false); // a valid IPv4 frame: ip_rcv takes it
        frame.CopyTo(new Span<byte>(rig.Umem.Area + 8192, frame.Length));
        frame.CopyTo(new Span<byte>(rig.Umem.Area + 12288, frame.Length));
        rig.A.Gro = true; // a's NAPI runs, so b's veth_xmit lands in a's ring
        var s = rig.Hub.CreateSocket(rig.B, 0, rig.Umem);
        Assert.True(s.Tx!.NeedsWakeup);
        Assert.Equal(3U, s.Tx.Reserve(3, out uint idx));
        s.Tx.TxDesc(idx) = new XskDesc(8192, (uint)frame.Length);
        s.Tx.TxDesc(idx + 1) = new XskDesc(4000, 200); // crosses its chunk: invalid
        s.Tx.TxDesc(idx + 2) = new XskDesc(12288, (uint)frame.Length);
        s.Tx.Submit(3);
        var cpu = rig.World.Cpu(0);
        Assert.Equal(0, s.SendTo(cpu));
        while (cpu.HasScheduledWork)
        {
            cpu.NetRxAction();
        }

        Assert.Equal(1UL, s.Statistics.TxInvalidDescs);
        Assert.Equal(2, rig.End(FrameEnd.Stack));
        Assert.Equal(2U, rig.Umem.Completion.Peek(8, out uint c));
        Assert.Equal(8192UL, rig.Umem.Completion.CompAddr(c));
        Assert.Equal(12288UL, rig.Umem.Completion.CompAddr(c + 1));
        Assert.Equal(2, rig.Hub.Transmitted);
    }

    // ---- the three switch scenarios ----

    private static SimResult RunScenario(string name, long? packets = null, Action<SimWorld>? inspect = null)
    {
        using var world = ScenarioBuilder.Build(ScenarioTests.ScenarioPath(name), ScenarioTests.Select, packets);
        var r = new Simulator(world).Run(name);
        inspect?.Invoke(world);
        return r;
    }

    [Theory]
    [InlineData("xsk-xdp-switch")]
    [InlineData("xsk-afxdp-switch")]
    [InlineData("xsk-stack")]
    public void Scenario_EveryFrameAccountedFor(string name)
    {
        var r = RunScenario(name, 800);
        Assert.True(r.Conserved, string.Join("; ", r.Diagnosis));
        Assert.Equal(800, r.Generated);
        Assert.Equal(0, r.InFlight);
    }

    [Fact]
    public void Switches_SameTraffic_SameMacTable()
    {
        Dictionary<ulong, int>? xdp = null;
        Dictionary<ulong, int>? user = null;
        RunScenario("xsk-xdp-switch", 800, w =>
        {
            var fdb = w.ObjectsForXsk.Select(o => o.Maps).First(m => m.TryGet("fdb", out _))["fdb"];
            xdp = fdb.Entries().ToDictionary(
                e => ((ulong)e.Key[0] << 40) | ((ulong)e.Key[1] << 32) | ((ulong)e.Key[2] << 24) | ((ulong)e.Key[3] << 16) | ((ulong)e.Key[4] << 8) | e.Key[5],
                e => BitConverter.ToInt32(e.Value));
        });
        RunScenario("xsk-afxdp-switch", 800, w => user = ((XskSwitch)w.Xsk!.Apps.Single()).MacTable.ToDictionary());
        Assert.Equal(4, xdp!.Count);
        Assert.Equal(xdp.OrderBy(kv => kv.Key), user!.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void AfXdpSwitch_Result_HasSocketsSection()
    {
        var r = RunScenario("xsk-afxdp-switch", 800);
        Assert.NotNull(r.Xsk);
        Assert.Equal(4, r.Xsk!.Sockets.Count);
        Assert.Contains("\"sockets\":{\"h1\":{\"rx_dropped\":0", r.ToJson(false), StringComparison.Ordinal);
        Assert.Equal(800, r.Xsk.Received);
    }

    [Fact]
    public void AfXdpSwitch_SteadyState_NoAllocationPerFrame()
    {
        using var world = ScenarioBuilder.Build(ScenarioTests.ScenarioPath("xsk-afxdp-switch"), ScenarioTests.Select, 20_000);
        var sim = new Simulator(world);
        var cpu = world.Cpu(0);
        var source = world.Source!;
        var xsk = world.Xsk!;
        // warm up: the MAC table fills, the JIT has run, every ring has wrapped once
        for (int i = 0; i < 200; i++)
        {
            Step(cpu, source, xsk);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        long framesBefore = cpu.Generated;
        for (int i = 0; i < 100; i++)
        {
            Step(cpu, source, xsk);
        }

        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        long frames = cpu.Generated - framesBefore;
        output.WriteLine($"{bytes} bytes over {frames} frames");
        Assert.True(frames > 1000, $"only {frames} frames");
        Assert.True(bytes < frames / 10, $"{bytes} bytes allocated over {frames} frames");
        GC.KeepAlive(sim);
    }

    private static void Step(Napi.NapiContext cpu, Traffic.PacketSource source, XskHub xsk)
    {
        source.Deliver(cpu);
        cpu.NetRxAction();
        xsk.RunApps(cpu);
    }

    [Fact]
    public void Throughput_ThreeDatapaths_ReportedSideBySide()
    {
        const long n = 40_000;
        RunScenario("xsk-xdp-switch", 2000);
        RunScenario("xsk-afxdp-switch", 2000);
        RunScenario("xsk-stack", 2000);
        var a = RunScenario("xsk-xdp-switch", n);
        var b = RunScenario("xsk-afxdp-switch", n);
        var c = RunScenario("xsk-stack", n);
        output.WriteLine($"(a) XDP switch     {a.Mpps:F3} Mpps");
        output.WriteLine($"(b) AF_XDP switch  {b.Mpps:F3} Mpps");
        output.WriteLine($"(c) stack (PASS)   {c.Mpps:F3} Mpps");
        // Reported, not asserted: with the checked JIT the XDP switch and the AF_XDP switch run at about the same
        // rate here (see the report of issue 9); only the work each path does is checked.
        Assert.True(a.Conserved && b.Conserved && c.Conserved);
        Assert.Equal(n, b.Xsk!.Received);
        Assert.True(b.Xsk.Transmitted > 0 && a.Mpps > 0 && c.Mpps > 0);
    }
}
