using System.CommandLine;
using VethXdp.Kernel;
using VethXdp.Vm.Elf;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp diff OBJ [--prog NAME] --pcap IN [--maps-in FILE] [--map-size NAME=N]... [--ifindex] [--rx-queue] [--cpu] [--json]</c>:
/// runs the packets through us and through the running kernel (BPF_PROG_TEST_RUN) and shows where we disagree.</summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var common = new ObjectOptions();
        var pcap = new Option<string>("--pcap") { Description = "Packets from a pcap or pcapng file.", Required = true };
        var json = new Option<bool>("--json") { Description = "One JSON object per disagreement, then a summary object." };
        var cmd = new Command("diff", "Compare our verdicts, output bytes and final maps with the running kernel's, packet by packet.");
        common.AddTo(cmd);
        cmd.Options.Add(pcap);
        cmd.Options.Add(json);
        cmd.SetAction(p => Run(p, common, p.GetValue(pcap)!, p.GetValue(json)));
        return cmd;
    }

    private static int Run(ParseResult p, ObjectOptions common, string pcapPath, bool json)
    {
        string objPath = p.GetValue(common.Object)!;
        var obj = InputFiles.LoadElf(objPath, InputFiles.ReadBytes(objPath));
        if (!File.Exists(pcapPath))
        {
            throw new CliError($"{pcapPath}: no such file");
        }

        string? mapsIn = p.GetValue(common.MapsIn);
        if (mapsIn is not null && !File.Exists(mapsIn))
        {
            throw new CliError($"{mapsIn}: no such file");
        }

        string program = ProgramName(obj, p.GetValue(common.Prog));
        var load = common.LoadOptions(p);
        var frames = CrossCheck.ReadFrames(pcapPath);

        if (!KernelProbe.IsBpfPermitted(out string reason))
        {
            // Not a disagreement and not bad input: the comparison cannot be made here.
            if (json)
            {
                Json.Print(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("skipped", reason);
                    w.WriteEndObject();
                });
            }

            Console.Error.WriteLine($"vethxdp: diff skipped: the running kernel cannot be asked here: {reason}");
            return ExitCode.Ok;
        }

        var report = CrossCheck.Run(obj, frames, new CrossCheckOptions
        {
            Program = program,
            InitialMapsJson = mapsIn is null ? null : File.ReadAllText(mapsIn),
            MapSizes = load.MapSizes,
            Ifindex = p.GetValue(common.Ifindex),
            RxQueue = p.GetValue(common.RxQueue),
            Cpu = p.GetValue(common.Cpu),
        });

        if (json)
        {
            WriteJson(report);
        }
        else
        {
            Console.Out.WriteLine(report.Summary);
        }

        return report.Agrees ? ExitCode.Ok : ExitCode.Negative;
    }

    private static string ProgramName(BpfObject obj, string? prog)
    {
        var names = obj.Programs.Select(x => x.Name).ToArray();
        if (prog is null)
        {
            return names.Length == 1
                ? names[0]
                : throw new CliError(names.Length == 0
                    ? "the object has no programs"
                    : $"the object has {names.Length} programs; choose one with --prog: {string.Join(", ", names)}");
        }

        return names.Contains(prog, StringComparer.Ordinal)
            ? prog
            : throw new CliError($"no program named \"{prog}\"; the object has: {string.Join(", ", names)}");
    }

    private static void WriteJson(CrossCheckReport report)
    {
        using var stdout = Console.OpenStandardOutput();
        foreach (var d in report.PacketDisagreements)
        {
            Line(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteNumber("packet", d.Packet);
                w.WriteString("field", d.Field.ToString().ToLowerInvariant());
                w.WriteString("description", d.Description);
                w.WriteEndObject();
            });
        }

        foreach (var d in report.MapDisagreements)
        {
            Line(stdout, w =>
            {
                w.WriteStartObject();
                if (d.Packet is { } pk)
                {
                    w.WriteNumber("packet", pk);
                }
                else
                {
                    w.WriteNull("packet");
                }

                w.WriteString("map", d.Map);
                if (d.Key is null)
                {
                    w.WriteNull("key");
                }
                else
                {
                    w.WriteString("key", d.Key);
                }

                w.WriteString("description", d.Description);
                w.WriteEndObject();
            });
        }

        Line(stdout, w =>
        {
            w.WriteStartObject();
            w.WriteString("program", report.Program);
            w.WriteBoolean("agrees", report.Agrees);
            w.WriteNumber("packets", report.Packets.Count);
            w.WriteNumber("packet_disagreements", report.PacketDisagreements.Count);
            w.WriteNumber("map_disagreements", report.MapDisagreements.Count);
            WriteNullableString(w, "kernel_refusal", report.KernelRefusal);
            WriteNullableString(w, "vm_refusal", report.VmRefusal);
            w.WriteStartArray("not_compared");
            foreach (var n in report.NotCompared)
            {
                w.WriteStringValue(n);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static void WriteNullableString(System.Text.Json.Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static void Line(Stream stdout, Action<System.Text.Json.Utf8JsonWriter> body)
    {
        using (var w = new System.Text.Json.Utf8JsonWriter(stdout, new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            body(w);
        }

        stdout.WriteByte((byte)'\n');
        stdout.Flush();
    }
}
