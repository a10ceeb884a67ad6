using System.Text;
using System.Text.RegularExpressions;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Vm.Tests.Interpreter;

/// <summary>The interpreter's fast paths (the default map, redirect and spin lock helpers without the run's regions,
/// the value windows, the repeat loop) give what the general paths give: r0, maps, instruction counts, faults.
/// "General" runs use a table whose helpers are the same functions behind a wrapper, which the interpreter does not
/// recognise, so it takes its general call path.</summary>
public class FastPathTests
{
    // counts[key] += 1 with the key at fp-4 (lookup, else update with value 1 at fp-16); r0 = XDP_PASS.
    private const string Count = """
        r6 = r1
        r7 = *(u32 *)(r6 +12)
        *(u32 *)(r10 -4) = r7
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto insert
        r1 = *(u64 *)(r0 +0)
        r1 += 1
        *(u64 *)(r0 +0) = r1
        goto done
        insert:
        *(u64 *)(r10 -16) = 1
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 0
        call bpf_map_update_elem
        done:
        r0 = 2
        exit
        """;

    private static readonly int[] s_wrapped = [1, 2, 3, 23, 51, 93, 94];

    // The default table, with the helpers that have fast forms behind a wrapper when `general`.
    private static HelperTable Table(bool general)
    {
        var table = HelperTable.CreateDefault();
        if (general)
        {
            foreach (int id in s_wrapped)
            {
                Assert.True(table.TryGet(id, out var f));
                table.Register(id, table.GetName(id)!, (r1, r2, r3, r4, r5, env) => f(r1, r2, r3, r4, r5, env));
            }
        }

        return table;
    }

    private static LoadedObject Load(string asm, bool general, params MapSpec[] maps) =>
        LoadedObject.Create(maps, [Rt.Xdp(asm)], new LoadOptions { PossibleCpus = 2, Helpers = Table(general) });

    // Addresses differ between two loads (stacks, map values, frames): compared as 0x_.
    private static string Outcome(XdpResult r) =>
        Regex.Replace($"{r.Retval} {r.InstructionsExecuted} {r.Error} {r.Redirect}", "0x[0-9a-f]{9,}", "0x_");

    // Runs `asm` `runs` times through XdpRunner (RunXdp(XdpBuffer)) with each table; the outcome of every run.
    private static (string[] Fast, string[] General) Both(string asm, int runs, Action<LoadedObject>? setup = null, byte[]? frame = null, params MapSpec[] maps)
    {
        string[] Go(bool general)
        {
            using var obj = Load(asm, general, maps);
            setup?.Invoke(obj);
            using var runner = new XdpRunner(obj, null, null);
            var outcomes = new string[runs];
            for (int i = 0; i < runs; i++)
            {
                outcomes[i] = Outcome(runner.Run(frame ?? Rt.Frame()));
            }

            return outcomes;
        }

        return (Go(general: false), Go(general: true));
    }

    private static ulong Counter(LoadedObject obj, uint key)
    {
        var value = new byte[8];
        Assert.Equal(0, obj.Maps[0].UserLookup(Rt.U32(key), value));
        return BitConverter.ToUInt64(value);
    }

    [Theory]
    [InlineData(MapType.Hash)]
    [InlineData(MapType.Array)]
    [InlineData(MapType.PercpuArray)]
    public void LookupUpdate_KeyInFrame_SameAsGeneralPath(MapType type)
    {
        var (fast, general) = Both(Count, 5, maps: Rt.Map("counts", type, 4, 8, 4));
        Assert.Equal(general, fast);
        Assert.Contains("2 ", fast[0]);
    }

    [Fact]
    public void Lookup_CountersAfterRuns_AreTheRunCount()
    {
        using var obj = Load(Count, general: false, Rt.Map("counts", MapType.Hash, 4, 8, 4));
        using var runner = new XdpRunner(obj, null, null);
        for (int i = 0; i < 7; i++)
        {
            Assert.Null(runner.Run(Rt.Frame()).Error);
        }

        Assert.Equal(7UL, Counter(obj, 1));
    }

    [Theory]
    [InlineData(-516)]   // 4 bytes just below the frame (fp-512 is its lowest byte)
    [InlineData(-513)]   // straddles the frame's bottom
    [InlineData(-2)]     // straddles the frame's top
    [InlineData(0)]      // just above the frame
    public void Lookup_KeyOutsideTheFrame_FaultsAsTheDefaultHelper(int offset)
    {
        string asm = $"""
            r1 = map[idx:0]
            r2 = r10
            r2 += {offset}
            call bpf_map_lookup_elem
            r0 = 2
            exit
            """;
        var (fast, general) = Both(asm, 2, maps: Rt.Map("m", MapType.Array, 4, 8, 4));
        Assert.Equal(general, fast);
        Assert.Contains("insn 4: helper argument: ", fast[0]);
    }

