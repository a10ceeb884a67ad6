using System.Text;
using System.Text.RegularExpressions;
using VethXdp.Kernel;
using VethXdp.Vm.Maps;

namespace VethXdp.Kernel.Tests;

/// <summary>corpus/verifier: every case's expectation is what the running kernel decides (decision, message,
/// errno, instruction, retval); the collection keeps its size and coverage; the golden level-2 logs come from the
/// kernel and still match it.</summary>
public partial class VerifierCaseKernelTests
{
    /// <summary>The collection's floor (issue 4, item 4).</summary>
    private const int MinCases = 320;
    private const int MinDistinctMessages = 60;
    private const string GoldenEnv = "VETHXDP_RECORD_GOLDEN";
    private const string ReportEnv = "VETHXDP_VERIFIER_CASE_REPORT";

    private static readonly Lazy<IReadOnlyList<VerifierCase>> s_cases = new(() => VerifierCase.LoadAll());

    private static string GoldenDir => Path.Combine(VerifierCase.Directory, "golden");

    public static TheoryData<string> CaseIds()
    {
        var data = new TheoryData<string>();
        foreach (string id in VerifierCase.Ids())
        {
            data.Add(id);
        }

        return data;
    }

    public static TheoryData<string> GoldenIds()
    {
        var data = new TheoryData<string>();
        foreach (string id in GoldenList())
        {
            data.Add(id);
        }

        if (data.Count == 0)
        {
            data.Add(string.Empty);
        }

        return data;
    }

    [Fact]
    public void Collection_EveryCase_ParsesAndAssembles()
    {
        // LoadAll throws FormatException naming the file for a malformed case or one that does not assemble.
        var cases = s_cases.Value;
        Assert.All(cases, c => Assert.NotEmpty(c.Slots));
        Assert.All(cases, c => Assert.False(string.IsNullOrWhiteSpace(c.Group), $"{c.Id}: a case lives in a group folder"));
    }

    [Fact]
    public void Collection_Size_MeetsTheFloor()
    {
        var cases = s_cases.Value;
        int rejected = cases.Count(c => !c.Accept);
        Assert.True(cases.Count >= MinCases, $"{cases.Count} cases, fewer than {MinCases}");
        Assert.True(rejected * 2 >= cases.Count, $"{rejected} of {cases.Count} cases rejected, fewer than half");
    }

    [Fact]
    public void Collection_RejectedCases_CoverEnoughDistinctMessages()
    {
        var distinct = DistinctMessages(s_cases.Value);
        Assert.True(distinct.Count >= MinDistinctMessages, $"{distinct.Count} distinct messages, fewer than {MinDistinctMessages}:\n{string.Join('\n', distinct)}");
    }

