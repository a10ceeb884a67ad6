using System.Buffers.Binary;
using VethXdp.Kernel;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Maps;

namespace VethXdp.Kernel.Tests;

/// <summary>The cross-check against the running kernel on differences made on purpose: it must find them, name
/// the packet, map, key and CPU, and agree where nothing differs.</summary>
public class CrossCheckKernelTests
{
    private const string CounterMaps = """{"tx_port": {"entries": [{"key": "00000000", "value": 1}]}, "egress_slot": {"entries": [{"key": "00000000", "value": "00000000"}]}}""";

    // A ring buffer record of 8 constant bytes per frame, then XDP_PASS.
    private const string RingConstant = """
        r1 = 0x44332211
        *(u32 *)(r10 -8) = r1
        r1 = 0x08776655
        *(u32 *)(r10 -4) = r1
        r1 = map[idx:0]
        r2 = r10
        r2 += -8
        r3 = 8
        r4 = 0
        call bpf_ringbuf_output
        r0 = 2
        exit
        """;

    // The same with bpf_get_prandom_u32's value: the kernel's generator is not ours.
    private const string RingRandom = """
        call bpf_get_prandom_u32
        *(u32 *)(r10 -8) = r0
        *(u32 *)(r10 -4) = r0
        r1 = map[idx:0]
        r2 = r10
        r2 += -8
        r3 = 8
        r4 = 0
        call bpf_ringbuf_output
        r0 = 2
        exit
        """;

    private static readonly MapSpec Ring = new() { Name = "rb", Type = MapType.Ringbuf, KeySize = 0, ValueSize = 0, MaxEntries = 4096 };

