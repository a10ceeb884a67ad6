using System.Text.Json;
using VethXdp.Reports.Trace;
using VethXdp.Vm.Pcap;
using VethXdp.Vm.Runtime;

namespace VethXdp.Reports.Tests.Trace;

/// <summary>Traces of corpus programs on corpus packets, through an <see cref="XdpRunner"/>.</summary>
public class XdpTraceTests
{
    private static byte[] Packet(string pcap, int index)
    {
        using var reader = PcapReader.Open(Corpus.Pcap(pcap));
        for (int i = 0; reader.TryRead(out var record); i++)
        {
            if (i == index)
            {
                return record.Data.ToArray();
            }
        }

        throw new InvalidOperationException($"{pcap} has no packet {index}");
    }

    private static TraceRecorder Trace(string obj, string? prog, byte[] frame, RunOptions? options = null)
    {
        using var loaded = LoadedObject.Open(Corpus.Object(obj));
        using var runner = new XdpRunner(loaded, prog, options);
        var recorder = new TraceRecorder(loaded.Maps);
        XdpTrace.Run(runner, frame, recorder);
        return recorder;
    }

    [Fact]
    public void Run_LoopsWithCallback_RecordsEveryInstructionInOrder()
    {
        // basic_mixed packet 1: IPv4 UDP with a checksum, so the callback runs once per 16-bit word.
        var rec = Trace("xdp_loops.v4.o", null, Packet("basic_mixed.pcap", 1));
        var r = rec.Records;

        Assert.Equal("XDP_PASS", rec.Verdict!.Action);
        Assert.Equal(rec.Verdict.Instructions, r.Count);
        Assert.Equal(Enumerable.Range(1, r.Count).Select(i => (long)i), r.Select(x => x.Step));

        // 7: r2 = *(u8 *)(r5 +12): the EtherType's first byte.
        var eth = r.First(x => x.Insn == 7);
        Assert.Equal(new TraceMemoryAccess("load", "pkt", 12, 1, 0x08, eth.Memory[0].Address, null), eth.Memory[0]);
        Assert.Equal(("xdp_loops.c:71", "if (eth->h_proto != bpf_htons(ETH_P_IP))"), (eth.Line, eth.Source));

        // 90: call bpf_loop#181 with the callback and the context on the stack; its callback's instructions follow it.
        int call = r.ToList().FindIndex(x => x.Insn == 90);
        var loop = r[call].Call!;
        Assert.Equal(("helper", "bpf_loop"), (loop.Kind, loop.Name));
        Assert.Equal(["0xa", "func add_word", "fp-24", "0x0"], loop.ArgText);
        Assert.Equal(10UL, loop.Result);
        Assert.Equal((104, 1, "add_word"), (r[call + 1].Insn, r[call + 1].Frame, r[call + 1].Function));
        Assert.Equal(10, r.Count(x => x.Insn == 104));
        Assert.Equal("exit", r[^1].Call!.Kind);

        // In the callback: the map value it counts in, and the caller's stack through the context pointer.
        Assert.Contains(r, x => x.Insn == 115 && x.Memory.Single().Location == "map_value(callback_calls)+0" && x.Memory[0].Op == "store");
        var off = r.First(x => x.Insn == 118).Memory.Single();
        Assert.Equal(("frame0:fp-16", 0, false), (off.Location, off.Frame!.Value, off.OwnFrame));
    }

    [Fact]
    public void Run_Subprograms_RecordsCallsAndReturnsWithNames()
    {
        var rec = Trace("xdp_subprogs.v4.o", null, Packet("basic_mixed.pcap", 0));
        var calls = rec.Records.Where(x => x.Call?.Kind == "call").Select(x => x.Call!.Name).ToList();
        var returns = rec.Records.Where(x => x.Call?.Kind == "return").ToList();

        Assert.Equal(["parse_l3", "parse_ipv4", "parse_ports", "flow_hash", "classify"], calls);
        Assert.Equal(calls.Count, returns.Count);
        Assert.All(returns, x => Assert.True(x.Frame > 0));
        Assert.Equal(3, rec.Records.Max(x => x.Frame));
    }

