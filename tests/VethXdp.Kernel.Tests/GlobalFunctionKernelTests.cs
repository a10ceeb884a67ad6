using VethXdp.Kernel;
using VethXdp.Vm.Elf;

namespace VethXdp.Kernel.Tests;

/// <summary>corpus/verifier/objects: every <c>.expect</c> (global functions, BPF-to-BPF calls with BTF) is what the
/// running kernel decides: the decision, the errno, the message lines of the level-1 log, the lines the level-2 log
/// shows in order, and the processed-instructions count.</summary>
public sealed class GlobalFunctionKernelTests
{
    /// <summary>When set to a directory, the kernel's level-1 and level-2 logs of every object are written there
    /// (<c>NAME.log1</c>, <c>NAME.log2</c>): how the expectations were taken.</summary>
    private const string RecordEnv = "VETHXDP_RECORD_GLOBALS";

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

    [Fact]
    public void Collection_EveryObject_HasSourceAndExpectation()
    {
        var expects = Directory.EnumerateFiles(ObjectsDir, "*.expect").ToList();
        Assert.True(expects.Count >= 8, $"{expects.Count} objects, fewer than 8");
        Assert.Contains(expects, e => ObjectExpectation.Read(e).Accept);
        Assert.Contains(expects, e => !ObjectExpectation.Read(e).Accept);
        foreach (string e in expects)
        {
            string stem = Path.ChangeExtension(e, null);
            Assert.True(File.Exists(stem + ".c"), stem + ".c is missing");
            Assert.True(File.Exists(stem + ".o"), stem + ".o is missing");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Names))]
    public void Load_Object_KernelAgreesWithExpect(string name)
    {
        KernelSkip.IfNotPermitted();
        var expect = ObjectExpectation.Read(Path.Combine(ObjectsDir, name + ".expect"));
        var obj = ElfObjectReader.Load(Path.Combine(ObjectsDir, name + ".o"));
        var (log1, errno) = Load(obj, expect.Program, 1);
        var (log2, _) = Load(obj, expect.Program, 2 | 4);
        Record(name, log1, log2);

        Assert.Equal(expect.Accept, errno is null);
        if (!expect.Accept)
        {
            Assert.Equal(expect.Errno, errno);
            Assert.Equal(expect.Messages, ObjectExpectation.LastLines(log1, expect.Messages.Count));
            if (expect.LogLines.LastOrDefault(l => l.StartsWith("Validating ", StringComparison.Ordinal)) is { } validating)
            {
                // rejected in a global function's own pass: the earlier passes left nothing in the level-1 log
                Assert.StartsWith(validating + "\n", log1, StringComparison.Ordinal);
            }
        }

        if (expect.Accept && expect.LogLines.LastOrDefault(l => l.EndsWith(" is safe for any args that match its prototype", StringComparison.Ordinal)) is { } safe)
        {
            // each successful pass reset the level-1 log; do_check_subprogs printed its last line after the reset
            Assert.Equal([safe], ObjectExpectation.LastLines(log1, int.MaxValue));
        }

        ObjectExpectation.AssertInOrder(expect.LogLines, log2);
        Assert.All(expect.Absent, a => Assert.DoesNotContain(a + "\n", log2, StringComparison.Ordinal));
        Assert.Equal(expect.Processed, ObjectExpectation.ProcessedOf(log1));
    }

    private static (string Log, string? Errno) Load(BpfObject obj, string program, uint level)
    {
        try
        {
            using var loaded = KernelObject.Load(obj, new KernelLoadOptions { LogLevel = level, Programs = [program] });
            Assert.True(loaded.HasBtf, loaded.BtfError);
            return (loaded.ProgramLog(program), null);
        }
        catch (KernelBpfException e) when (e.VerifierLog is not null)
        {
            return (e.VerifierLog, e.ErrnoName);
        }
    }

    private static void Record(string name, string log1, string log2)
    {
        string? dir = Environment.GetEnvironmentVariable(RecordEnv);
        if (string.IsNullOrEmpty(dir))
        {
            return;
        }

        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, name + ".log1"), log1);
        File.WriteAllText(Path.Combine(dir, name + ".log2"), log2);
    }
}
