using VethXdp.Jit.Emitters;
using VethXdp.Verifier;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Jit.Tests;

/// <summary>Engine <c>jit</c>'s fast paths: the context-pointer analysis behind direct context loads, the lean XDP run
/// (no regions, no Env.Xdp) for programs that call no helper or only run-state-free ones, the verified map helpers,
/// and a helper's fault on those paths reported as the interpreter reports it.</summary>
public class UncheckedFastPathTests
{
    [Fact]
    public void Analyze_R1AtEntryAndItsCopies_AreTheContext()
    {
        var states = Analyze("r6 = r1\nr2 = *(u32 *)(r6 +0)\nr3 = *(u32 *)(r1 +4)\nr0 = 2\nexit");
        Assert.Equal(CtxPointers.Ctx, states[1]);
        Assert.Equal(CtxPointers.Ctx, states[2]);
    }

    [Fact]
    public void Analyze_PacketPointerLoadedFromTheContext_IsNotTheContext()
    {
        var states = Analyze("r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r2 +0)\nr0 = 2\nexit");
        Assert.Equal(CtxPointers.Ctx, states[0]);
        Assert.Equal(CtxPointers.NotCtx, states[1]);
    }

    [Fact]
    public void Analyze_ArithmeticOnTheContext_IsUnknown()
    {
        var states = Analyze("r2 = r1\nr2 += 4\nr3 = *(u32 *)(r2 +0)\nr0 = 2\nexit");
        Assert.Equal(CtxPointers.Unknown, states[2]);
    }

    [Fact]
    public void Analyze_PathsJoiningContextAndOther_IsUnknown()
    {
        var states = Analyze("r2 = r10\nif r3 == 0 goto +1\nr2 = r1\nr4 = *(u32 *)(r2 +0)\nr0 = 2\nexit");
        Assert.Equal(CtxPointers.Unknown, states[3]);
    }

    [Fact]
    public void Analyze_ContextSpilledToTheStack_EveryLoadedPointerIsUnknown()
    {
        var states = Analyze("*(u64 *)(r10 -8) = r1\nr2 = *(u64 *)(r10 -8)\nr3 = *(u32 *)(r2 +0)\nr0 = 2\nexit");
        Assert.Equal(CtxPointers.Unknown, states[2]);
    }

    [Fact]
    public void Analyze_HelperResultAndSubprogramArguments_AreNotAssumed()
    {
        var states = Analyze("""
            call bpf_ktime_get_ns
            r2 = *(u32 *)(r0 +0)
            call f
            r0 = 2
            exit
            f:
            r3 = *(u32 *)(r1 +0)
            r0 = 0
            exit
            """);
        Assert.Equal(CtxPointers.NotCtx, states[1]);
        Assert.Equal(CtxPointers.Unknown, states[5]);
    }

    [Fact]
    public void RunWithMemory_UncheckedLoadThroughR1_ReadsTheMemoryNotAContext()
    {
        // r1 is where the analysis puts the context, but a memory run has none: the load reads the bytes.
        var code = JitCompiler.CompileUnverified(new ExecutableProgram(BpfProgram.Create(Assembler.Assemble("r0 = *(u32 *)(r1 +4)\nexit"))));
        using var jit = new JitEngine(code);
        var memory = new byte[] { 0, 0, 0, 0, 0x78, 0x56, 0x34, 0x12 };
        Assert.Equal(0x12345678UL, jit.RunWithMemory(memory).R0);
    }

