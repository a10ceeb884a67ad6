using System.CommandLine;
using VethXdp.Reports.Trace;
using VethXdp.Vm.Pcap;
using VethXdp.Vm.Text;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp trace OBJ [--prog NAME] (--packet HEX | --pcap IN [--index K]) [map/run options] [--max-steps N] [--json]</c>.</summary>
internal static class TraceCommand
{
    public static Command Create()
    {
        var common = new ObjectOptions();
        var packet = new Option<string?>("--packet") { Description = "The packet as hex." };
        var pcap = new Option<string?>("--pcap") { Description = "Take the packet from a pcap or pcapng file." };
        var index = new Option<int?>("--index") { Description = "With --pcap: trace packet K (from 0; default 0). The packets before it run first, untraced, as run would run them (maps and clock move on)." };
        var maxSteps = new Option<int>("--max-steps") { Description = "Record at most N instructions (default 100,000).", DefaultValueFactory = _ => TraceRecorder.DefaultMaxSteps };
        var json = new Option<bool>("--json") { Description = "One JSON object per executed instruction, then one with the verdict." };
        var cmd = new Command("trace", "Run an XDP program on one packet and show every instruction it executes: source lines, registers, memory, calls and the verdict.");
        common.AddTo(cmd);
        cmd.Options.Add(packet);
        cmd.Options.Add(pcap);
        cmd.Options.Add(index);
        cmd.Options.Add(maxSteps);
        cmd.Options.Add(json);
        cmd.SetAction(p => Run(p, common, p.GetValue(packet), p.GetValue(pcap), p.GetValue(index), p.GetValue(maxSteps), p.GetValue(json)));
        return cmd;
    }

    private static int Run(ParseResult p, ObjectOptions common, string? packetHex, string? pcapPath, int? index, int maxSteps, bool json)
    {
        if ((pcapPath is null) == (packetHex is null))
        {
            throw new CliError("trace needs exactly one packet source: --pcap IN or --packet HEX");
        }

        if (index is not null && pcapPath is null)
        {
            throw new CliError("--index needs --pcap");
        }

        if (index is < 0)
        {
            throw new CliError($"--index must not be negative, not {index}");
        }

        if (maxSteps <= 0)
        {
            throw new CliError($"--max-steps must be positive, not {maxSteps}");
        }

        string objPath = p.GetValue(common.Object)!;
        using var loaded = ObjectFiles.Open(objPath, common.LoadOptions(p), p.GetValue(common.MapsIn));
        var runOptions = common.RunOptions(p, loaded.PossibleCpus);
        // Always the interpreter: a trace records every instruction, and only the interpreter reports them.
        using var runner = ObjectFiles.Runner(loaded, p.GetValue(common.Prog), runOptions);

        int k = index ?? 0;
        byte[] frame = packetHex is not null ? ParseHex(packetHex) : ReadAndRunBefore(runner, pcapPath!, k);
        var recorder = new TraceRecorder(loaded.Maps, maxSteps);
        XdpTrace.Run(runner, frame, recorder);

        if (json)
        {
            using var stdout = Console.OpenStandardOutput();
            TraceRenderer.WriteJson(stdout, recorder);
        }
        else
        {
            Console.Out.WriteLine($"trace of {runner.Program.Name} ({Path.GetFileName(objPath)}): packet {k}, {frame.Length} bytes");
            TraceRenderer.WriteText(Console.Out, recorder);
        }

        return ExitCode.Ok;
    }

    private static byte[] ParseHex(string hex)
    {
        try
        {
            return HexText.Parse(hex, "--packet");
        }
        catch (FormatException ex)
        {
            throw new CliError(ex.Message, ex);
        }
    }

    // Packet `index` of the file; the packets before it run (untraced) first.
    private static byte[] ReadAndRunBefore(Vm.Runtime.XdpRunner runner, string path, int index)
    {
        if (!File.Exists(path))
        {
            throw new CliError($"{path}: no such file");
        }

        using var reader = PcapReader.Open(path);
        for (int i = 0; ; i++)
        {
            if (!reader.TryRead(out var record))
            {
                throw new CliError($"{path} has {i} packet{(i == 1 ? string.Empty : "s")}: there is no packet {index}");
            }

            if (i == index)
            {
                return record.Data.ToArray();
            }

            runner.Run(record.Data.Span);
        }
    }
}
