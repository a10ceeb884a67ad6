using System.Globalization;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Tests.Globals;

/// <summary>Global functions (BTF_FUNC_GLOBAL subprograms): our verifier on corpus/verifier/objects gives the
/// kernel-confirmed decision, errno, message lines, log lines and processed count of each <c>.expect</c>.</summary>
public sealed class GlobalFunctionTests
{
    private static string ObjectsDir => Path.Combine(TestPaths.CorpusDir, "verifier", "objects");

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.EnumerateFiles(ObjectsDir, "*.expect").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(f));
        }

        return data;
    }

    private static (ProgramSpec Spec, BpfObject Obj) Program(string name, string? program = null)
    {
        var obj = ElfObjectReader.Load(Path.Combine(ObjectsDir, name + ".o"));
        return (obj.Programs.Single(p => p.Name == (program ?? name)), obj);
    }

    private static VerificationResult Verify(ProgramSpec spec, BpfObject obj, VerifierLogLevel level) =>
        BpfVerifier.Verify(spec, obj.Maps, new VerifierOptions { LogLevel = level });

    /// <summary>Objects where our verifier knowingly still differs from the kernel, outside the global-function code,
    /// with the reason (remove an entry once the difference is fixed; the kernel test keeps checking the object).</summary>
    private static readonly Dictionary<string, string> s_knownDifferences = new(StringComparer.Ordinal)
    {
    };

    [SkippableTheory]
    [MemberData(nameof(Names))]
    public void Verify_Object_MatchesKernelExpect(string name)
    {
        Skip.If(s_knownDifferences.TryGetValue(name, out string? why), why);
        var expect = ObjectExpectation.Read(Path.Combine(ObjectsDir, name + ".expect"));
        var (spec, obj) = Program(name, expect.Program);
        var r1 = Verify(spec, obj, VerifierLogLevel.Level1);
        var r2 = Verify(spec, obj, VerifierLogLevel.Level2 | VerifierLogLevel.Stats);

        Assert.True(expect.Accept == r1.Accepted, $"{name}: expected {(expect.Accept ? "accept" : "reject")}\n{r1.Log}");
        if (!expect.Accept)
        {
            Assert.Equal(expect.Errno, r1.Error!.ErrnoName);
            Assert.Equal(expect.Messages, ObjectExpectation.LastLines(r1.Log, expect.Messages.Count));
            if (expect.LogLines.LastOrDefault(l => l.StartsWith("Validating ", StringComparison.Ordinal)) is { } validating)
            {
                // rejected in a global function's own pass: the earlier passes left nothing in the level-1 log
                Assert.StartsWith(validating + "\n", r1.Log, StringComparison.Ordinal);
            }
        }

        if (expect.Accept && expect.LogLines.LastOrDefault(l => l.EndsWith(" is safe for any args that match its prototype", StringComparison.Ordinal)) is { } safe)
        {
            // each successful pass reset the level-1 log; do_check_subprogs printed its last line after the reset
            Assert.Equal([safe], ObjectExpectation.LastLines(r1.Log, int.MaxValue));
        }

        ObjectExpectation.AssertInOrder(expect.LogLines, r2.Log);
        Assert.All(expect.Absent, a => Assert.DoesNotContain(a + "\n", r2.Log, StringComparison.Ordinal));
        Assert.Equal(expect.Processed, r1.Stats.InsnProcessed);
        Assert.Equal(expect.Processed, r2.Stats.InsnProcessed);
    }

    [Fact]
    public void Verify_AcceptedWithGlobals_Level1LogIsLastSafeLineAndStats()
    {
        // each successful pass resets the level-1 log; do_check_subprogs prints its line after the reset
        var (spec, obj) = Program("global_chain");
        var r = Verify(spec, obj, VerifierLogLevel.Level1);
        Assert.True(r.Accepted, r.Log);
        Assert.StartsWith("Func#2 ('inner') is safe for any args that match its prototype\nprocessed 18 insns", r.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RejectedInGlobalPass_Level1LogStartsWithValidating()
    {
        // the main program's successful pass left nothing behind: the log is the global function's failing path
        var (spec, obj) = Program("global_mem_beyond");
        var r = Verify(spec, obj, VerifierLogLevel.Level1);
        Assert.False(r.Accepted);
        Assert.StartsWith("Validating pair_third() func#1...\n14: R1=mem_or_null(id=", r.Log, StringComparison.Ordinal);
        Assert.Equal(16, r.Error!.InsnIndex);
    }

    [Fact]
    public void Verify_GlobalCall_CallerContinuesWithScalarR0AndClobberedArgs()
    {
        var (spec, obj) = Program("global_stack_struct");
        var r = Verify(spec, obj, VerifierLogLevel.Level2);
        Assert.True(r.Accepted, r.Log);
        string call = "Func#1 ('pair_sum') is global and assumed valid.\n";
        int at = r.Log.IndexOf(call, StringComparison.Ordinal);
        Assert.True(at >= 0, r.Log);
        // the next state line shows only R0 (an unknown scalar): R1-R5 are NOT_INIT, the callee was not entered
        string next = r.Log[(at + call.Length)..].Split('\n')[0];
        Assert.Matches(@"^\d+: R0=scalar\(\)$", next);
        Assert.DoesNotContain("caller:\n", r.Log[..at], StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_WithoutBtf_GlobalFunctionIsExploredInline()
    {
        // without func_info no function is global (subprog_is_global needs BTF linkage): the call is a static one
        var (spec, obj) = Program("global_mem_beyond");
        var noBtf = spec with { Functions = [.. spec.Functions.Select(f => new FunctionInfo(f.StartSlot, f.Name, f.IsGlobal))] };
        var r = Verify(noBtf, obj, VerifierLogLevel.Level2);
        Assert.DoesNotContain("Validating", r.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("is global and assumed valid", r.Log, StringComparison.Ordinal);
        Assert.Contains("caller:\n", r.Log, StringComparison.Ordinal);
        // inlined, the callee sees the caller's 16-byte array: reading p[1].a is in bounds
        Assert.True(r.Accepted, r.Log);
    }

    [Fact]
    public void Load_ElfWithBtf_FunctionInfoCarriesLinkageAndPrototype()
    {
        var (spec, _) = Program("global_chain");
        var byName = spec.Functions.ToDictionary(f => f.Name);
        Assert.All(spec.Functions, f => Assert.True(f.HasBtf, f.Name));
        Assert.True(byName["outer"].IsBtfGlobal);
        Assert.True(byName["inner"].IsBtfGlobal);
        Assert.False(byName["twice"].IsBtfGlobal);
        var fn = Assert.IsType<Vm.Btf.BtfFunc>(byName["outer"].Btf!.TryGet(byName["outer"].BtfFuncId));
        var proto = Assert.IsType<Vm.Btf.BtfFuncProto>(byName["outer"].Btf!.TryGet(fn.TypeId));
        Assert.Equal(["ctx", "v"], proto.Parameters.Select(p => p.Name));
    }

    [Fact]
    public void Verify_GlobalChain_EachGlobalValidatedOnceAfterTheMainProgram()
    {
        var (spec, obj) = Program("global_chain");
        var r = Verify(spec, obj, VerifierLogLevel.Level2);
        Assert.Equal(1, Count(r.Log, "Validating outer() func#1..."));
        Assert.Equal(1, Count(r.Log, "Validating inner() func#2..."));
        // the static callee of inner() is explored inline in inner()'s pass
        Assert.Contains("caller:\n", r.Log[r.Log.IndexOf("Validating inner()", StringComparison.Ordinal)..], StringComparison.Ordinal);
        Assert.Equal(4, r.Stats.StackDepths.Count);
    }

    private static int Count(string text, string what)
    {
        int n = 0;
        for (int at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + 1, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }
}