    [Fact]
    public void Collection_Names_AreUniqueAcrossGroups()
    {
        // Golden logs are named golden/<name>.log2, so names are unique in the whole collection.
        var dups = s_cases.Value.GroupBy(c => c.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(dups.Count == 0, "names used twice: " + string.Join(", ", dups));
    }

    [Fact]
    public void Collection_Readme_StatesTheCurrentCounts()
    {
        var cases = s_cases.Value;
        string readme = File.ReadAllText(Path.Combine(VerifierCase.Directory, "README.md"));
        int rejected = cases.Count(c => !c.Accept);
        int distinct = DistinctMessages(cases).Count;
        Assert.Contains($"{cases.Count} cases", readme, StringComparison.Ordinal);
        Assert.Contains($"{rejected} rejected", readme, StringComparison.Ordinal);
        Assert.Contains($"{distinct} distinct messages", readme, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MapNameAndRaw_AreRewritten()
    {
        const string text = """
            -- description
            map by name, a raw slot
            -- prog-type
            xdp
            -- maps
            m array key=4 value=8 max=1
            n hash key=4 value=4 max=2 flags=1
            -- asm
            r1 = map[n]
            r2 = map[m][0]+8
            .raw 0x8d 0 0 0 0
            exit
            -- result
            reject
            -- msg
            unknown opcode 8d
            -- errno
            EINVAL
            """;
        var c = VerifierCase.Parse(text);
        Assert.Equal(6, c.Slots.Count);
        Assert.Equal(1, c.Slots[0].Imm);   // n is map index 1
        Assert.Equal(5, c.Slots[0].SrcReg);   // BPF_PSEUDO_MAP_IDX
        Assert.Equal(0, c.Slots[2].Imm);
        Assert.Equal(6, c.Slots[2].SrcReg);   // BPF_PSEUDO_MAP_IDX_VALUE
        Assert.Equal(8, c.Slots[3].Imm);
        Assert.Equal(0x8d, c.Slots[4].Opcode);
        Assert.Equal(MapType.Hash, c.Maps[1].Type);
        Assert.Equal(1u, c.Maps[1].Flags);
        Assert.Equal("unknown opcode 8d", c.Msg);
    }

    [Fact]
    public void Parse_RejectWithoutMsg_Throws()
    {
        const string text = "-- description\nx\n-- prog-type\nxdp\n-- asm\nexit\n-- result\nreject\n-- errno\nEACCES\n";
        var e = Assert.Throws<FormatException>(() => VerifierCase.Parse(text, "x.case"));
        Assert.Contains("-- msg", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownSection_Throws()
    {
        const string text = "-- description\nx\n-- prog-type\nxdp\n-- asm\nexit\n-- result\naccept\n-- bogus\n1\n";
        var e = Assert.Throws<FormatException>(() => VerifierCase.Parse(text, "x.case"));
        Assert.Contains("bogus", e.Message, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(CaseIds))]
    public void Kernel_Case_DecidesAsExpected(string id)
    {
        KernelSkip.IfNotPermitted();
        var c = VerifierCase.LoadById(id);
        using var r = Load(c, 1);
        string reason = KernelLog.Reason(r.Log) ?? "(empty log)";
        Assert.True(c.Accept == r.Accepted, $"{id}: expected {(c.Accept ? "accept" : "reject")}, the kernel {(r.Accepted ? "accepted" : $"refused ({r.ErrnoName}): {reason}")}\n{Tail(r.Log)}");
        if (!c.Accept)
        {
            Assert.True(r.Log.Contains(c.Msg!, StringComparison.Ordinal), $"{id}: the log lacks \"{c.Msg}\":\n{Tail(r.Log)}");
            Assert.Equal(c.Errno, r.ErrnoName);
            if (c.Insn is { } insn)
            {
                Assert.Equal(insn, InsnBefore(r.Log, c.Msg!));
            }
        }

        if (c.Retval is { } retval)
        {
            var run = r.TestRun(c.Packet);
            Assert.Equal(retval, run.Retval);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(GoldenIds))]
    public void Kernel_GoldenLog_MatchesTheRunningKernel(string id)
    {
        Skip.If(id.Length == 0, "no golden list");
        var c = VerifierCase.LoadById(id);
        string file = GoldenPath(c);
        Assert.True(File.Exists(file), $"{file} is missing (run with {GoldenEnv}=1 to record it from the kernel)");
        string golden = File.ReadAllText(file);
        string header = golden[..golden.IndexOf('\n', StringComparison.Ordinal)];
        Assert.Matches(@"^# Linux \S+ BPF_PROG_LOAD log_level=2$", header);
        KernelSkip.IfNotPermitted();
        Skip.IfNot(header == Header(), $"recorded on another kernel ({header}), this is {KernelInfo.Release}");
        using var r = Load(c, 2);
        Assert.Equal(Normalise(golden[(header.Length + 1)..]), Normalise(r.Log));
    }

    [SkippableFact]
    public void Kernel_RecordGoldenLogs_WhenAskedTo()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable(GoldenEnv) == "1", $"set {GoldenEnv}=1 to record corpus/verifier/golden/*.log2 from the kernel");
        KernelSkip.IfNotPermitted();
        int written = 0;
        foreach (string id in GoldenList())
        {
            var c = VerifierCase.LoadById(id);
            using var r = Load(c, 2);
            File.WriteAllText(GoldenPath(c), Header() + "\n" + r.Log);
            written++;
        }

        Assert.True(written > 0, "golden/list.txt names no case");
    }

    [SkippableFact]
    public void Kernel_WriteReport_WhenAskedTo()
    {
        // A report of every case's kernel outcome, for writing and fixing cases: VETHXDP_VERIFIER_CASE_REPORT=/tmp/r.txt
        string? path = Environment.GetEnvironmentVariable(ReportEnv);
        Skip.If(string.IsNullOrEmpty(path), $"set {ReportEnv}=FILE to write every case's kernel outcome");
        KernelSkip.IfNotPermitted();
        var sb = new StringBuilder();
        int bad = 0;
        foreach (var c in s_cases.Value)
        {
            using var r = Load(c, 1);
            bool ok = c.Accept == r.Accepted && (c.Accept || (r.Log.Contains(c.Msg!, StringComparison.Ordinal) && c.Errno == r.ErrnoName
                && (c.Insn is null || c.Insn == InsnBefore(r.Log, c.Msg!))));
            string run = string.Empty;
            if (r.Accepted && c.Retval is { } rv)
            {
                uint got = r.TestRun(c.Packet).Retval;
                ok &= got == rv;
                run = $" retval={got}";
            }

            bad += ok ? 0 : 1;
            sb.Append(ok ? "ok   " : "BAD  ").Append(c.Id).Append(": ").Append(r.Accepted ? "accept" : "reject " + r.ErrnoName).Append(run).Append('\n');
            if (!ok)
            {
                sb.Append("     expected ").Append(c.Accept ? "accept" : $"reject {c.Errno} \"{c.Msg}\" insn {c.Insn}").Append('\n');
                foreach (string l in Tail(r.Log).Split('\n'))
                {
                    sb.Append("     | ").Append(l).Append('\n');
                }
            }
        }

        sb.Insert(0, $"{bad} of {s_cases.Value.Count} disagree\n");
        File.WriteAllText(path!, sb.ToString());
        Assert.True(bad == 0, $"{bad} case(s) disagree with the kernel: see {path}");
    }

    /// <summary>Distinct messages of the rejected cases: the first line of each msg with its numbers (decimal, signed,
    /// 0x-hex) replaced by '#', so "invalid bpf_context access off=4 size=2" and "... off=8 size=1" count once.</summary>
    internal static SortedSet<string> DistinctMessages(IEnumerable<VerifierCase> cases)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var c in cases)
        {
            if (c.Msg is { } m)
            {
                set.Add(Digits().Replace(m.Split('\n')[0], "#"));
            }
        }

        return set;
    }

    private static KernelCaseResult Load(VerifierCase c, uint level)
    {
        var maps = c.Maps.Select(m => new MapCreateRequest
        {
            Type = m.Type,
            KeySize = m.KeySize,
            ValueSize = m.ValueSize,
            MaxEntries = m.MaxEntries,
            Flags = m.Flags,
            Name = m.Name,
        }).ToList();
        return KernelCaseLoader.Load(c.ProgType, c.Slots, maps, new KernelCaseOptions
        {
            LogLevel = level,
            ExpectedAttachType = (uint)c.Attach,
            ProgFlags = c.ProgFlags,
            Name = c.Name,
        });
    }

    // The index of the last instruction line ("12: (bf) ...") before the message.
    private static int? InsnBefore(string log, string msg)
    {
        int at = log.IndexOf(msg, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var m = InsnLine().Matches(log[..at]);
        return m.Count == 0 ? null : int.Parse(m[^1].Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Tail(string log)
    {
        var lines = log.Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 14)));
    }

    private static string Header() => $"# Linux {KernelInfo.Release} BPF_PROG_LOAD log_level=2";

    private static string GoldenPath(VerifierCase c) => Path.Combine(GoldenDir, c.Name + ".log2");

    private static IEnumerable<string> GoldenList()
    {
        string list = Path.Combine(GoldenDir, "list.txt");
        return File.Exists(list)
            ? File.ReadAllLines(list).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            : [];
    }

    // Timings, kernel object ids and kernel addresses (a map's, printed by ld_imm64) change from load to load.
    private static string Normalise(string log) =>
        KernelAddress().Replace(MapId().Replace(TimeLine().Replace(log, "verification time N usec"), "map[id:N]"), "0xADDR").TrimEnd();

    [GeneratedRegex(@"-?(0x[0-9a-f]+|[0-9]+)")]
    private static partial Regex Digits();

    [GeneratedRegex(@"^(\d+): \([0-9a-f]{2}\)", RegexOptions.Multiline)]
    private static partial Regex InsnLine();

    [GeneratedRegex(@"verification time \d+ usec")]
    private static partial Regex TimeLine();

    [GeneratedRegex(@"map\[id:\d+\]")]
    private static partial Regex MapId();

    [GeneratedRegex(@"0xffff[89a-e][0-9a-f]{11}\b")]
    private static partial Regex KernelAddress();
}