    [Fact]
    public void Lookup_KeyInThePacket_SameAsGeneralPath()
    {
        // The key is the frame's bytes 0-3 (0x03020100): not in the frame, so the checked path reads it.
        const string asm = """
            r2 = *(u32 *)(r1 +0)
            r1 = map[idx:0]
            call bpf_map_lookup_elem
            r0 = 2
            exit
            """;
        var (fast, general) = Both(asm, 3, obj => Assert.Equal(0, obj.Maps[0].UserUpdate(Rt.U32(0x03020100), Rt.U64(9), 0)), maps: Rt.Map("m", MapType.Hash, 4, 8, 4));
        Assert.Equal(general, fast);
    }

    [Fact]
    public void Lookup_KeyInFrameFromBelowR10_ReadsTheFrameBytes()
    {
        // The key at fp-512 (the frame's lowest 4 bytes, the edge the fast path accepts).
        const string asm = """
            *(u32 *)(r10 -512) = 2
            r1 = map[idx:0]
            r2 = r10
            r2 += -512
            call bpf_map_lookup_elem
            if r0 == 0 goto miss
            r0 = *(u64 *)(r0 +0)
            exit
            miss:
            r0 = 99
            exit
            """;
        var (fast, general) = Both(asm, 2, obj => Assert.Equal(0, obj.Maps[0].UserUpdate(Rt.U32(2), Rt.U64(42), 0)), maps: Rt.Map("m", MapType.Array, 4, 8, 4));
        Assert.Equal(general, fast);
        Assert.StartsWith("42 ", fast[0]);
    }

    [Fact]
    public void Lookup_NotAMap_FaultMessageUnchanged()
    {
        const string asm = """
            r1 = 4660
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            exit
            """;
        var (fast, general) = Both(asm, 2, maps: Rt.Map("m", MapType.Array, 4, 8, 4));
        Assert.Equal(general, fast);
        Assert.Contains("insn 3: R1 is not a map pointer (0x1234)", fast[1]);
    }

    [Fact]
    public void Lookup_IncompatibleMap_FaultsOnEveryRun()
    {
        // A prog array may not be passed to bpf_map_lookup_elem: the check must not be skipped by the map cache.
        const string asm = """
            *(u32 *)(r10 -4) = 0
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            r0 = 2
            exit
            """;
        var (fast, general) = Both(asm, 3, maps: Rt.Map("progs", MapType.ProgArray, 4, 4, 4));
        Assert.Equal(general, fast);
        Assert.All(fast, o => Assert.Contains("cannot pass map_type 3 into func bpf_map_lookup_elem#1", o));
    }

    [Fact]
    public void DeleteThenLookup_SameAsGeneralPath()
    {
        const string asm = """
            *(u32 *)(r10 -4) = 5
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_delete_elem
            r6 = r0
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            r0 += r6
            exit
            """;
        var (fast, general) = Both(asm, 2, obj => Assert.Equal(0, obj.Maps[0].UserUpdate(Rt.U32(5), Rt.U64(1), 0)), maps: Rt.Map("m", MapType.Hash, 4, 8, 4));
        Assert.Equal(general, fast);
        Assert.StartsWith("0 ", fast[0]);                         // deleted: 0 + NULL
        Assert.StartsWith(Rt.Err(Errno.ENOENT) + " ", fast[1]);    // then -ENOENT + NULL
    }

    [Fact]
    public void RedirectAndRedirectMap_SameAsGeneralPath()
    {
        const string asm = """
            r6 = r1
            r1 = 7
            r2 = 0
            call bpf_redirect
            r1 = map[idx:0]
            r2 = 1
            r3 = 0
            call bpf_redirect_map
            exit
            """;
        var (fast, general) = Both(asm, 2, obj => Assert.Equal(0, obj.Maps[0].UserUpdate(Rt.U32(1), Rt.U32(3), 0)), maps: Rt.Map("tx", MapType.Devmap, 4, 4, 4));
        Assert.Equal(general, fast);
        Assert.StartsWith("4 ", fast[0]);
    }

    [Fact]
    public void SpinLockInMapValue_SameAsGeneralPath()
    {
        // value: { u32 lock; u32 pad; u64 count }
        const string asm = """
            *(u32 *)(r10 -4) = 0
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            if r0 == 0 goto out
            r6 = r0
            r1 = r6
            call bpf_spin_lock
            r1 = *(u64 *)(r6 +8)
            r1 += 1
            *(u64 *)(r6 +8) = r1
            r1 = r6
            call bpf_spin_unlock
            r0 = *(u64 *)(r6 +8)
            out:
            exit
            """;
        var (fast, general) = Both(asm, 4, maps: Rt.Map("locked", MapType.Array, 4, 16, 1));
        Assert.Equal(general, fast);
        Assert.StartsWith("4 ", fast[3]);
    }

