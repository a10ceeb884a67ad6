using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Jit.Tests;

/// <summary>The checked JIT's XdpBuffer runs: regions registered only when the run needs the table (an access off the
/// fast paths, a helper that reads the run's memory, a call), group checks for several accesses through one register,
/// direct context loads, the checked map helper forms. Faults keep the interpreter's messages and indices, helpers
/// see the regions they need, and the table and environment are as before every run.</summary>
public class CheckedFastPathTests
{
    [Fact]
    public void LazyRun_LoadJustPastTheContext_FaultsAsInterpreter()
    {
        // Outside every region: the run registers its regions, and the fault names the context as the nearest.
        string r = Xdp.SameFault("""
            r2 = r1
            r2 += 24
            r0 = *(u32 *)(r2 +0)
            exit
            """);

        Assert.Contains("insn 2:", r, StringComparison.Ordinal);
        Assert.Contains("out-of-bounds load of 4 bytes", r, StringComparison.Ordinal);
        Assert.Contains("context", r, StringComparison.Ordinal);
    }

    [Fact]
    public void LazyRun_StoreBelowFrameZero_FaultNamesFrameZero()
    {
        // r10 - 520 through another register: the guard below frame 0, whose region must be registered by then.
        string r = Xdp.SameFault("""
            r2 = r10
            r2 += -520
            *(u64 *)(r2 +0) = 1
            r0 = 2
            exit
            """);

        Assert.Contains("stack frame 0", r, StringComparison.Ordinal);
    }

    [Fact]
    public void LazyRun_BadContextOffset_FaultsAsInterpreter()
    {
        string r = Xdp.SameFault("""
            r0 = *(u32 *)(r1 +2)
            exit
            """);

        Assert.Contains("insn 0:", r, StringComparison.Ordinal);
    }

    [Fact]
    public void LazyRun_ContextStore_FaultsAsInterpreter()
    {
        string r = Xdp.SameFault("""
            *(u32 *)(r1 +0) = 1
            r0 = 2
            exit
            """);

        Assert.Contains("out-of-bounds store of 4 bytes", r, StringComparison.Ordinal);
    }

    [Fact]
    public void GroupCheck_SpanPastPacketEnd_FaultsAtTheFirstBadAccess()
    {
        // Four stores through r2 in one block; the third is past the end of the 60-byte frame.
        string r = Xdp.SameFault("""
            r2 = *(u32 *)(r1 +0)
            *(u8 *)(r2 +0) = 1
            *(u8 *)(r2 +8) = 2
            *(u8 *)(r2 +100) = 3
            *(u8 *)(r2 +9) = 4
            r0 = 2
            exit
            """);

        Assert.Contains("insn 3:", r, StringComparison.Ordinal);
        Assert.Contains("out-of-bounds store of 1 byte", r, StringComparison.Ordinal);
    }

    [Fact]
    public void GroupCheck_InPacket_SameBytesAsInterpreter()
    {
        string r = Xdp.Once("""
            r2 = *(u32 *)(r1 +0)
            r3 = *(u8 *)(r2 +1)
            *(u8 *)(r2 +0) = r3
            r4 = *(u16 *)(r2 +4)
            *(u16 *)(r2 +2) = r4
            r0 = *(u32 *)(r2 +0)
            exit
            """);

        Assert.Contains("data=01010405", r, StringComparison.Ordinal);
    }

    [Fact]
    public void GroupCheck_ThroughContextCopy_ReadsFieldsAsInterpreter()
    {
        // r2 derives from the context by arithmetic (no direct context load): the group's span lies in the context,
        // which the group check refuses, so each load takes its own checked path.
        string r = Xdp.Once("""
            r2 = r1
            r2 += 0
            r3 = *(u32 *)(r2 +0)
            r4 = *(u32 *)(r2 +4)
            r0 = r4
            r0 -= r3
            exit
            """);

        Assert.Contains("retval=60", r, StringComparison.Ordinal);
    }

