using System.Text.Json;
using System.Xml.Linq;

namespace VethXdp.Cli.Tests;

/// <summary><c>trace</c> and <c>cfg</c> as a process, on corpus objects and pcaps.</summary>
public sealed class TraceCfgCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vethxdp-trace-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Obj(string name) => Path.Combine(TestPaths.CorpusDir, "xdp", name);

    private static string Pcap(string name) => Path.Combine(TestPaths.CorpusDir, "pcaps", name);

    // Ethernet + IPv4 (no options, header checksum 0x66c6) + UDP to port 53 without a checksum, 8 bytes of payload.
    private const string UdpFrame = "020000000002" + "020000000001" + "0800"
        + "45000024000100004011" + "66c6" + "0a0000010a000002" + "d43100350010" + "0000" + "0102030405060708";

    [Fact]
    public void Trace_Packet_ShowsInstructionsSourceMemoryAndVerdict()
    {
        var r = CliProcess.Run("trace", Obj("xdp_loops.v4.o"), "--packet", UdpFrame);

        Assert.True(r.ExitCode == 0, r.StdErr);
        var lines = r.StdOut.TrimEnd('\n').Split('\n');
        Assert.StartsWith("trace of xdp_loops (xdp_loops.v4.o): packet 0, 50 bytes", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("; int xdp_loops(struct xdp_md *ctx) @ xdp_loops.c:59", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("7: r2 = *(u8 *)(r5 +12)", StringComparison.Ordinal) && l.Contains("load pkt+12 (u8) = 0x8", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("(pkt_end)", StringComparison.Ordinal));
        Assert.Matches(@"^verdict: XDP_PASS \(retval 2\) after \d+ instructions$", lines[^1]);
    }

    [Fact]
    public void Trace_Json_OneObjectPerInstructionThenVerdict()
    {
        var r = CliProcess.Run("trace", Obj("xdp_loops.v4.o"), "--pcap", Pcap("basic_mixed.pcap"), "--index", "1", "--json");

        Assert.True(r.ExitCode == 0, r.StdErr);
        var lines = r.StdOut.TrimEnd('\n').Split('\n');
        var docs = lines.Select(l => JsonDocument.Parse(l)).ToList();
        try
        {
            var steps = docs.Take(docs.Count - 1).Select(d => d.RootElement).ToList();
            Assert.Equal(Enumerable.Range(1, steps.Count), steps.Select(s => s.GetProperty("step").GetInt32()));
            Assert.All(steps, s =>
            {
                Assert.Equal(JsonValueKind.Number, s.GetProperty("insn").ValueKind);
                Assert.Equal(JsonValueKind.String, s.GetProperty("text").ValueKind);
                Assert.Equal(JsonValueKind.Object, s.GetProperty("regs").ValueKind);
                Assert.Equal(JsonValueKind.Array, s.GetProperty("mem").ValueKind);
                Assert.True(s.TryGetProperty("call", out _));
            });
            var loop = steps.Single(s => s.GetProperty("call").ValueKind == JsonValueKind.Object && s.GetProperty("call").GetProperty("name").GetString() == "bpf_loop");
            Assert.Equal("func add_word", loop.GetProperty("call").GetProperty("args_text")[1].GetString());
            Assert.Contains(steps, s => s.GetProperty("mem").EnumerateArray().Any(m => m.GetProperty("region").GetString() == "map_value(callback_calls)"));
            var verdict = docs[^1].RootElement;
            Assert.Equal("XDP_PASS", verdict.GetProperty("verdict").GetString());
            Assert.Equal(steps.Count, verdict.GetProperty("instructions").GetInt32());
        }
        finally
        {
            docs.ForEach(d => d.Dispose());
        }
    }

    [Fact]
    public void Trace_PcapIndex_RunsTheEarlierPacketsFirst()
    {
        // flows.pcap packet 1 belongs to packet 0's flow: after packet 0 ran, xdp_flow_counter finds its entry; traced
        // on its own (--packet), the lookup misses.
        string packet1;
        using (var reader = VethXdp.Vm.Pcap.PcapReader.Open(Pcap("flows.pcap")))
        {
            Assert.True(reader.TryRead(out _));
            Assert.True(reader.TryRead(out var record));
            packet1 = Convert.ToHexStringLower(record.Data.Span);
        }

        var after = CliProcess.Run("trace", Obj("xdp_flow_counter.v4.o"), "--pcap", Pcap("flows.pcap"), "--index", "1");
        var alone = CliProcess.Run("trace", Obj("xdp_flow_counter.v4.o"), "--packet", packet1);
        var none = CliProcess.Run("trace", Obj("xdp_flow_counter.v4.o"), "--pcap", Pcap("flows.pcap"), "--index", "99");

        Assert.True(after.ExitCode == 0, after.StdErr);
        Assert.StartsWith("trace of xdp_flow_counter (xdp_flow_counter.v4.o): packet 1, ", after.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"bpf_map_lookup_elem\(map\[flows\], fp-40\) = 0x[0-9a-f]+ \(map_value\(flows\)\+0\)", after.StdOut);
        Assert.True(alone.ExitCode == 0, alone.StdErr);
        Assert.Contains("bpf_map_lookup_elem(map[flows], fp-40) = 0x0\n", alone.StdOut, StringComparison.Ordinal);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("has 14 packets: there is no packet 99", none.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "trace", "OBJ" }, "exactly one packet source")]
    [InlineData(new[] { "trace", "OBJ", "--packet", "00", "--index", "1" }, "--index needs --pcap")]
    [InlineData(new[] { "trace", "OBJ", "--packet", "zz" }, "--packet")]
    [InlineData(new[] { "cfg", "OBJ", "-o", "OUT.png" }, "must be a .svg or a .dot file")]
    public void Command_BadUsage_ExitsTwoWithAMessage(string[] args, string message)
    {
        var r = CliProcess.Run(args.Select(a => a.Replace("OBJ", Obj("xdp_loops.v4.o"), StringComparison.Ordinal).Replace("OUT", Path.Combine(_dir, "out"), StringComparison.Ordinal)));

        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Cfg_Svg_WritesAStandaloneSvg()
    {
        string svg = Path.Combine(_dir, "loops.svg");

        var r = CliProcess.Run("cfg", Obj("xdp_loops.v4.o"), "-o", svg);

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal($"{svg}: 24 blocks, 40 edges, 2 functions\n", r.StdOut);
        var doc = XDocument.Load(svg);
        Assert.Equal("{http://www.w3.org/2000/svg}svg", doc.Root!.Name.ToString());
        Assert.NotNull(doc.Root.Attribute("viewBox"));
    }

    [Fact]
    public void Cfg_Dot_WritesClustersPerFunction()
    {
        string dot = Path.Combine(_dir, "subprogs.dot");

        var r = CliProcess.Run("cfg", Obj("xdp_subprogs.v4.o"), "--prog", "xdp_subprogs", "-o", dot);

        Assert.True(r.ExitCode == 0, r.StdErr);
        string text = File.ReadAllText(dot);
        Assert.StartsWith("digraph \"xdp_subprogs\" {\n", text, StringComparison.Ordinal);
        Assert.Equal(6, text.Split("subgraph \"cluster_").Length - 1);
        Assert.Equal(5, text.Split("[label=\"call\", style=dashed").Length - 1);
    }

    [Fact]
    public void Cfg_NoSuchProgram_ListsThePrograms()
    {
        var r = CliProcess.Run("cfg", Obj("xdp_tailcall.v4.o"), "-o", Path.Combine(_dir, "x.dot"));

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("the object has 6 programs; choose one with --prog: ", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("xdp_dispatch", r.StdErr, StringComparison.Ordinal);
    }
}