    [Fact]
    public void RunXdp_HelperFreeVerifiedProgram_ReadsContextAndLeavesNoRunState()
    {
        // data_end - data, ingress_ifindex and rx_queue_index through direct context loads, on a lean run.
        const string asm = """
            r2 = *(u32 *)(r1 +0)
            r3 = *(u32 *)(r1 +4)
            r4 = *(u32 *)(r1 +12)
            r5 = *(u32 *)(r1 +16)
            r0 = r3
            r0 -= r2
            r4 <<= 16
            r0 += r4
            r5 <<= 24
            r0 += r5
            exit
            """;
        var (engine, env, obj) = Sealed(asm, []);
        using (obj)
        using (engine)
        {
            var buffer = new XdpBuffer();
            Assert.Equal(0, buffer.Load(Xdp.Frame(60), 7, 3));
            int regions = env.Regions.Count;
            var r = engine.RunXdp(buffer);
            Assert.Equal(60UL + (7UL << 16) + (3UL << 24), r.R0);
            Assert.Equal(11, r.InstructionsExecuted);
            Assert.Null(env.Xdp);
            Assert.Equal(-1, env.PacketRegionIndex);
            Assert.Equal(regions, env.Regions.Count);
            Assert.Equal(r, engine.RunXdp(buffer));
        }
    }

    [Fact]
    public void RunXdp_VerifiedMapHelpers_SameCountsAsInterp()
    {
        // Lookup, update with BPF_NOEXIST on a miss, delete every fourth run: the verified map helpers (lean run).
        const string asm = """
            r6 = *(u32 *)(r1 +12)
            *(u32 *)(r10 -4) = r6
            *(u64 *)(r10 -16) = 1
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            if r0 == 0 goto insert
            r1 = *(u64 *)(r0 +0)
            r1 += 1
            *(u64 *)(r0 +0) = r1
            r1 &= 3
            if r1 != 0 goto done
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_delete_elem
            goto done
            insert:
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            r3 = r10
            r3 += -16
            r4 = 1
            call bpf_map_update_elem
            done:
            r0 = 2
            exit
            """;
        var frames = new byte[10][];
        Array.Fill(frames, Xdp.Frame());
        var maps = new[] { Xdp.Map("counts", MapType.Hash, 4, 8, 16) };
        var interp = RunAll(asm, maps, frames, null);
        var jit = RunAll(asm, maps, frames, new SealingFactory());
        Assert.Equal(interp, jit);
        Assert.Contains("\"counts\"", jit, StringComparison.Ordinal);
    }

    [Fact]
    public void RunXdp_LeanRunHelperFault_SameFaultAsInterp()
    {
        // The program was verified with its map, then runs in an environment that has no maps: the lookup's map
        // pointer resolves to nothing, and both engines fault at the call with the helper's message.
        const string asm = """
            *(u32 *)(r10 -4) = 0
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            r0 = 2
            exit
            """;
        var (engine, _, obj) = Sealed(asm, [Xdp.Map("a", MapType.Array, 4, 8, 1)]);
        using (obj)
        using (engine)
        using (var bare = new JitEngine(engine.Program))
        using (var interp = new BpfInterpreter(engine.Executable, null, null, null))
        {
            var buffer = new XdpBuffer();
            Assert.Equal(0, buffer.Load(Xdp.Frame(), 1, 0));
            var expected = Assert.Throws<ExecutionFaultException>(() => interp.RunXdp(buffer));
            var actual = Assert.Throws<ExecutionFaultException>(() => bare.RunXdp(buffer));
            Assert.Equal(5, actual.Pc);   // the call (the map load takes two slots)
            Assert.Equal(expected.Pc, actual.Pc);
            Assert.Equal(expected.Message, actual.Message);
        }
    }

    [SkippableFact]
    public void RunXdp_LeanRunFaultsInsideACall_DropsTheCalleesFrame()
    {
        // A budget of 3 runs out inside the callee, after its frame was registered: the fault is the interpreter's,
        // and the region table is as before the run.
        const string asm = "call f\nexit\nf:\nr0 = 1\nr0 += 1\nr0 += 1\nr0 += 1\nexit";
        using var obj = LoadedObject.Create([], [Xdp.Prog(asm)], new LoadOptions { PossibleCpus = 1 });
        var spec = obj.GetProgram("prog");
        var exe = obj.Prepare(spec);
        var token = Sealing.TryVerify(spec, [], exe, null, out var result);
        Skip.If(token is null, "the verifier refuses the program: " + result.Error);
        var env = new RuntimeEnv();
        var options = new InterpreterOptions { InstructionBudget = 3 };
        using var engine = new JitEngine(JitCompiler.Compile(token!), options, env);
        using var interp = new BpfInterpreter(exe, null, options, null);
        var buffer = new XdpBuffer();
        Assert.Equal(0, buffer.Load(Xdp.Frame(), 1, 0));
        int before = env.Regions.Count;
        var expected = Assert.Throws<ExecutionFaultException>(() => interp.RunXdp(buffer));
        var actual = Assert.Throws<ExecutionFaultException>(() => engine.RunXdp(buffer));
        Assert.Equal(FaultKind.BudgetExceeded, actual.Kind);
        Assert.Equal(expected.Pc, actual.Pc);
        Assert.Equal(expected.Message, actual.Message);
        Assert.Equal(before, env.Regions.Count);
    }

