using System.CommandLine;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using VethXdp.Vm.Pcap;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Text;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp run OBJ [--prog NAME] (--pcap IN | --packet HEX) [--out OUT.pcapng] [--maps-in FILE] [--map-size NAME=N]... [controls] [--json]</c>.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var common = new ObjectOptions();
        var pcap = new Option<string?>("--pcap") { Description = "Packets from a pcap or pcapng file." };
        var packet = new Option<string[]>("--packet") { Description = "One packet as hex (repeatable)." };
        var output = new Option<string?>("--out") { Description = "Write every frame that leaves (TX, PASS, REDIRECT) to this pcapng, its verdict in a comment." };
        var json = new Option<bool>("--json") { Description = "One JSON object per packet and a last line with the maps." };
        var engine = Engines.Option();
        var unverified = Engines.UnverifiedOption();
        var cmd = new Command("run", "Run an XDP program over packets, as BPF_PROG_TEST_RUN does, and show verdicts, bytes and maps.");
        common.AddTo(cmd);
        cmd.Options.Add(pcap);
        cmd.Options.Add(packet);
        cmd.Options.Add(output);
        cmd.Options.Add(json);
        cmd.Options.Add(engine);
        cmd.Options.Add(unverified);
        cmd.SetAction(p => Run(p, common, p.GetValue(pcap), p.GetValue(packet) ?? [], p.GetValue(output), p.GetValue(json), p.GetValue(engine), p.GetValue(unverified)));
        return cmd;
    }

    private static int Run(ParseResult p, ObjectOptions common, string? pcapPath, string[] packets, string? outPath, bool json, string? engine, bool unverified)
    {
        Engines.Check(engine);
        if ((pcapPath is null) == (packets.Length == 0))
        {
            throw new CliError("run needs exactly one packet source: --pcap IN or --packet HEX");
        }

        string objPath = p.GetValue(common.Object)!;
        using var loaded = ObjectFiles.Open(objPath, common.LoadOptions(p), p.GetValue(common.MapsIn));
        var runOptions = common.RunOptions(p, loaded.PossibleCpus);
        using var runner = ObjectFiles.Runner(loaded, p.GetValue(common.Prog), runOptions, engine, unverified);
        var names = ObjectFiles.Names(loaded);

        using var writer = outPath is null ? null : PcapNgWriter.Create(outPath);
        using var stdout = Console.OpenStandardOutput();
        using var jw = json ? new Utf8JsonWriter(stdout, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) : null;
        var text = json ? null : Console.Out;
        var comment = new StringBuilder(64);
        int exit = ExitCode.Ok;

        foreach (var (timestampNs, frame, error) in Packets(pcapPath, packets))
        {
            if (error is not null)
            {
                // A bad record: the packets before it ran and were reported; stop here.
                jw?.Flush();
                Console.Out.Flush();
                Console.Error.WriteLine($"vethxdp: {error}");
                exit = ExitCode.BadInput;
                break;
            }

            var r = runner.Run(frame.Span);
            if (jw is not null)
            {
                WritePacketJson(jw, r);
                jw.Flush();
                jw.Reset();
                stdout.WriteByte((byte)'\n');
            }
            else
            {
                WritePacketText(text!, r);
            }

            if (writer is not null && r.Error is null && r.Action is XdpAction.Tx or XdpAction.Pass or XdpAction.Redirect)
            {
                comment.Clear().Append(XdpActions.KernelName(r.Action));
                int ifindex = (int)runOptions.Ifindex;
                if (r.Redirect is { } rd)
                {
                    comment.Append(' ').Append(Describe(rd));
                    ifindex = (int)(rd.Ifindex ?? 0);
                }

                var iface = writer.GetInterface(ifindex);
                writer.WritePacket(iface, timestampNs, r.Data.Span, comment.ToString());
            }
        }

        if (jw is not null)
        {
            MapsJson.Write(jw, loaded.Maps, names);
            jw.Flush();
            stdout.WriteByte((byte)'\n');
        }
        else
        {
            MapsText.Write(text!, loaded, names);
        }

        return exit;
    }

    private static IEnumerable<(long TimestampNs, ReadOnlyMemory<byte> Frame, string? Error)> Packets(string? pcapPath, string[] packets)
    {
        if (pcapPath is null)
        {
            for (int i = 0; i < packets.Length; i++)
            {
                byte[] bytes;
                try
                {
                    bytes = HexText.Parse(packets[i], $"--packet {i}");
                }
                catch (FormatException ex)
                {
                    throw new CliError(ex.Message, ex);
                }

                yield return (0, bytes, null);
            }

            yield break;
        }

        if (!File.Exists(pcapPath))
        {
            throw new CliError($"{pcapPath}: no such file");
        }

        using var reader = PcapReader.Open(pcapPath);
        while (true)
        {
            PcapRecord record;
            string? error = null;
            bool more;
            try
            {
                more = reader.TryRead(out record);
            }
            catch (PcapFormatException ex)
            {
                more = false;
                record = default;
                error = ex.Message;
            }

            if (error is not null)
            {
                yield return (0, default, error);
                yield break;
            }

            if (!more)
            {
                yield break;
            }

            yield return (record.TimestampNs, record.Data, null);
        }
    }

    private static string Describe(RedirectInfo rd)
    {
        var sb = new StringBuilder(rd.KindName);
        if (rd.Map is not null)
        {
            sb.Append(' ').Append(rd.Map).Append('[').Append(rd.Key).Append(']');
        }

        if (rd.Ifindex is { } ifx)
        {
            sb.Append(" ifindex ").Append(ifx);
        }

        if (rd.Cpu is { } cpu)
        {
            sb.Append(" cpu ").Append(cpu);
        }

        if (rd.Queue is { } q)
        {
            sb.Append(" queue ").Append(q);
        }

        if (rd.Broadcast)
        {
            sb.Append(rd.ExcludeIngress ? " broadcast, excluding ingress" : " broadcast");
        }

        return sb.ToString();
    }

    private static void WritePacketText(TextWriter w, XdpResult r)
    {
        if (r.Error is { } e)
        {
            w.WriteLine($"packet {r.Packet}: error: {e}");
            return;
        }

        var line = new StringBuilder();
        line.Append($"packet {r.Packet}: {XdpActions.KernelName(r.Action)} (retval {r.Retval})");
        if (r.Redirect is { } rd)
        {
            line.Append(" -> ").Append(Describe(rd));
        }

        line.Append($", {r.Data.Length} bytes");
        if (r.Meta.Length > 0)
        {
            line.Append($", {r.Meta.Length} bytes of metadata");
        }

        w.WriteLine(line.ToString());
        w.WriteLine($"  data: {Convert.ToHexStringLower(r.Data.Span)}");
        if (r.Meta.Length > 0)
        {
            w.WriteLine($"  meta: {Convert.ToHexStringLower(r.Meta.Span)}");
        }

        foreach (var t in r.Trace)
        {
            w.WriteLine($"  trace: {t}");
        }

        foreach (var ev in r.Events)
        {
            w.WriteLine($"  event {ev.Map}: {Convert.ToHexStringLower(ev.Data.Span)}");
        }
    }

    private static void WritePacketJson(Utf8JsonWriter w, XdpResult r)
    {
        w.WriteStartObject();
        w.WriteNumber("packet", r.Packet);
        if (r.Error is { } e)
        {
            w.WriteStartObject("error");
            if (e.Insn is { } insn)
            {
                w.WriteNumber("insn", insn);
            }
            else
            {
                w.WriteNull("insn");
            }

            w.WriteString("message", e.Message);
            w.WriteEndObject();
            w.WriteEndObject();
            return;
        }

        w.WriteNumber("retval", r.Retval);
        w.WriteString("action", r.Action == XdpAction.Unknown ? "unknown" : XdpActions.KernelName(r.Action));
        if (r.Redirect is { } rd && r.Action == XdpAction.Redirect)
        {
            w.WriteStartObject("redirect");
            w.WriteString("kind", rd.KindName);
            WriteNullable(w, "ifindex", rd.Ifindex);
            if (rd.Map is null)
            {
                w.WriteNull("map");
            }
            else
            {
                w.WriteString("map", rd.Map);
            }

            WriteNullable(w, "key", rd.Key);
            WriteNullable(w, "cpu", rd.Cpu);
            WriteNullable(w, "queue", rd.Queue);
            w.WriteBoolean("broadcast", rd.Broadcast);
            w.WriteBoolean("exclude_ingress", rd.ExcludeIngress);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("redirect");
        }

        w.WriteString("meta", Convert.ToHexStringLower(r.Meta.Span));
        w.WriteString("data", Convert.ToHexStringLower(r.Data.Span));
        w.WriteStartArray("trace");
        foreach (var t in r.Trace)
        {
            w.WriteStringValue(t);
        }

        w.WriteEndArray();
        w.WriteStartArray("events");
        foreach (var ev in r.Events)
        {
            w.WriteStartObject();
            w.WriteString("map", ev.Map);
            w.WriteString("data", Convert.ToHexStringLower(ev.Data.Span));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, uint? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