    private static BpfObject Counter() => ElfObjectReader.Load(Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_counter.v4.o"));

    private static IReadOnlyList<ReadOnlyMemory<byte>> BasicMixed() => CrossCheck.ReadFrames(Path.Combine(TestPaths.CorpusDir, "pcaps", "basic_mixed.pcap"));

    private static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    [SkippableFact]
    public void Run_SameMaps_Agree()
    {
        KernelSkip.IfNotPermitted();

        var report = CrossCheck.Run(Counter(), BasicMixed(), new CrossCheckOptions { InitialMapsJson = CounterMaps, CompareMapsAfterEachPacket = true });

        Assert.True(report.Agrees, report.Summary);
        Assert.Equal(8, report.Packets.Count);
        Assert.Equal(4u, report.Packets[0].Kernel.Retval);   // XDP_REDIRECT: compared as a retval and bytes
        Assert.Equal("devmap ifindex 1 map tx_port key 0", report.Packets[0].Redirect);
    }

    [SkippableFact]
    public void Run_OursHasAnotherDevmapEntry_ReportsTheFinalMapDifference()
    {
        KernelSkip.IfNotPermitted();
        var options = new CrossCheckOptions
        {
            InitialMapsJson = CounterMaps,
            InitializeMaps = (vm, kernel) => Assert.Equal(0, vm.Maps["tx_port"].UserUpdate(U32(3), U32(1), 0)),
        };

        var report = CrossCheck.Run(Counter(), BasicMixed(), options);

        Assert.False(report.Agrees);
        Assert.Empty(report.PacketDisagreements);
        var d = Assert.Single(report.MapDisagreements);
        Assert.Equal("final maps: map \"tx_port\" key 03000000: we have it (ifindex 1), the kernel does not", d.ToString());
    }

    [SkippableFact]
    public void Run_KernelCounterChangedOnLastCpu_NamesTheCpu()
    {
        KernelSkip.IfNotPermitted();
        int cpus = KernelObject.PossibleCpus;
        Skip.If(cpus < 2, "needs two possible CPUs");
        var value = new byte[16 * cpus];
        value[16 * (cpus - 1)] = 7;   // the last CPU's packets = 7
        var options = new CrossCheckOptions
        {
            InitialMapsJson = CounterMaps,
            InitializeMaps = (vm, kernel) => kernel.UpdateMap("stats", U32(0), value),
        };

        var report = CrossCheck.Run(Counter(), BasicMixed(), options);

        var d = Assert.Single(report.MapDisagreements);
        Assert.Equal("stats", d.Map);
        Assert.Equal("00000000", d.Key);
        Assert.Equal($"cpu {cpus - 1}: kernel 07000000000000000000000000000000, ours 00000000000000000000000000000000 (first difference at value byte 0)", d.Description);
    }

    [SkippableFact]
    public void Run_OursRedirectsToAnEmptySlot_ReportsRetvalAndTheFirstPacketOfTheMapDifference()
    {
        KernelSkip.IfNotPermitted();
        var options = new CrossCheckOptions
        {
            InitialMapsJson = CounterMaps,
            CompareMapsAfterEachPacket = true,
            InitializeMaps = (vm, kernel) => Assert.Equal(0, vm.Maps["egress_slot"].UserUpdate(U32(0), U32(5), 0)),
        };

        var report = CrossCheck.Run(Counter(), BasicMixed(), options);

        var first = report.PacketDisagreements[0];
        Assert.Equal(0, first.Packet);
        Assert.Equal(PacketField.Retval, first.Field);
        Assert.Equal("packet 0: retval: kernel 4 (XDP_REDIRECT), ours 2 (XDP_PASS)", first.ToString());
        Assert.Equal("before the first packet: map \"egress_slot\" key 00000000: kernel 00000000, ours 05000000 (first difference at value byte 0)", report.MapDisagreements[0].ToString());
        Assert.DoesNotContain(report.MapDisagreements, m => m.Packet >= 0);   // no packet changed it
        Assert.Contains(report.MapDisagreements, m => m.Packet is null && m.Map == "egress_slot");
    }

    // A frame starting with 0xaa stores bpf_get_prandom_u32 (the kernel's generator is not ours) in an array.
    private const string RandomOnMark = """
        r2 = *(u32 *)(r1 +0)
        r3 = *(u32 *)(r1 +4)
        r4 = r2
        r4 += 1
        if r4 > r3 goto out
        r4 = *(u8 *)(r2 +0)
        if r4 != 0xaa goto out
        call bpf_get_prandom_u32
        *(u32 *)(r10 -8) = r0
        r1 = 0
        *(u32 *)(r10 -4) = r1
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -8
        r4 = 0
        call bpf_map_update_elem
        out:
        r0 = 2
        exit
        """;

    [SkippableFact]
    public void Run_CompareAfterEachPacket_BlamesThePacketThatMadeAnEntryDiffer()
    {
        KernelSkip.IfNotPermitted();
        var last = new MapSpec { Name = "last", Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 };
        byte[] marked = new byte[60];
        marked[0] = 0xaa;
        ReadOnlyMemory<byte>[] frames = [new byte[60], new byte[60], marked, new byte[60]];

        var report = CrossCheck.Run([last], [KernelObjectTests.Xdp("random_on_mark", RandomOnMark)], null, frames,
            new CrossCheckOptions { CompareMapsAfterEachPacket = true });

        Assert.Empty(report.PacketDisagreements);
        Assert.Equal([2, null], report.MapDisagreements.Select(d => d.Packet));
        Assert.All(report.MapDisagreements, d => Assert.Equal("00000000", d.Key));
    }

    [SkippableFact]
    public void Run_DifferenceBeforeTheFirstPacket_IsNotBlamedOnAPacket()
    {
        KernelSkip.IfNotPermitted();
        var options = new CrossCheckOptions
        {
            InitialMapsJson = CounterMaps,
            CompareMapsAfterEachPacket = true,
            InitializeMaps = (vm, kernel) => Assert.Equal(0, vm.Maps["tx_port"].UserUpdate(U32(6), U32(1), 0)),
        };

        var report = CrossCheck.Run(Counter(), BasicMixed(), options);

        Assert.Equal([-1, null], report.MapDisagreements.Select(d => d.Packet));
        Assert.StartsWith("before the first packet: map \"tx_port\" key 06000000", report.MapDisagreements[0].ToString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Run_ShortFrame_BothRefuseIt()
    {
        KernelSkip.IfNotPermitted();
        var obj = ElfObjectReader.Load(Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_pass.v4.o"));
        ReadOnlyMemory<byte>[] frames = [new byte[10], new byte[60], new byte[13], new byte[14], new byte[3500], new byte[4000], new byte[73152], new byte[73153], new byte[100000]];

        var report = CrossCheck.Run(obj, frames);

        Assert.True(report.Agrees, report.Summary);
        Assert.Equal("EINVAL", report.Packets[0].Kernel.Errno);
        Assert.Equal("EINVAL", report.Packets[0].Vm.Errno);
        Assert.Equal("EINVAL", report.Packets[2].Vm.Errno);
        Assert.Equal(2u, report.Packets[3].Vm.Retval);
        Assert.Equal(2u, report.Packets[4].Vm.Retval);
    }

    [SkippableFact]
    public void Run_RingBufferRecords_AreReadFromTheKernelsRingAndCompared()
    {
        KernelSkip.IfNotPermitted();
        var frames = BasicMixed().Take(3);

        var report = CrossCheck.Run([Ring], [KernelObjectTests.Xdp("ring_const", RingConstant)], null, frames);

        Assert.True(report.Agrees, report.Summary);
        Assert.Equal([1, 1, 1], report.Packets.Select(p => p.Records));
        Assert.DoesNotContain(report.NotCompared, n => n.StartsWith("ring buffer", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void Run_RingBufferRecordsDiffer_ReportsEachPacketsRecord()
    {
        KernelSkip.IfNotPermitted();
        var frames = BasicMixed().Take(3);

        var report = CrossCheck.Run([Ring], [KernelObjectTests.Xdp("ring_random", RingRandom)], null, frames);

        Assert.Equal([0, 1, 2], report.PacketDisagreements.Select(d => d.Packet));
        Assert.All(report.PacketDisagreements, d => Assert.Equal(PacketField.Events, d.Field));
        Assert.Contains("ring buffer \"rb\" record 0: record bytes differ: kernel 8 bytes", report.PacketDisagreements[0].Description, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Run_EventsSkipped_SaysWhy()
    {
        KernelSkip.IfNotPermitted();
        var options = new CrossCheckOptions { Skips = [new CrossCheckSkip(CrossCheckSkipField.Events, "random records")] };

        var report = CrossCheck.Run([Ring], [KernelObjectTests.Xdp("ring_random", RingRandom)], null, BasicMixed().Take(3), options);

        Assert.True(report.Agrees, report.Summary);
        Assert.Contains("ring buffer \"rb\" records: random records", report.NotCompared);
    }

    [SkippableFact]
    public void Run_UnknownProgram_Throws()
    {
        KernelSkip.IfNotPermitted();

        var e = Assert.Throws<ArgumentException>(() => CrossCheck.Run(Counter(), BasicMixed(), new CrossCheckOptions { Program = "nope" }));
        Assert.Contains("xdp_counter", e.Message, StringComparison.Ordinal);
    }
}