    [SkippableFact]
    public void RunXdp_CorpusLoopsInlined_TenThousandRunsAllocateNothing()
    {
        // xdp_loops: a UDP checksum summed by a bpf_loop callback (inlined), which calls map_lookup_elem and
        // xdp_load_bytes; the frame is the first of pcaps/checksums.pcap (a valid checksum: XDP_PASS).
        string path = Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_loops.v4.o");
        Skip.IfNot(File.Exists(path), $"{path} is not built");
        using var obj = LoadedObject.Open(path, new LoadOptions { PossibleCpus = 1 });
        var spec = obj.GetProgram("xdp_loops");
        var exe = obj.Prepare(spec);
        var token = Sealing.TryVerify(spec, [.. obj.Maps.Select(m => m.Spec)], exe, null, out var result)
            ?? throw new InvalidOperationException("rejected: " + result.Error);
        var env = new RuntimeEnv { Maps = obj.Maps, PossibleCpus = obj.PossibleCpus };
        obj.Maps.RegisterRegions(env.Regions);
        using var engine = new JitEngine(JitCompiler.Compile(token, obj.Helpers), null, env);
        Assert.Contains("LOOP_", JitCompiler.DumpIl(token, obj.Helpers), StringComparison.Ordinal);
        var buffer = new XdpBuffer();
        Assert.Equal(0, buffer.Load(Convert.FromHexString(
            "02000000000202000000000108004500002c00014000401126be0a0000010a000002138800350018a8c730313233343536373839616263646566"), 1, 0));
        var first = engine.RunXdp(buffer);
        Assert.Equal(2UL, first.R0);
        ulong sum = 0;
        long insns = 0;
        int runs = 0;

        // Windows of runs after a warm-up (SteadyState): a one-off allocation of the runtime's tiering shows in one
        // window only, an allocation per run in all of them.
        long allocated = SteadyState.AllocatedBytes(() =>
        {
            var r = engine.RunXdp(buffer);
            sum += r.R0;
            insns += r.InstructionsExecuted;
            runs++;
        }, warm: 2_000, count: 10_000);

        Assert.Equal(0, allocated);
        Assert.Equal(2UL * (ulong)runs, sum);
        Assert.Equal(runs * first.InstructionsExecuted, insns);
        Assert.Null(env.Xdp);
    }

    [Fact]
    public void XdpBuffer_SmallCopiesInTheLinearPart_MatchTheFrame()
    {
        // CopyOut/CopyIn of a few bytes take the byte-by-byte path; a range that reaches the end still copies.
        var buffer = new XdpBuffer();
        var frame = Xdp.Frame(60);
        Assert.Equal(0, buffer.Load(frame, 1, 0));
        var two = new byte[2];
        buffer.CopyOut(10, two);
        Assert.Equal(frame.AsSpan(10, 2).ToArray(), two);
        var tail = new byte[16];
        buffer.CopyOut(44, tail);
        Assert.Equal(frame.AsSpan(44, 16).ToArray(), tail);
        buffer.CopyIn(58, [0xAA, 0xBB]);
        var packet = buffer.Packet.ToArray();
        Assert.Equal(0xAA, packet[58]);
        Assert.Equal(0xBB, packet[59]);
        Assert.Equal(frame.AsSpan(0, 58).ToArray(), packet.AsSpan(0, 58).ToArray());
    }