    [Fact]
    public void Run_TailCall_SwitchesPrograms()
    {
        var rec = Trace("xdp_tailcall.v4.o", "xdp_dispatch", Packet("basic_mixed.pcap", 0));
        var r = rec.Records.ToList();

        int i = r.FindIndex(x => x.Call?.Kind == "tail_call");
        Assert.True(i >= 0);
        Assert.Equal("xdp_handle_ipv4", r[i].Call!.TailCallTarget);
        Assert.Equal("bpf_tail_call", r[i].Call!.Name);
        Assert.Equal(("xdp_handle_ipv4", 0), (r[i + 1].Program, r[i + 1].Insn));
        Assert.Equal("xdp_dispatch", r[0].Program);
    }

    [Fact]
    public void Run_BudgetExceeded_NamesTheInstructionThatDidNotRun()
    {
        var rec = Trace("xdp_loops.v4.o", null, Packet("basic_mixed.pcap", 0), new RunOptions { InstructionBudget = 10 });

        var v = rec.Verdict!;
        Assert.Equal(("error", 10, "w6 |= w2", "xdp_loops.c:71"), (v.Action, v.ErrorInsn!.Value, v.ErrorText, v.ErrorLine));
        Assert.Equal(10, rec.Records.Count);
        Assert.StartsWith("error at insn 10 (w6 |= w2 @ xdp_loops.c:71): ", TraceRenderer.VerdictText(v), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_TimerFiresBeforeThePacket_TracesItAsAnEarlierRun()
    {
        // xdp_timers arms an hour-long idle timer per session; with the clock 4000 s further on per packet, packet 3
        // finds an expired timer, whose callback runs (in frame 1) before the packet's own run starts at step 1.
        using var loaded = LoadedObject.Open(Corpus.Object("xdp_timers.v4.o"));
        using var runner = new XdpRunner(loaded, null, new RunOptions { TimeStepNs = 4_000_000_000_000 });
        for (int i = 0; i < 3; i++)
        {
            runner.Run(Packet("timers.pcap", i));
        }

        var recorder = new TraceRecorder(loaded.Maps);
        XdpTrace.Run(runner, Packet("timers.pcap", 3), recorder);
        var r = recorder.Records;

        Assert.Equal((0, 1, 1L), (r[0].Run, r[0].Frame, r[0].Step));
        int packet = r.ToList().FindIndex(x => x.Run == 1);
        Assert.True(packet > 0);
        Assert.Equal(("exit", 1), (r[packet - 1].Call!.Kind, r[packet - 1].Frame));   // the callback's exit
        Assert.Equal((1L, 0, 0), (r[packet].Step, r[packet].Frame, r[packet].Insn));
        Assert.All(r.Skip(packet), x => Assert.Equal(1, x.Run));
        Assert.Equal(recorder.Verdict!.Instructions, r.Count - packet);
        string text = TraceRenderer.RenderText(recorder);
        Assert.StartsWith("; a BPF timer callback that fired before the packet:\n", text, StringComparison.Ordinal);
        Assert.Contains("\n; the packet:\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xdp_loops.v4.o", null, "basic_mixed.pcap")]
    [InlineData("xdp_subprogs.v4.o", null, "basic_mixed.pcap")]
    [InlineData("xdp_tailcall.v4.o", "xdp_dispatch", "basic_mixed.pcap")]
    [InlineData("xdp_conntrack.v4.o", null, "conntrack.pcap")]
    [InlineData("xdp_flow_counter.v4.o", null, "flows.pcap")]
    public void Run_Traced_GivesTheSameResultsAsUntraced(string obj, string? prog, string pcap)
    {
        using var a = LoadedObject.Open(Corpus.Object(obj));
        using var b = LoadedObject.Open(Corpus.Object(obj));
        using var plain = new XdpRunner(a, prog);
        using var traced = new XdpRunner(b, prog);
        using var reader = PcapReader.Open(Corpus.Pcap(pcap));
        var recorder = new TraceRecorder(b.Maps);
        int n = 0;
        while (reader.TryRead(out var record))
        {
            var x = plain.Run(record.Data.Span);
            string xs = $"{x.Retval} {x.Error} {Convert.ToHexString(x.Data.Span)}";
            recorder.Clear();
            var y = XdpTrace.Run(traced, record.Data.Span, recorder);
            Assert.Equal(xs, $"{y.Retval} {y.Error} {Convert.ToHexString(y.Data.Span)}");
            Assert.Equal(y.InstructionsExecuted, recorder.Records.Count);
            n++;
        }

        Assert.True(n > 0);
        Assert.Equal(MapsJson.Format(a.Maps, a.Names), MapsJson.Format(b.Maps, b.Names));
    }

    [Fact]
    public void RenderJson_Loops_OneRecordPerInstructionThenTheVerdict()
    {
        var rec = Trace("xdp_loops.v4.o", null, Packet("basic_mixed.pcap", 1));

        var lines = TraceRenderer.RenderJson(rec).TrimEnd('\n').Split('\n');

        Assert.Equal(rec.Records.Count + 1, lines.Length);
        using (var first = JsonDocument.Parse(lines[0]))
        {
            var o = first.RootElement;
            Assert.Equal(
                ["step", "run", "prog", "insn", "frame", "func", "text", "line", "source", "regs", "old", "ptr", "mem", "call", "taken"],
                o.EnumerateObject().Select(p => p.Name));
            Assert.Equal(1, o.GetProperty("step").GetInt64());
            Assert.Equal("w0 = 1", o.GetProperty("text").GetString());
            Assert.Equal("xdp_loops.c:59", o.GetProperty("line").GetString());
            Assert.Equal("0x1", o.GetProperty("regs").GetProperty("r0").GetString());
            Assert.Equal(JsonValueKind.Null, o.GetProperty("call").ValueKind);
        }

        int eth = rec.Records.ToList().FindIndex(x => x.Insn == 7);
        using (var load = JsonDocument.Parse(lines[eth]))
        {
            var m = load.RootElement.GetProperty("mem")[0];
            Assert.Equal(("load", "pkt", 12, 1, "0x8"), (m.GetProperty("op").GetString(), m.GetProperty("region").GetString(), m.GetProperty("off").GetInt32(), m.GetProperty("size").GetInt32(), m.GetProperty("value").GetString()));
        }

        using var verdict = JsonDocument.Parse(lines[^1]);
        Assert.Equal("XDP_PASS", verdict.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(2u, verdict.RootElement.GetProperty("retval").GetUInt32());
        Assert.Equal(JsonValueKind.Null, verdict.RootElement.GetProperty("error").ValueKind);
    }

    [Fact]
    public void RenderText_Loops_ShowsSourceCallsAndVerdict()
    {
        var rec = Trace("xdp_loops.v4.o", null, Packet("basic_mixed.pcap", 1));

        string text = TraceRenderer.RenderText(rec);

        Assert.Contains("; if (eth->h_proto != bpf_htons(ETH_P_IP)) @ xdp_loops.c:71\n", text, StringComparison.Ordinal);
        Assert.Contains("call bpf_loop#181", text, StringComparison.Ordinal);
        Assert.Contains("bpf_loop(0xa, func add_word, fp-24, 0x0) = 0xa", text, StringComparison.Ordinal);
        Assert.Contains("load pkt+12 (u8) = 0x8", text, StringComparison.Ordinal);
        Assert.Contains("not taken", text, StringComparison.Ordinal);
        Assert.EndsWith($"verdict: XDP_PASS (retval 2) after {rec.Records.Count} instructions\n", text, StringComparison.Ordinal);
    }
}
