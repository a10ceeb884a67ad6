using System.Text.Json.Nodes;
using VethXdp.Verifier;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Xdp;

namespace VethXdp.Jit.Tests;

/// <summary>Engine <c>jit</c> on programs our verifier accepts: sealing, the same results as the interpreter on every
/// accepted corpus program, the stack reading as the interpreter's, and no allocation per run.</summary>
public class UncheckedJitTests
{
    private static readonly Lazy<JsonNode?> s_manifest = new(() =>
    {
        string path = Path.Combine(TestPaths.CorpusDir, "manifest.json");
        return File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) : null;
    });

    public static TheoryData<string, string, int> Runs()
    {
        var data = new TheoryData<string, string, int>();
        if (s_manifest.Value?["objects"] is not JsonArray objects)
        {
            data.Add("(none)", "v4", -1);
            return data;
        }

        foreach (var obj in objects)
        {
            int runs = obj!["runs"]?.AsArray().Count ?? 0;
            foreach (var version in new[] { "v2", "v4" })
            {
                for (int i = 0; i < runs; i++)
                {
                    data.Add(obj["name"]!.GetValue<string>(), version, i);
                }
            }
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Runs))]
    public void CorpusRun_VerifierAccepts_JitSameAsInterp(string objectName, string version, int runIndex)
    {
        Skip.If(s_manifest.Value is null, "corpus/manifest.json is absent");
        var obj = s_manifest.Value["objects"]!.AsArray().First(o => o!["name"]!.GetValue<string>() == objectName)!;
        var run = obj["runs"]![runIndex]!;
        var needs = obj["needs"]?.AsArray().Select(n => n!.GetValue<string>()).ToArray() ?? [];
        Skip.If(needs.Contains("sockets") || needs.Contains("device-bound-load"), "the run needs what the environment provides");
        var environment = s_manifest.Value["environments"]![run["environment"]!.GetValue<string>()]!;
        Skip.If(environment["netns"]?.GetValue<bool>() == true, "the run needs a network built from the manifest");
        string objectPath = Path.Combine(TestPaths.CorpusDir, obj["objects"]![version]!.GetValue<string>());
        Skip.IfNot(File.Exists(objectPath), $"{objectPath} is not built");
        var elf = ElfObjectReader.Load(objectPath);
        string program = run["program"]!.GetValue<string>();
        var spec = elf.Programs.First(p => p.Name == program);
        var verdict = BpfVerifier.Verify(spec, elf.Maps);
        Skip.IfNot(verdict.Accepted, $"our verifier rejects it (so it runs on interp): {verdict.Error}");

        var options = new RunOptions
        {
            Ifindex = environment["ingressIfindex"]?.GetValue<uint>() ?? 1,
            RxQueue = environment["rxQueueIndex"]?.GetValue<uint>() ?? 0,
        };
        var frames = CorpusDifferentialTests.ReadPcap(Path.Combine(TestPaths.CorpusDir, run["pcap"]!.GetValue<string>()));
        var interp = CorpusDifferentialTests.RunAll(elf, run, program, options, frames, null);
        var factory = new SealingFactory();
        var jit = CorpusDifferentialTests.RunAll(elf, run, program, options, frames, factory);
        Assert.Equal(1, factory.Sealed);
        for (int i = 0; i < interp.Packets.Count; i++)
        {
            Assert.True(interp.Packets[i] == jit.Packets[i], $"packet {i}:\n  interp: {interp.Packets[i]}\n  jit:    {jit.Packets[i]}");
        }

        Assert.Equal(interp.Maps, jit.Maps);
    }

    [Fact]
    public void Seal_RejectedResult_Throws()
    {
        var prog = BpfProgram.Create([Asm.Exit()], "xdp_bad");
        var result = BpfVerifier.Verify(prog, ProgramType.Xdp);
        Assert.False(result.Accepted);
        var spec = Spec(prog);
        Assert.Throws<InvalidOperationException>(() => result.Seal(spec, new ExecutableProgram(prog)));
    }

    [Fact]
    public void Seal_OtherSlots_Throws()
    {
        var good = BpfProgram.Create([Asm.Mov64(Asm.R0, 2), Asm.Exit()], "xdp_ok");
        var other = BpfProgram.Create([Asm.Mov64(Asm.R0, 1), Asm.Exit()], "xdp_other");
        var result = BpfVerifier.Verify(good, ProgramType.Xdp);
        Assert.True(result.Accepted, result.Log);
        var e = Assert.Throws<ArgumentException>(() => result.Seal(Spec(good), new ExecutableProgram(other)));
        Assert.Contains("insn 0", e.Message, StringComparison.Ordinal);
        Assert.Equal("verified xdp_ok", result.Seal(Spec(good), new ExecutableProgram(good)).ToString());
    }

    [Fact]
    public void TryVerify_Accepted_RecordsStackDepth()
    {
        // *(u64 *)(r10 -16) = 1; r0 = *(u64 *)(r10 -16); exit: depth 16.
        var prog = BpfProgram.Create([Asm.I(Op.StDw, Asm.R10, 0, -16, 1), Asm.I(Op.LdxDw, Asm.R0, Asm.R10, -16), Asm.Exit()], "xdp_stack");
        var token = Sealing.TryVerify(Spec(prog), [], new ExecutableProgram(prog), null, out var result);
        Assert.NotNull(token);
        Assert.True(result.Accepted);
        Assert.True(VerifiedStack.TryGetDepth(token, 0, out int depth));
        Assert.Equal(16, depth);
    }

    [Fact]
    public void UninitialisedStackRead_SecondRun_ReadsZeroAsInterp()
    {
        // r0 = *(u64 *)(r10 -8) (never written before: 0 in the interpreter's fresh frame); then write 42 there. The
        // second run must read 0 again: the unchecked frame is cleared as deep as the verified stack depth.
        var prog = BpfProgram.Create(
            [Asm.I(Op.LdxDw, Asm.R0, Asm.R10, -8), Asm.I(Op.StDw, Asm.R10, 0, -8, 42), Asm.I(Op.And64Imm, Asm.R0, 0, 0, 3), Asm.Exit()],
            "xdp_uninit");
        var result = BpfVerifier.Verify(prog, ProgramType.Xdp);
        Skip.IfNot(result.Accepted, "the verifier refuses an uninitialised stack read: " + result.Error);
        var exe = new ExecutableProgram(prog);
        using var jit = new JitEngine(JitCompiler.Compile(result.Seal(Spec(prog), exe)));
        Assert.Equal(JitMode.Unchecked, jit.Program.Mode);
        var frame = new byte[64];
        Assert.Equal(0UL, jit.RunXdp(frame, 1, 0).R0);
        Assert.Equal(0UL, jit.RunXdp(frame, 1, 0).R0);
    }

    [Fact]
    public void XdpBuffer_JitUnchecked_TenThousandRunsAllocateNothingAndKeepRegions()
    {
        // A parse-and-count program: map lookup with a stack key, packet reads, an atomic add.
        const string asm = """
            r2 = *(u32 *)(r1 +0)
            r3 = *(u32 *)(r1 +4)
            r4 = r2
            r4 += 14
            if r4 > r3 goto drop
            r5 = *(u8 *)(r2 +12)
            *(u32 *)(r10 -4) = r5
            r2 = r10
            r2 += -4
            r1 = map[idx:0]
            call bpf_map_lookup_elem
            if r0 == 0 goto pass
            r1 = 1
            lock *(u64 *)(r0 +0) += r1
            pass:
            r0 = 2
            exit
            drop:
            r0 = 1
            exit
            """;
        using var obj = LoadedObject.Create([Xdp.Map("counts", MapType.Array, 4, 8, 256)], [Xdp.Prog(asm)], new LoadOptions { PossibleCpus = 1 });
        var factory = new SealingFactory();
        using var runner = new XdpRunner(obj, null, null, factory);
        Assert.Equal("jit", runner.Engine.EngineName);
        var buffer = new XdpBuffer();
        Assert.Equal(0, buffer.Load(Xdp.Frame(64), 1, 0));
        var engine = runner.Engine;
        Assert.Equal(2UL, engine.RunXdp(buffer).R0);
        int regions = engine.Env.Regions.Count;

        long before = GC.GetAllocatedBytesForCurrentThread();
        ulong sum = 0;
        for (int i = 0; i < 10_000; i++)
        {
            sum += engine.RunXdp(buffer).R0;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(20_000UL, sum);
        Assert.Equal(regions, engine.Env.Regions.Count);
    }

    private static ProgramSpec Spec(BpfProgram prog) =>
        new() { Name = prog.Name, SectionName = "xdp", Type = ProgramType.Xdp, Slots = prog.Slots.ToArray() };

    /// <summary>An engine factory that verifies the program it is given (its loader tag is the spec) and compiles it
    /// unchecked: what the commands do for the default engine.</summary>
    private sealed class SealingFactory : IBpfEngineFactory
    {
        public int Sealed { get; private set; }

        public string Name => JitEngineFactory.UncheckedName;

        public IBpfEngine Create(ExecutableProgram program, HelperTable? helpers, InterpreterOptions? options, RuntimeEnv? env)
        {
            var spec = (ProgramSpec)program.Tag!;
            var maps = env?.Maps is MapSet set ? set.Select(m => m.Spec).ToArray() : [];
            var token = Sealing.TryVerify(spec, maps, program, null, out var result)
                ?? throw new InvalidOperationException($"{spec.Name}: rejected: {result.Error}");
            Sealed++;
            return JitEngineFactory.Unchecked([token]).Create(program, helpers, options, env);
        }
    }
}