    [Fact]
    public void GroupCheck_MapValue_SameCountsAsInterpreter()
    {
        string r = Xdp.Once("""
            *(u32 *)(r10 -4) = 0
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            if r0 == 0 goto +8
            r1 = *(u64 *)(r0 +0)
            r1 += 1
            *(u64 *)(r0 +0) = r1
            r1 = *(u64 *)(r0 +8)
            r1 += 60
            *(u64 *)(r0 +8) = r1
            r0 = 2
            exit
            r0 = 1
            exit
            """, Xdp.Map("a", MapType.Array, 4, 16, 1));

        Assert.Contains("retval=2", r, StringComparison.Ordinal);
    }

    [Fact]
    public void GroupCheck_SpanPastMapValue_FaultsAsInterpreter()
    {
        string r = Xdp.SameFault("""
            *(u32 *)(r10 -4) = 0
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            if r0 == 0 goto +5
            r1 = *(u64 *)(r0 +0)
            *(u64 *)(r0 +0) = r1
            r1 = *(u64 *)(r0 +16)
            r0 = 2
            exit
            r0 = 1
            exit
            """, Xdp.Map("a", MapType.Array, 4, 16, 1));

        Assert.Contains("insn 9:", r, StringComparison.Ordinal);
        Assert.Contains("past the end of map a values", r, StringComparison.Ordinal);
    }

    [Fact]
    public void MapHelper_KeyInPacket_RegistersRegionsAndFindsTheKey()
    {
        // The key is not in the frame: the checked map helper checks it against the table, which the run registers
        // at that point; the lookup misses (key 0x03020100) the same way on both engines.
        string r = Xdp.Once("""
            r2 = *(u32 *)(r1 +0)
            r1 = map[idx:0]
            call bpf_map_lookup_elem
            r1 = 2
            if r0 == 0 goto +1
            r1 = 3
            r0 = r1
            exit
            """, Xdp.Map("h", MapType.Hash, 4, 8, 4));

        Assert.Contains("retval=2", r, StringComparison.Ordinal);
    }

    [Fact]
    public void MapHelper_KeyOutsideEveryRegion_FaultsAsInterpreter()
    {
        string r = Xdp.SameFault("""
            r2 = r10
            r2 += 4096
            r1 = map[idx:0]
            call bpf_map_lookup_elem
            r0 = 2
            exit
            """, Xdp.Map("h", MapType.Hash, 4, 8, 4));

        Assert.Contains("insn 4:", r, StringComparison.Ordinal);
    }

    [Fact]
    public void MapHelper_WrongMapType_FaultsAsInterpreter()
    {
        string r = Xdp.SameFault("""
            *(u32 *)(r10 -4) = 0
            r2 = r10
            r2 += -4
            r1 = map[idx:0]
            call bpf_map_lookup_elem
            r0 = 2
            exit
            """, Xdp.Map("rb", MapType.Ringbuf, 0, 0, 4096));

        Assert.Contains("cannot pass map_type", r, StringComparison.Ordinal);
    }

    [Fact]
    public void RunXdp_HelperThatNeedsTheBuffer_SeesItAndTheTableIsRestored()
    {
        // bpf_xdp_adjust_head needs Env.Xdp and the packet region: a lazy run registers them before the call.
        const string asm = """
            r6 = r1
            r2 = 4
            call bpf_xdp_adjust_head
            r2 = *(u32 *)(r6 +0)
            r3 = *(u32 *)(r6 +4)
            r0 = r3
            r0 -= r2
            exit
            """;
        var (engine, env, obj) = Checked(asm, []);
        using (obj)
        using (engine)
        using (var interp = new BpfInterpreter(engine.Executable, null, null, null))
        {
            var buffer = new XdpBuffer();
            int regions = env.Regions.Count;
            Assert.Equal(0, buffer.Load(Xdp.Frame(60), 1, 0));
            var r = engine.RunXdp(buffer);
            Assert.Equal(56UL, r.R0);
            Assert.Null(env.Xdp);
            Assert.Equal(-1, env.PacketRegionIndex);
            Assert.Equal(regions, env.Regions.Count);
            Assert.Equal(0, buffer.Load(Xdp.Frame(60), 1, 0));
            Assert.Equal(interp.RunXdp(buffer), r);
        }
    }