    [Fact]
    public void SpinLockOnTheStack_FaultsAsTheDefaultHelper()
    {
        // The lock word is not in the table as it is (a stack slot): the run's regions are registered first, and the
        // default helper takes the lock; unlocking twice faults with the default helper's message.
        const string asm = """
            *(u32 *)(r10 -8) = 0
            r1 = r10
            r1 += -8
            call bpf_spin_lock
            r0 = *(u32 *)(r10 -8)
            r1 = r10
            r1 += -8
            call bpf_spin_unlock
            r1 = r10
            r1 += -8
            call bpf_spin_unlock
            exit
            """;
        var (fast, general) = Both(asm, 2);
        Assert.Equal(general, fast);
        Assert.Contains("insn 10: bpf_spin_unlock without taking a lock", fast[0]);
    }

    [Fact]
    public void TableBindsItsOwnLookup_ItIsCalled()
    {
        using var obj = Load(Count, general: false, Rt.Map("counts", MapType.Hash, 4, 8, 4));
        using var runner = new XdpRunner(obj, null, null);
        Assert.Null(runner.Run(Rt.Frame()).Error);
        Assert.Equal(1UL, Counter(obj, 1));

        // The same id, another function: the interpreter must call it (it returns NULL: the update path runs,
        // and fails with -EEXIST, so the counter stays).
        int calls = 0;
        obj.Helpers.Register(1, "bpf_map_lookup_elem", (_, _, _, _, _, _) =>
        {
            calls++;
            return 0;
        });
        Assert.Null(runner.Run(Rt.Frame()).Error);
        Assert.Equal(1, calls);
        Assert.Equal(1UL, Counter(obj, 1));

        // And back to the default.
        obj.Helpers.Register(HelperId.MapLookupElem, MapHelpers.MapLookupElem);
        Assert.Null(runner.Run(Rt.Frame()).Error);
        Assert.Equal(1, calls);
        Assert.Equal(2UL, Counter(obj, 1));
    }

    [Fact]
    public void StoreToReadOnlyGlobal_AfterALoadFromIt_Faults()
    {
        // The load makes .rodata a value window; the store must still fault (the window is read-only).
        const string asm = """
            r1 = map[idx:0][0]+0
            r0 = *(u8 *)(r1 +0)
            *(u8 *)(r1 +0) = r0
            exit
            """;
        var (fast, general) = Both(asm, 2, maps: Rt.Global(".rodata", Encoding.ASCII.GetBytes("hello\0")));
        Assert.Equal(general, fast);
        Assert.Contains("insn 3: out-of-bounds store of 1 byte", fast[0]);
    }

    [Fact]
    public void ValueWindow_AccessPastTheValueBlock_Faults()
    {
        // A load inside the array's values, then one just past its last byte: the window must not accept it.
        const string asm = """
            *(u32 *)(r10 -4) = 1
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            if r0 == 0 goto out
            r1 = *(u64 *)(r0 +0)
            r1 = *(u64 *)(r0 +8)
            out:
            r0 = 2
            exit
            """;
        var (fast, general) = Both(asm, 2, maps: Rt.Map("m", MapType.Array, 4, 8, 2));
        Assert.Equal(general, fast);
        Assert.Contains("insn 8: out-of-bounds load of 8 bytes", fast[0]);
    }

    [Fact]
    public void ValueWindow_RegionRemovedBetweenRuns_Faults()
    {
        // After a run that used a map value, the value regions are unregistered: the next run's access must fault.
        const string asm = """
            r1 = map[idx:0][0]+0
            r0 = *(u8 *)(r1 +0)
            exit
            """;
        using var obj = Load(asm, general: false, Rt.Global(".data", [5], frozen: false));
        using var vm = new BpfInterpreter(obj.Prepare(obj.Programs[0]), obj.Helpers, null, new RuntimeEnv { Maps = obj.Maps });
        obj.Maps.RegisterRegions(vm.Env.Regions);
        var buffer = new XdpBuffer();
        Assert.Equal(0, buffer.Load(Rt.Frame(), 1, 0));
        Assert.Equal(5UL, vm.RunXdp(buffer).R0);
        vm.Env.Regions.Clear();
        var fault = Assert.Throws<ExecutionFaultException>(() => vm.RunXdp(buffer));
        Assert.Equal(FaultKind.OutOfBounds, fault.Kind);
        Assert.Equal(2, fault.Pc);
    }