    // bpf_loop inlined by the unchecked code (the callback as a BPF-to-BPF call in the method), against the helper.

    [Fact]
    public void InlineLoop_CallbackCountsInstructions_AsInterpreter()
    {
        // fp-8 = 0; bpf_loop(10, cb, fp-8, 0); r0 = *(fp-8); exit | cb: *(ctx) += i; r0 = 0; exit
        var o = Unchecked(Asm.Prog(
            Asm.I(Op.StDw, Asm.R10, off: -8, imm: 0), Asm.Mov64(Asm.R1, 10), Asm.LdFunc(Asm.R2, 7), Asm.Mov64(Asm.R3, Asm.R10),
            Asm.I(Op.Add64Imm, Asm.R3, imm: -8), Asm.Mov64(Asm.R4, 0), Asm.Call(181), Asm.I(Op.LdxDw, Asm.R0, Asm.R10, -8), Asm.Exit(),
            Asm.I(Op.LdxDw, Asm.R3, Asm.R2, 0), Asm.I(Op.Add64Reg, Asm.R3, Asm.R1), Asm.I(Op.StxDw, Asm.R2, Asm.R3, 0), Asm.Mov64(Asm.R0, 0), Asm.Exit()));
        Assert.Equal(45UL, o.R0);
        Assert.Equal(9 + (10 * 5), o.Instructions);
    }

    [Theory]
    [InlineData(10, 0, 4UL)]                       // the callback stops at i == 3: i + 1
    [InlineData(2, 0, 2UL)]                        // the count is reached
    [InlineData(0, 0, 0UL)]                        // no call
    [InlineData(10, 1, 0xFFFF_FFFF_FFFF_FFEAUL)]   // flags: -EINVAL
    [InlineData(9_000_000, 0, 0xFFFF_FFFF_FFFF_FFF9UL)]   // above 8M: -E2BIG
    public void InlineLoop_ResultAndCount_AsInterpreter(int loops, int flags, ulong expected)
    {
        // bpf_loop(loops, cb, 0, flags); exit | cb: r0 = i == 3; exit
        var o = Unchecked(Asm.Prog(
            Asm.Mov64(Asm.R1, loops), Asm.LdFunc(Asm.R2, 5), Asm.Mov64(Asm.R3, 0), Asm.Mov64(Asm.R4, flags), Asm.Call(181), Asm.Exit(),
            Asm.Mov64(Asm.R0, 0), Asm.I(Op.JneImm, Asm.R1, off: 1, imm: 3), Asm.Mov64(Asm.R0, 1), Asm.Exit()));
        Assert.Equal(expected, o.R0);
    }

    [Fact]
    public void InlineLoop_ConstantCallback_IsInlinedOnlyUnchecked()
    {
        var program = BpfProgram.Create(Asm.Prog(
            Asm.Mov64(Asm.R1, 3), Asm.LdFunc(Asm.R2, 5), Asm.Mov64(Asm.R3, 0), Asm.Mov64(Asm.R4, 0), Asm.Call(181), Asm.Exit(),
            Asm.Mov64(Asm.R0, 0), Asm.Exit()));
        Assert.Contains("LOOP_5_TOP:", JitCompiler.DumpIl(program, JitMode.Unchecked), StringComparison.Ordinal);
        Assert.DoesNotContain("LOOP_5_TOP:", JitCompiler.DumpIl(program, JitMode.Checked), StringComparison.Ordinal);
    }

    [Fact]
    public void InlineLoop_BudgetRunsOutInCallback_SameFaultAsInterpreter()
    {
        var slots = Asm.Prog(
            Asm.Mov64(Asm.R1, 100), Asm.LdFunc(Asm.R2, 5), Asm.Mov64(Asm.R3, 0), Asm.Mov64(Asm.R4, 0), Asm.Call(181), Asm.Exit(),
            Asm.Mov64(Asm.R0, 0), Asm.Mov64(Asm.R0, 0), Asm.Exit());
        var o = Unchecked(slots, budget: 50);
        Assert.Equal(FaultKind.BudgetExceeded, o.Fault);
    }

