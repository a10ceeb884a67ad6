using System.Buffers.Binary;
using VethXdp.Kernel;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Kernel.Tests;

public class KernelObjectTests
{
    // Swaps the first byte of the destination and source MACs, counts the frame in an array and a per-CPU
    // array, returns XDP_TX; frames shorter than an Ethernet header are dropped.
    private const string SwapAndCount = """
        r6 = r1
        r2 = *(u32 *)(r6 +0)
        r3 = *(u32 *)(r6 +4)
        r4 = r2
        r4 += 14
        if r4 > r3 goto drop
        r5 = *(u8 *)(r2 +0)
        r7 = *(u8 *)(r2 +6)
        *(u8 *)(r2 +0) = r7
        *(u8 *)(r2 +6) = r5
        r1 = 0
        *(u32 *)(r10 -4) = r1
        r2 = r10
        r2 += -4
        r1 = map[idx:0]
        call bpf_map_lookup_elem
        if r0 == 0 goto drop
        r1 = 1
        lock *(u64 *)(r0 +0) += r1
        r2 = r10
        r2 += -4
        r1 = map[idx:1]
        call bpf_map_lookup_elem
        if r0 == 0 goto drop
        r1 = *(u64 *)(r0 +0)
        r1 += 1
        *(u64 *)(r0 +0) = r1
        r0 = 3
        exit
        drop:
        r0 = 1
        exit
        """;

    private static readonly MapSpec Counter = new() { Name = "counter", Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1 };
    private static readonly MapSpec PerCpu = new() { Name = "percpu", Type = MapType.PercpuArray, KeySize = 4, ValueSize = 8, MaxEntries = 1 };

    internal static ProgramSpec Xdp(string name, string source) => new()
    {
        Name = name,
        SectionName = "xdp",
        Type = ProgramType.Xdp,
        ExpectedAttachType = BpfFlags.AttachXdp,
        Slots = Assembler.Assemble(source),
        License = "GPL",
    };

    private static byte[] Frame(int length)
    {
        var f = new byte[length];
        for (int i = 0; i < f.Length; i++)
        {
            f[i] = (byte)(i + 1);
        }

        return f;
    }