    [Fact]
    public void RunXdpRepeat_SameAsRunningNTimes()
    {
        using var a = Load(Count, general: false, Rt.Map("counts", MapType.Hash, 4, 8, 4));
        using var b = Load(Count, general: false, Rt.Map("counts", MapType.Hash, 4, 8, 4));
        using var ra = new XdpRunner(a, null, null);
        using var rb = new XdpRunner(b, null, null);
        var buffer = new XdpBuffer();
        Assert.Equal(0, buffer.Load(Rt.Frame(), 1, 0));
        int regions = ra.Env.Regions.Count;

        ulong r0 = ((InterpreterEngine)ra.Engine).RunXdpRepeat(buffer, 1000);
        ulong last = 0;
        for (int i = 0; i < 1000; i++)
        {
            last = rb.Engine.RunXdp(buffer).R0;
        }

        Assert.Equal(last, r0);
        Assert.Equal(2UL, r0);
        Assert.Equal(1000UL, Counter(a, 1));
        Assert.Equal(Counter(b, 1), Counter(a, 1));
        Assert.Equal(regions, ra.Env.Regions.Count);
        Assert.Null(ra.Env.Xdp);
        Assert.Equal(-1, ra.Env.PacketRegionIndex);
        Assert.Equal(0UL, ((InterpreterEngine)ra.Engine).RunXdpRepeat(buffer, 0));
    }

    [Fact]
    public void RunXdpRepeat_Fault_LeavesTheEnvAsRunXdpDoes()
    {
        // Faults on the third run (the counter reaches 3), after registering the run's regions (a packet store).
        const string asm = """
            r6 = r1
            *(u32 *)(r10 -4) = 0
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            if r0 == 0 goto out
            r1 = *(u64 *)(r0 +0)
            r1 += 1
            *(u64 *)(r0 +0) = r1
            if r1 != 3 goto out
            r2 = *(u32 *)(r6 +0)
            *(u8 *)(r2 -1) = 1
            out:
            r0 = 2
            exit
            """;
        using var obj = Load(asm, general: false, Rt.Map("m", MapType.Array, 4, 8, 1));
        using var runner = new XdpRunner(obj, null, null);
        var engine = (InterpreterEngine)runner.Engine;
        var buffer = new XdpBuffer();
        Assert.Equal(0, buffer.Load(Rt.Frame(), 1, 0));
        int regions = runner.Env.Regions.Count;
        var fault = Assert.Throws<ExecutionFaultException>(() => engine.RunXdpRepeat(buffer, 10));
        Assert.Equal(13, fault.Pc);
        Assert.Equal(FaultKind.OutOfBounds, fault.Kind);
        Assert.Equal(3UL, Counter(obj, 0));
        Assert.Equal(regions, runner.Env.Regions.Count);
        Assert.Null(runner.Env.Xdp);
        Assert.Equal(-1, runner.Env.PacketRegionIndex);

        // The engine runs again afterwards.
        Assert.Equal(2UL, engine.RunXdp(buffer).R0);
        Assert.Equal(4UL, Counter(obj, 0));
    }

    [Fact]
    public void RunXdpRepeat_WithTracer_SameCounters()
    {
        using var obj = Load(Count, general: false, Rt.Map("counts", MapType.Hash, 4, 8, 4));
        using var runner = new XdpRunner(obj, null, null);
        var engine = (InterpreterEngine)runner.Engine;
        var tracer = new CountingTracer();
        engine.Interpreter.Tracer = tracer;
        var buffer = new XdpBuffer();
        Assert.Equal(0, buffer.Load(Rt.Frame(), 1, 0));
        Assert.Equal(2UL, engine.RunXdpRepeat(buffer, 3));
        Assert.Equal(3UL, Counter(obj, 1));
        Assert.True(tracer.Steps > 0);
    }

    [Fact]
    public void RunXdpRepeat_AllocatesNothing()
    {
        using var obj = Load(Count, general: false, Rt.Map("counts", MapType.Hash, 4, 8, 4));
        using var runner = new XdpRunner(obj, null, null);
        var engine = (InterpreterEngine)runner.Engine;
        var buffer = new XdpBuffer();
        Assert.Equal(0, buffer.Load(Rt.Frame(), 1, 0));
        engine.RunXdpRepeat(buffer, 100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        engine.RunXdpRepeat(buffer, 10_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_100UL, Counter(obj, 1));
    }

    private sealed class CountingTracer : IExecutionTracer
    {
        public int Steps { get; private set; }

        public void OnHelperEnter(in TraceStep step)
        {
        }

        public void OnStep(in TraceStep step) => Steps++;
    }
}