    [Fact]
    public void InlineLoop_NestedPastEightFrames_SameFaultAsInterpreter()
    {
        // The callback calls bpf_loop with itself as the callback: the ninth frame faults at the call.
        var o = Unchecked(Asm.Prog(
            Asm.Mov64(Asm.R1, 1), Asm.LdFunc(Asm.R2, 5), Asm.Mov64(Asm.R3, 0), Asm.Mov64(Asm.R4, 0), Asm.Call(181), Asm.Exit(),
            Asm.Mov64(Asm.R1, 1), Asm.LdFunc(Asm.R2, -2), Asm.Mov64(Asm.R3, 0), Asm.Mov64(Asm.R4, 0), Asm.Call(181), Asm.Exit()));
        Assert.Equal(FaultKind.CallStackExceeded, o.Fault);
        Assert.Equal(12, o.FaultPc);
    }

    // Runs on the interpreter and on unchecked code (safe by construction), asserts they agree, returns the JIT's.
    private static Outcome Unchecked(Instruction[] slots, long budget = InterpreterOptions.DefaultInstructionBudget)
    {
        var interp = Engines.Interp(slots, new byte[16], budget: budget);
        var jit = Engines.Jit(slots, new byte[16], budget: budget, unchecked_: true);
        Engines.AssertSame(interp, jit);
        return jit;
    }

    private static int[] Analyze(string asm)
    {
        var slots = Assembler.Assemble(asm).ToArray();
        var flow = FlowInfo.Analyze(slots, checkedMode: false, extraEntry: -1);
        return CtxPointers.Analyze(slots, flow.Entries);
    }

    // The program verified and compiled unchecked, with its own environment (the object's maps registered).
    private static (JitEngine Engine, RuntimeEnv Env, LoadedObject Obj) Sealed(string asm, MapSpec[] maps)
    {
        var obj = LoadedObject.Create(maps, [Xdp.Prog(asm)], new LoadOptions { PossibleCpus = 1 });
        var spec = obj.GetProgram("prog");
        var exe = obj.Prepare(spec);
        var token = Sealing.TryVerify(spec, [.. maps], exe, null, out var result)
            ?? throw new InvalidOperationException("rejected: " + result.Error);
        var env = new RuntimeEnv { Maps = obj.Maps, PossibleCpus = obj.PossibleCpus };
        obj.Maps.RegisterRegions(env.Regions);
        var engine = new JitEngine(JitCompiler.Compile(token, obj.Helpers), null, env);
        Assert.Equal(JitMode.Unchecked, engine.Program.Mode);
        return (engine, env, obj);
    }

    private static string RunAll(string asm, MapSpec[] maps, byte[][] frames, IBpfEngineFactory? factory)
    {
        using var obj = LoadedObject.Create(maps, [Xdp.Prog(asm)], new LoadOptions { PossibleCpus = 1 });
        using var runner = new XdpRunner(obj, null, null, factory);
        var sb = new System.Text.StringBuilder();
        foreach (var f in frames)
        {
            var r = runner.Run(f);
            sb.Append(r.Error?.ToString() ?? r.Retval.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(' ').Append(r.InstructionsExecuted).Append('\n');
        }

        return sb.Append(MapsJson.Format(obj.Maps, obj.Names)).ToString();
    }

    // Verifies the program it is given and compiles it unchecked (as UncheckedJitTests' factory).
    private sealed class SealingFactory : IBpfEngineFactory
    {
        public string Name => JitEngineFactory.UncheckedName;

        public IBpfEngine Create(ExecutableProgram program, HelperTable? helpers, InterpreterOptions? options, RuntimeEnv? env)
        {
            var spec = (ProgramSpec)program.Tag!;
            var specs = env?.Maps is MapSet set ? set.Select(m => m.Spec).ToArray() : [];
            var token = Sealing.TryVerify(spec, specs, program, null, out var result)
                ?? throw new InvalidOperationException($"{spec.Name}: rejected: {result.Error}");
            return JitEngineFactory.Unchecked([token]).Create(program, helpers, options, env);
        }
    }
}