    [SkippableFact]
    public void TestRun_SwapAndCount_ReturnsTxBytesAndCounts()
    {
        KernelSkip.IfNotPermitted();
        using var obj = KernelObject.Load([Counter, PerCpu], [Xdp("swap_count", SwapAndCount)]);
        var frame = Frame(60);
        var r = obj.TestRun("swap_count", frame);
        Assert.Equal(3u, r.Retval);                       // XDP_TX
        Assert.Equal(0, r.MetaLength);
        Assert.Equal(60, r.DataOut.Length);
        Assert.Equal(frame[6], r.Data[0]);
        Assert.Equal(frame[0], r.Data[6]);
        Assert.Equal(frame.AsSpan(1, 5).ToArray(), r.Data.Slice(1, 5).ToArray());
        obj.TestRun("swap_count", frame);

        var counter = Assert.Single(obj.DumpMap("counter"));
        Assert.Equal(2UL, BinaryPrimitives.ReadUInt64LittleEndian(counter.Value));
        var perCpu = Assert.Single(obj.DumpMap("percpu"));
        Assert.Equal(8 * KernelObject.PossibleCpus, perCpu.Value.Length);
        Assert.Equal(2UL, BinaryPrimitives.ReadUInt64LittleEndian(perCpu.Value));   // CPU 0: the run was pinned there
        for (int c = 1; c < KernelObject.PossibleCpus; c++)
        {
            Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(perCpu.Value.AsSpan(c * 8)));
        }
    }

    [SkippableFact]
    public void TestRun_ShortFrame_IsRefusedWithEinval()
    {
        KernelSkip.IfNotPermitted();
        using var obj = KernelObject.Load([Counter, PerCpu], [Xdp("swap_count", SwapAndCount)]);
        var e = Assert.Throws<KernelBpfException>(() => obj.TestRun("swap_count", new byte[13]));
        Assert.Equal(Errno.EINVAL, e.Errno);   // bpf_test_init: size < ETH_HLEN
        Assert.Equal(BpfCommand.ProgTestRun, e.Command);
    }

    [SkippableFact]
    public void UpdateMap_BeforeRun_ProgramSeesTheValue()
    {
        KernelSkip.IfNotPermitted();
        using var obj = KernelObject.Load([Counter, PerCpu], [Xdp("swap_count", SwapAndCount)]);
        var v = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(v, 41);
        obj.UpdateMap("counter", new byte[4], v);
        obj.TestRun("swap_count", Frame(14));
        var back = new byte[8];
        Assert.True(obj.LookupMap("counter", new byte[4], back));
        Assert.Equal(42UL, BinaryPrimitives.ReadUInt64LittleEndian(back));
    }

    [SkippableFact]
    public void TestRun_IngressAndQueue_ReachTheProgram()
    {
        KernelSkip.IfNotPermitted();
        const string source = """
            r2 = *(u32 *)(r1 +12)
            r3 = *(u32 *)(r1 +16)
            r3 <<= 8
            r2 |= r3
            r0 = r2
            exit
            """;
        using var obj = KernelObject.Load([], [Xdp("ifindex", source)]);
        Assert.Equal(1u, obj.TestRun("ifindex", Frame(14), ingressIfindex: 1, rxQueue: 0).Retval);   // loopback, queue 0
        var e = Assert.Throws<KernelBpfException>(() => obj.TestRun("ifindex", Frame(14), ingressIfindex: 1, rxQueue: 5000));
        Assert.Equal(Errno.EINVAL, e.Errno);   // xdp_convert_md_to_buff: rx_queue_index >= real_num_rx_queues
    }

    [SkippableFact]
    public void Load_GlobalDataAndTailCall_ReadFrozenRodataThroughTheProgramArray()
    {
        KernelSkip.IfNotPermitted();
        var rodata = new MapSpec
        {
            Name = ".rodata",
            Type = MapType.Array,
            KeySize = 4,
            ValueSize = 8,
            MaxEntries = 1,
            Flags = BpfFlags.RdonlyProg,
            InitialData = [0, 0, 0, 0, 2, 0, 0, 0],
            Frozen = true,
            IsGlobalData = true,
            SectionName = ".rodata",
        };
        var jumps = new MapSpec
        {
            Name = "jumps",
            Type = MapType.ProgArray,
            KeySize = 4,
            ValueSize = 4,
            MaxEntries = 4,
            InitialSlots = [new MapSlotInit(1, "callee")],
        };
        const string entry = """
            r2 = map[idx:1]
            r3 = 1
            call bpf_tail_call
            r0 = 0
            exit
            """;
        const string callee = """
            r1 = map[idx:0][0]+4
            r0 = *(u32 *)(r1 +0)
            exit
            """;
        using var obj = KernelObject.Load([rodata, jumps], [Xdp("entry", entry), Xdp("callee", callee)]);
        Assert.Equal(2u, obj.TestRun("entry", Frame(20)).Retval);   // XDP_PASS, read from .rodata in the tail-called program

        var slot = Assert.Single(obj.DumpMap("jumps"));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(slot.Key));
        Assert.Equal("callee", obj.ProgramNameById(BinaryPrimitives.ReadUInt32LittleEndian(slot.Value)));
        var frozen = Assert.Throws<KernelBpfException>(() => obj.UpdateMap(".rodata", new byte[4], new byte[8]));
        Assert.Equal(Errno.EPERM, frozen.Errno);
    }

    [SkippableFact]
    public void Load_ExitWithoutR0_ReturnsTheVerifierLog()
    {
        KernelSkip.IfNotPermitted();
        var e = Assert.Throws<KernelBpfException>(() => KernelObject.Load([], [Xdp("no_r0", "exit")]));
        Assert.Equal(BpfCommand.ProgLoad, e.Command);
        Assert.Equal(Errno.EACCES, e.Errno);
        Assert.NotNull(e.VerifierLog);
        Assert.Contains("R0 !read_ok", e.VerifierLog);
        Assert.Equal("R0 !read_ok", e.VerifierMessage);
        Assert.Contains("program \"no_r0\": BPF_PROG_LOAD: EACCES", e.Message);
    }

    [SkippableFact]
    public void Load_LogLevel2_KeepsTheLogOfAnAcceptedProgram()
    {
        KernelSkip.IfNotPermitted();
        using var obj = KernelObject.Load([], [Xdp("pass", "r0 = 2\nexit")], new KernelLoadOptions { LogLevel = 2 });
        string log = obj.ProgramLog("pass");
        Assert.Contains("0: (b7) r0 = 2", log);
        Assert.Contains("processed 2 insns", log);
    }

    [SkippableFact]
    public void Load_MapIndexOutOfRange_IsRefusedBeforeTheKernel()
    {
        KernelSkip.IfNotPermitted();
        var e = Assert.Throws<ArgumentException>(() => KernelObject.Load([], [Xdp("bad", "r1 = map[idx:3]\nr0 = 0\nexit")]));
        Assert.Contains("map index 3", e.Message);
    }

    [SkippableFact]
    public void DumpMap_Queue_GivesPopOrderAndLeavesTheQueueAsItWas()
    {
        KernelSkip.IfNotPermitted();
        var queue = new MapSpec { Name = "q", Type = MapType.Queue, KeySize = 0, ValueSize = 4, MaxEntries = 4 };
        using var obj = KernelObject.Load([queue], []);
        obj.UpdateMap("q", [], BitConverter.GetBytes(5u));
        obj.UpdateMap("q", [], BitConverter.GetBytes(6u));
        var first = obj.DumpMap("q");
        var second = obj.DumpMap("q");
        Assert.Equal([5u, 6u], first.Select(e => BitConverter.ToUInt32(e.Value)).ToArray());
        Assert.Equal(first.Select(e => e.Value), second.Select(e => e.Value));
    }

    [SkippableFact]
    public void Load_UnsizedMap_IsNotSupportedUntilSized()
    {
        KernelSkip.IfNotPermitted();
        var unsized = new MapSpec { Name = "flows", Type = MapType.Hash, KeySize = 4, ValueSize = 4, MaxEntries = 0 };
        var e = Assert.Throws<NotSupportedException>(() => KernelObject.Load([unsized], []));
        Assert.Contains("max_entries is 0", e.Message);
        using var sized = KernelObject.Load([unsized], [], new KernelLoadOptions { MapSizes = new Dictionary<string, uint> { ["flows"] = 16 } });
        Assert.Equal(16u, sized.Maps[0].MaxEntries);
    }

    [SkippableFact]
    public void Load_PerfEventArrayWithoutSize_GetsOneSlotPerCpu()
    {
        KernelSkip.IfNotPermitted();
        var perf = new MapSpec { Name = "events", Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = 0 };
        using var obj = KernelObject.Load([perf], []);
        Assert.Equal((uint)KernelObject.PossibleCpus, obj.Maps[0].MaxEntries);
        Assert.Empty(obj.DumpMap("events"));
    }

    [SkippableFact]
    public void Load_ArrayOfMaps_FillsTheInnerMapSlot()
    {
        KernelSkip.IfNotPermitted();
        var inner = new MapSpec { Name = "inner", Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 2 };
        var outer = new MapSpec
        {
            Name = "outer",
            Type = MapType.ArrayOfMaps,
            KeySize = 4,
            ValueSize = 4,
            MaxEntries = 2,
            InnerMap = inner with { Name = "inner_tmpl" },
            InitialSlots = [new MapSlotInit(0, "inner")],
        };
        const string source = """
            r1 = 0
            *(u32 *)(r10 -4) = r1
            r2 = r10
            r2 += -4
            r1 = map[idx:1]
            call bpf_map_lookup_elem
            if r0 == 0 goto miss
            r1 = r0
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            if r0 == 0 goto miss
            r0 = *(u32 *)(r0 +0)
            exit
            miss:
            r0 = 0
            exit
            """;
        using var obj = KernelObject.Load([inner, outer], [Xdp("inner_read", source)]);
        obj.UpdateMap("inner", new byte[4], BitConverter.GetBytes(3u));
        Assert.Equal(3u, obj.TestRun("inner_read", Frame(14)).Retval);
        var slot = Assert.Single(obj.DumpMap("outer"));
        Assert.Equal("inner", obj.MapNameById(BitConverter.ToUInt32(slot.Value)));
    }
}
