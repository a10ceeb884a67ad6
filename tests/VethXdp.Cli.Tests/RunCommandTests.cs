using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Pcap;

namespace VethXdp.Cli.Tests;

/// <summary><c>progs</c>, <c>maps</c> and <c>run</c> as a process, on the corpus objects and pcaps.</summary>
public sealed class RunCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vethxdp-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Obj(string name) => Path.Combine(TestPaths.CorpusDir, "xdp", name);

    private static string Pcap(string name) => Path.Combine(TestPaths.CorpusDir, "pcaps", name);

    [Fact]
    public void Progs_ObjectWithSubprograms_ListsProgramAndCallees()
    {
        var r = CliProcess.Run("progs", Obj("xdp_subprogs.v4.o"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.StartsWith("xdp_subprogs: section xdp, type xdp, ", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("calls ", r.StdOut);
    }

    [Fact]
    public void Progs_Json_GivesNameSectionTypeAndCount()
    {
        var r = CliProcess.Run("progs", Obj("xdp_pass.v4.o"), "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var p = doc.RootElement.GetProperty("programs")[0];
        Assert.Equal("xdp", p.GetProperty("section").GetString());
        Assert.Equal("xdp", p.GetProperty("type").GetString());
        Assert.Equal(2, p.GetProperty("insns").GetInt32());   // w0 = 2; exit
    }

    [Fact]
    public void Maps_GlobalData_ListsSectionsAsFrozenOrNot()
    {
        var r = CliProcess.Run("maps", Obj("xdp_global_data.v4.o"), "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var maps = doc.RootElement.GetProperty("maps").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.True(maps[".rodata"].GetProperty("frozen").GetBoolean());
        Assert.False(maps[".data"].GetProperty("frozen").GetBoolean());
        Assert.Equal("array", maps[".bss"].GetProperty("type").GetString());
        Assert.Equal(1u, maps[".bss"].GetProperty("max_entries").GetUInt32());
    }

    [Fact]
    public void Run_PaperTx_SwapsMacsAndCountsPerCpu()
    {
        var r = CliProcess.Run("run", Obj("xdp_paper_tx.v4.o"), "--packet", "020000000002" + "020000000001" + "0800" + "45000014000100004006000000000000000000000000", "--json", "--cpus", "2");
        Assert.True(r.ExitCode == 0, r.StdErr);
        var lines = r.StdOut.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        using var pkt = JsonDocument.Parse(lines[0]);
        Assert.Equal("XDP_TX", pkt.RootElement.GetProperty("action").GetString());
        Assert.Equal(3u, pkt.RootElement.GetProperty("retval").GetUInt32());
        Assert.StartsWith("020000000001" + "020000000002", pkt.RootElement.GetProperty("data").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, pkt.RootElement.GetProperty("redirect").ValueKind);
        using var maps = JsonDocument.Parse(lines[1]);
        var values = maps.RootElement.GetProperty("maps").GetProperty("tx_count").GetProperty("entries")[0].GetProperty("values");
        Assert.Equal(2, values.GetArrayLength());
        Assert.Equal("0100000000000000", values[0].GetString());
    }

    [Fact]
    public void Run_Out_WritesPcapngWithVerdictComments()
    {
        var outFile = Path.Combine(_dir, "out.pcapng");
        var r = CliProcess.Run("run", Obj("xdp_paper_tx.v4.o"), "--pcap", Pcap("basic_mixed.pcap"), "--out", outFile);
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var reader = PcapReader.Open(outFile);
        int n = 0;
        while (reader.TryRead(out var rec))
        {
            Assert.Equal("XDP_TX", rec.GetComment());
            n++;
        }

        Assert.True(n > 0);
        Assert.Equal(n, r.StdOut.Split('\n').Count(l => l.Contains(": XDP_TX (retval 3)", StringComparison.Ordinal)));
    }

    [Fact]
    public void Run_TruncatedPcap_ReportsEarlierPacketsThenExitsTwoNamingTheRecord()
    {
        var bytes = File.ReadAllBytes(Pcap("basic_mixed.pcap"));
        var cut = Path.Combine(_dir, "cut.pcap");
        File.WriteAllBytes(cut, bytes[..^10]);
        var r = CliProcess.Run("run", Obj("xdp_pass.v4.o"), "--pcap", cut, "--json");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("cut.pcap: record", r.StdErr);
        Assert.Contains("\"packet\":0", r.StdOut);
        Assert.DoesNotContain("   at ", r.StdErr);
    }

    [Fact]
    public void Run_SeveralPrograms_WithoutProg_ListsNames()
    {
        var obj = Obj("xdp_tailcall.v4.o");
        var names = ElfObjectReader.Load(obj).Programs.Select(p => p.Name).ToArray();
        Assert.True(names.Length > 1);
        var r = CliProcess.Run("run", obj, "--packet", "0000000000000000000000000800");
        Assert.Equal(2, r.ExitCode);
        foreach (var n in names)
        {
            Assert.Contains(n, r.StdErr);
        }
    }

    [Fact]
    public void Run_UnknownHelper_IsRefusedWithExitOne()
    {
        // r0 = 2; call 999; exit — in section xdp, as function "main".
        var code = Convert.FromHexString("b700000002000000" + "85000000e7030000" + "9500000000000000");
        var obj = Path.Combine(_dir, "bad_helper.o");
        File.WriteAllBytes(obj, TinyElf.ForRunner(code, "xdp"));
        var r = CliProcess.Run("run", obj, "--packet", "0000000000000000000000000800");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("insn 1", r.StdErr);
        Assert.Contains("999", r.StdErr);
    }

    [Fact]
    public void Run_NoPacketSource_IsUsageError()
    {
        var r = CliProcess.Run("run", Obj("xdp_pass.v4.o"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--pcap", r.StdErr);
    }

    [Fact]
    public void Run_BadMapsIn_ExitsTwoNamingTheMap()
    {
        var mapsIn = Path.Combine(_dir, "m.json");
        File.WriteAllText(mapsIn, """{"maps": {"tx_count": {"type": "percpu_array", "entries": [{"key": "00", "values": ["01"]}]}}}""");
        var r = CliProcess.Run("run", Obj("xdp_paper_tx.v4.o"), "--packet", "0000000000000000000000000800", "--maps-in", mapsIn);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("m.json", r.StdErr);
        Assert.Contains("tx_count", r.StdErr);
    }

    /// <summary>Every manifest run in the default environment: our verdicts equal the ones recorded from the running kernel.</summary>
    [Fact]
    public void Run_EveryDefaultManifestRun_MatchesKernelVerdicts()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.CorpusDir, "manifest.json")))!;
        var cases = new List<(string Obj, JsonNode Run)>();
        foreach (var o in manifest["objects"]!.AsArray())
        {
            foreach (var run in o!["runs"]?.AsArray() ?? [])
            {
                if ((string?)run!["environment"] != "default" || run["sockets"] is not null || run["expected"] is null)
                {
                    continue;
                }

                foreach (var level in new[] { "v2", "v3", "v4" })
                {
                    cases.Add(((string)o["objects"]![level]!, run));
                }
            }
        }

        Assert.True(cases.Count >= 100, $"only {cases.Count} runs");
        var failures = new ConcurrentBag<string>();
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) }, c =>
        {
            var error = RunManifestCase(c.Obj, c.Run);
            if (error is not null)
            {
                failures.Add($"{c.Obj} {(string?)c.Run["program"]} {(string?)c.Run["pcap"]}: {error}");
            }
        });
        Assert.True(failures.IsEmpty, $"{failures.Count} of {cases.Count} runs differ from the kernel:\n" + string.Join('\n', failures.Order(StringComparer.Ordinal)));
    }

    private string? RunManifestCase(string objRel, JsonNode run)
    {
        var obj = Path.Combine(TestPaths.CorpusDir, objRel);
        var args = new List<string> { "run", obj, "--prog", (string)run["program"]!, "--pcap", Path.Combine(TestPaths.CorpusDir, (string)run["pcap"]!), "--json", "--cpus", "2" };
        if (run["maps"] is JsonObject maps)
        {
            // The manifest leaves out each map's type; take it from the object.
            var specs = ElfObjectReader.Load(obj).Maps.ToDictionary(m => m.Name);
            var full = new JsonObject();
            foreach (var (name, value) in maps)
            {
                var m = (JsonObject)value!.DeepClone();
                m["type"] = MapTypeNames.ToName(specs[name].Type);
                full[name] = m;
            }

            var file = Path.Combine(_dir, $"maps-{Guid.NewGuid():N}.json");
            File.WriteAllText(file, new JsonObject { ["maps"] = full }.ToJsonString());
            args.Add("--maps-in");
            args.Add(file);
        }

        var r = CliProcess.Run(args);
        if (r.ExitCode != 0)
        {
            return $"exit {r.ExitCode}: {r.StdErr.Trim()}";
        }

        var lines = r.StdOut.TrimEnd('\n').Split('\n');
        var expected = run["expected"]!.AsArray().Select(e => (string)e!).ToArray();
        if (lines.Length != expected.Length + 1)
        {
            return $"{lines.Length - 1} packets, the kernel saw {expected.Length}";
        }

        for (int i = 0; i < expected.Length; i++)
        {
            var pkt = JsonNode.Parse(lines[i])!;
            string ours = pkt["error"] is not null ? "error:EINVAL" : (string)pkt["action"]!;
            if (ours != expected[i] && !(expected[i].StartsWith("error:", StringComparison.Ordinal) && pkt["error"] is not null))
            {
                return $"packet {i}: ours {ours}{(pkt["error"] is { } e ? " (" + (string?)e["message"] + ")" : string.Empty)}, kernel {expected[i]}";
            }
        }

        return null;
    }
}
