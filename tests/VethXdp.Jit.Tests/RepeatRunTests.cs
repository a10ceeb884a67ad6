using VethXdp.Verifier;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Jit.Tests;

/// <summary>IBpfEngine.RunXdpRepeat (the engines' own BPF_PROG_TEST_RUN-style loop, which `bench` times) against the
/// same number of single RunXdp calls on a second, identical object: the same last r0, the same frame (nothing reset
/// between runs, so a MAC swap done an odd number of times shows) and the same maps, on every engine.</summary>
public class RepeatRunTests
{
    private const string Udp = "020000000002020000000001080045000032000100004011f96c0a0000010a000002d4310035001e0000"
        + "00000000000000000000000000000000000000000000";

    private const string Tcp = "02000000000202000000000108004500002800014000400626cd0a0000010a0000029c400050000003e8000000005002fffffb670000";

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (string engine in new[] { "interp", "jit-checked", "jit" })
        {
            data.Add("xdp_paper_drop", Udp, engine);       // PERCPU_ARRAY counters: inlined lookups on jit
            data.Add("xdp_paper_tx", Tcp, engine);         // rewrites the frame every run
            data.Add("xdp_flow_counter", Udp, engine);     // hash maps, spin lock
            data.Add("xdp_loops", Tcp, engine);            // bpf_xdp_load_bytes-free path of a frame-needing program
            data.Add("xdp_loops", "02000000000202000000000108004500002c00014000401126be0a0000010a000002138800350018a8c730313233343536373839616263646566", engine);
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void RunXdpRepeat_SevenRuns_SameAsSevenSingleRuns(string name, string hex, string engine)
    {
        string path = Path.Combine(TestPaths.CorpusDir, "xdp", name + ".v3.o");
        Skip.IfNot(File.Exists(path), $"{path} is not built");
        byte[] frame = Convert.FromHexString(hex);
        const int Runs = 7;

        using var a = Open(path);
        using var b = Open(path);
        using var repeated = Bench(a, name, engine);
        using var single = Bench(b, name, engine);
        Assert.Null(repeated.Load(frame));
        Assert.Null(single.Load(frame));

        ulong last = repeated.Runner.Engine.RunXdpRepeat(repeated.Frame, Runs);
        ulong r0 = 0;
        for (int i = 0; i < Runs; i++)
        {
            r0 = single.Runner.Engine.RunXdp(single.Frame).R0;
        }

        Assert.Equal(r0, last);
        Assert.Equal(single.Frame.Packet.ToArray(), repeated.Frame.Packet.ToArray());
        Assert.Equal(MapsJson.Format(b.Maps), MapsJson.Format(a.Maps));
        Assert.Null(repeated.Runner.Env.Xdp);
    }

    [SkippableFact]
    public void RunXdpRepeat_LoopsOnJit_RunsLeanWithTheFrameAndCountsEveryCallback()
    {
        // xdp_loops calls bpf_xdp_load_bytes (it needs the frame, nothing else of the run): the unchecked engine runs
        // it without registering regions, with Env.Xdp set only during each run. Each UDP run calls the callback
        // once per datagram word plus the stopping call: the PERCPU_ARRAY counter grows by the same amount per run.
        string path = Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_loops.v3.o");
        Skip.IfNot(File.Exists(path), $"{path} is not built");
        using var obj = Open(path);
        using var bench = Bench(obj, "xdp_loops", "jit");
        Assert.Null(bench.Load(Convert.FromHexString(
            "02000000000202000000000108004500002c00014000401126be0a0000010a000002138800350018a8c730313233343536373839616263646566")));
        ulong after1 = Counter(obj);
        Assert.Equal(2UL, bench.Runner.Engine.RunXdpRepeat(bench.Frame, 3));   // XDP_PASS: the checksum verifies
        ulong after4 = Counter(obj);
        Assert.True(after1 > 0);
        Assert.Equal(4 * after1, after4);
        Assert.Null(bench.Runner.Env.Xdp);
        Assert.Equal(-1, bench.Runner.Env.PacketRegionIndex);
    }

    [Theory]
    [InlineData("interp")]
    [InlineData("jit-checked")]
    public void RunXdpRepeat_FaultOnTheThirdRun_SameFaultAndTheEngineRunsAgain(string engine)
    {
        // A counter in an array; the third run reads 8 bytes past the packet's end. The loop stops there with the
        // fault a single run gives, the run's state undone: the same engine then runs the next frame normally.
        const string Asm = """
            r6 = r1
            r1 = 0
            *(u32 *)(r10 -4) = r1
            r2 = r10
            r2 += -4
            r1 = map[idx:0]
            call bpf_map_lookup_elem
            if r0 == 0 goto +8
            r1 = *(u64 *)(r0 +0)
            r1 += 1
            *(u64 *)(r0 +0) = r1
            if r1 != 3 goto +4
            r2 = *(u32 *)(r6 +4)
            r0 = *(u64 *)(r2 +0)
            r0 = 2
            exit
            r0 = 2
            exit
            """;
        var maps = new[] { Xdp.Map("counts", MapType.Array, 4, 8, 1) };
        var programs = new[] { Xdp.Prog(Asm) };
        using var obj = LoadedObject.Create(maps, programs, new LoadOptions { PossibleCpus = 1 });
        using var bench = new XdpBench(obj, "prog", null, engine == "jit-checked" ? JitEngineFactory.Checked : null,
            new XdpBenchOptions { Repeat = 1, WarmupRuns = 0, Warmup = TimeSpan.Zero });
        Assert.Null(bench.Load(Xdp.Frame()));                     // run 1 (the load's check)
        var e = Assert.Throws<ExecutionFaultException>(() => bench.Runner.Engine.RunXdpRepeat(bench.Frame, 10));
        Assert.Equal(14, e.Pc);                                  // the 8-byte load at data_end (lddw takes two slots)
        Assert.StartsWith("out-of-bounds load of 8 bytes", e.Reason, StringComparison.Ordinal);
        Assert.Null(bench.Runner.Env.Xdp);
        Assert.Equal(2UL, bench.Runner.Engine.RunXdpRepeat(bench.Frame, 2));
        Assert.Contains("\"value\":\"0500000000000000\"", MapsJson.Format(obj.Maps).Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("jit")]
    [InlineData("jit-checked")]
    [InlineData("interp")]
    public void RunXdpRepeat_BudgetRunsOut_SameFaultAsOneRunAndStateUndone(string engine)
    {
        // xdp_loops over the UDP frame with a budget of 100 instructions: the loop of runs stops at the first, with the
        // fault (instruction and message) a single run gives; Env.Xdp is null again and the engine runs on.
        string path = Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_loops.v3.o");
        Skip.IfNot(File.Exists(path), $"{path} is not built");
        byte[] udp = Convert.FromHexString(
            "02000000000202000000000108004500002c00014000401126be0a0000010a000002138800350018a8c730313233343536373839616263646566");
        var options = new RunOptions { InstructionBudget = 100 };
        using var a = Open(path);
        using var b = Open(path);
        using var repeated = Bench(a, "xdp_loops", engine, options);
        using var single = Bench(b, "xdp_loops", engine, options);
        var expected = single.Load(udp);
        Assert.NotNull(expected);
        Assert.NotNull(expected.Insn);

        // Load refuses a frame whose checking run faults; run the repeat loop on a frame loaded by a passing run.
        using var c = Open(path);
        using var loaded = Bench(c, "xdp_loops", engine, null);
        Assert.Null(loaded.Load(udp));
        var e = Assert.Throws<ExecutionFaultException>(() => repeated.Runner.Engine.RunXdpRepeat(loaded.Frame, 5));
        Assert.Equal(expected.Insn, e.Pc);
        Assert.Contains(e.Reason, expected.ToString(), StringComparison.Ordinal);
        Assert.Null(repeated.Runner.Env.Xdp);
    }

    private static ulong Counter(LoadedObject obj)
    {
        var map = obj.Maps.Single(m => m.Spec.Name == "callback_calls");
        var value = new byte[map.UserValueSize];
        Assert.Equal(0, map.UserLookup(new byte[4], value));
        return BitConverter.ToUInt64(value);
    }

    private static LoadedObject Open(string path) => LoadedObject.Open(path, new LoadOptions { PossibleCpus = 1 });

    private static XdpBench Bench(LoadedObject obj, string name, string engine, RunOptions? options = null)
    {
        IBpfEngineFactory? factory = engine switch
        {
            "jit-checked" => JitEngineFactory.Checked,
            "jit" => JitEngineFactory.Unchecked([Verify(obj, name)]),
            _ => null,
        };
        return new XdpBench(obj, name, options, factory, new XdpBenchOptions { Repeat = 1, WarmupRuns = 0, Warmup = TimeSpan.Zero });
    }

    private static VerifiedProgram Verify(LoadedObject obj, string name)
    {
        var spec = obj.GetProgram(name);
        return Sealing.TryVerify(spec, [.. obj.Maps.Select(m => m.Spec)], obj.Prepare(spec), null, out var result)
            ?? throw new InvalidOperationException("rejected: " + result.Error);
    }
}