    [Fact]
    public void RunXdp_FaultAfterRegistering_TableRestoredAndNextRunSucceeds()
    {
        const string asm = """
            r2 = *(u32 *)(r1 +0)
            r0 = *(u8 *)(r2 +0)
            if r0 != 0 goto +2
            r3 = *(u8 *)(r2 +200)
            exit
            r0 = 2
            exit
            """;
        var (engine, env, obj) = Checked(asm, []);
        using (obj)
        using (engine)
        {
            var buffer = new XdpBuffer();
            int regions = env.Regions.Count;
            Assert.Equal(0, buffer.Load(Xdp.Frame(60), 1, 0));
            var fault = Assert.Throws<ExecutionFaultException>(() => engine.RunXdp(buffer));
            Assert.Equal(3, fault.Pc);
            Assert.Equal(regions, env.Regions.Count);
            Assert.Null(env.Xdp);
            var frame = Xdp.Frame(60);
            frame[0] = 9;
            Assert.Equal(0, buffer.Load(frame, 1, 0));
            Assert.Equal(2UL, engine.RunXdp(buffer).R0);
            Assert.Equal(regions, env.Regions.Count);
        }
    }

    [Fact]
    public void RunXdp_StackWrittenThroughAnotherRegister_ReadsZeroNextRun()
    {
        // A store into frame 0 through r2 (checked, marks the frames dirty): the next run's unwritten stack reads 0.
        const string asm = """
            r0 = *(u64 *)(r10 -256)
            r2 = r10
            r2 += -256
            *(u64 *)(r2 +0) = 7
            exit
            """;
        var (engine, _, obj) = Checked(asm, []);
        using (obj)
        using (engine)
        {
            var buffer = new XdpBuffer();
            Assert.Equal(0, buffer.Load(Xdp.Frame(60), 1, 0));
            Assert.Equal(0UL, engine.RunXdp(buffer).R0);
            Assert.Equal(0UL, engine.RunXdp(buffer).R0);
        }
    }

    [Fact]
    public void RunXdp_NoHelper_AllocatesNothing()
    {
        const string asm = """
            r2 = *(u32 *)(r1 +0)
            r3 = *(u32 *)(r1 +4)
            r4 = r2
            r4 += 14
            if r4 > r3 goto +3
            r0 = *(u8 *)(r2 +12)
            r5 = *(u8 *)(r2 +13)
            r0 += r5
            exit
            """;
        var (engine, _, obj) = Checked(asm, []);
        using (obj)
        using (engine)
        {
            var buffer = new XdpBuffer();
            Assert.Equal(0, buffer.Load(Xdp.Frame(60), 1, 0));
            Assert.Equal(25UL, engine.RunXdp(buffer).R0);
            long before = GC.GetAllocatedBytesForCurrentThread();
            ulong sum = 0;
            for (int i = 0; i < 10_000; i++)
            {
                sum += engine.RunXdp(buffer).R0;
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(250_000UL, sum);
        }
    }

    private static (JitEngine Engine, RuntimeEnv Env, LoadedObject Obj) Checked(string asm, MapSpec[] maps)
    {
        var obj = LoadedObject.Create(maps, [Xdp.Prog(asm)], new LoadOptions { PossibleCpus = 1 });
        var exe = obj.Prepare(obj.GetProgram("prog"));
        var env = new RuntimeEnv { Maps = obj.Maps, PossibleCpus = obj.PossibleCpus };
        obj.Maps.RegisterRegions(env.Regions);
        var engine = new JitEngine(JitCompiler.Compile(exe, obj.Helpers), null, env);
        Assert.Equal(JitMode.Checked, engine.Program.Mode);
        return (engine, env, obj);
    }
}
