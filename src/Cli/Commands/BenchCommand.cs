using System.CommandLine;
using System.Globalization;
using VethXdp.Kernel;
using VethXdp.Vm.Pcap;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Text;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp bench OBJ [--prog NAME] (--packet HEX | --pcap IN) [--engine E] [--repeat N] [--kernel] [controls] [--json]</c>:
/// nanoseconds per run of an XDP program, measured as BPF_PROG_TEST_RUN's repeat measures it, and with --kernel the
/// running kernel's own figure beside it.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var common = new ObjectOptions();
        var pcap = new Option<string?>("--pcap") { Description = "Packets from a pcap or pcapng file: each is measured, and ns_per_run is the mean over them." };
        var packet = new Option<string[]>("--packet") { Description = "One packet as hex (repeatable)." };
        var engine = Engines.Option();
        var unverified = Engines.UnverifiedOption();
        var repeat = new Option<long>("--repeat")
        {
            Description = "Runs per packet, as BPF_PROG_TEST_RUN's repeat: the frame and context are not reset between runs (default 1,000,000).",
            DefaultValueFactory = _ => XdpBenchOptions.DefaultRepeat,
        };
        var kernel = new Option<bool>("--kernel") { Description = "Also run the packets through the running kernel's BPF_PROG_TEST_RUN with the same repeat and show its duration per run." };
        var json = new Option<bool>("--json") { Description = "One JSON object: ns_per_run, engine, repeat (and kernel_ns_per_run, ratio or kernel_error with --kernel)." };
        var cmd = new Command("bench", "Nanoseconds per run of an XDP program on an engine, as BPF_PROG_TEST_RUN's repeat measures it; --kernel adds the kernel's.");
        common.AddTo(cmd);
        cmd.Options.Add(pcap);
        cmd.Options.Add(packet);
        cmd.Options.Add(engine);
        cmd.Options.Add(unverified);
        cmd.Options.Add(repeat);
        cmd.Options.Add(kernel);
        cmd.Options.Add(json);
        cmd.SetAction(p => Run(p, common, p.GetValue(pcap), p.GetValue(packet) ?? [], p.GetValue(engine), p.GetValue(unverified), p.GetValue(repeat), p.GetValue(kernel), p.GetValue(json)));
        return cmd;
    }

    private static int Run(ParseResult p, ObjectOptions common, string? pcapPath, string[] hexPackets, string? engineOption, bool unverified, long repeat, bool kernel, bool json)
    {
        Engines.Check(engineOption);

        if ((pcapPath is null) == (hexPackets.Length == 0))
        {
            throw new CliError("bench needs exactly one packet source: --pcap IN or --packet HEX");
        }

        if (repeat is <= 0 or > uint.MaxValue)
        {
            throw new CliError($"--repeat must be between 1 and {uint.MaxValue} (BPF_PROG_TEST_RUN's repeat is a u32), not {repeat}");
        }

        var frames = ReadFrames(pcapPath, hexPackets);
        string objPath = p.GetValue(common.Object)!;
        string? mapsIn = p.GetValue(common.MapsIn);
        var load = common.LoadOptions(p);
        using var loaded = ObjectFiles.Open(objPath, load, mapsIn);
        var runOptions = common.RunOptions(p, loaded.PossibleCpus);
        string program = ObjectFiles.ProgramName(loaded, p.GetValue(common.Prog));
        // The same rule as run's (Engines.Choose): jit when the verifier accepts the program, else interp.
        var factory = Engines.Choose(loaded, program, engineOption, unverified).Factory;

        XdpBenchResult ours;
        using (var bench = NewBench(loaded, program, runOptions, factory, repeat))
        {
            ours = bench.Measure(frames);
        }

        // A frame BPF_PROG_TEST_RUN refuses (shorter than ETH_HLEN) is skipped in a capture, bad input on its own;
        // a fault is a negative answer.
        int ran = 0;
        foreach (var packet in ours.Packets)
        {
            if (packet.Error is not { } error)
            {
                ran++;
                continue;
            }

            if (error.Insn is not null)
            {
                throw new RefusedError($"packet {packet.Index}: {error}");
            }

            if (pcapPath is null)
            {
                throw new CliError($"--packet {packet.Index}: {error}");
            }

            Console.Error.WriteLine($"vethxdp: packet {packet.Index} skipped: {error}");
        }

        if (ran == 0)
        {
            throw new CliError($"{pcapPath}: no packet could run");
        }

        KernelBenchResult? k = null;
        if (kernel)
        {
            var obj = InputFiles.LoadElf(objPath, InputFiles.ReadBytes(objPath));
            k = KernelBench.Run(obj, frames, new KernelBenchOptions
            {
                Program = program,
                Repeat = (uint)repeat,
                MapSizes = load.MapSizes,
                InitialMapsJson = mapsIn is null ? null : File.ReadAllText(mapsIn),
                Ifindex = runOptions.Ifindex,
                RxQueue = runOptions.RxQueue,
                Cpu = runOptions.Cpu,
            });
        }

        double ns = ours.NsPerRun;
        double? kernelNs = k?.NsPerRun;
        string? kernelError = k is null ? null : k.Error ?? (kernelNs is null ? k.FirstError?.Error ?? "the kernel ran no packet" : null);
        double? ratio = kernelNs is > 0 ? ns / kernelNs.Value : null;
        if (json)
        {
            Json.Print(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("ns_per_run", Math.Round(ns, 3));
                w.WriteString("engine", ours.Engine);
                w.WriteNumber("repeat", repeat);
                if (k is not null)
                {
                    WriteNullable(w, "kernel_ns_per_run", kernelNs is { } kv ? Math.Round(kv, 3) : null);
                    WriteNullable(w, "ratio", ratio is { } r ? Math.Round(r, 3) : null);
                    if (kernelError is not null)
                    {
                        w.WriteString("kernel_error", kernelError);
                    }
                }

                w.WriteEndObject();
            });
        }
        else
        {
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{program} on {ours.Engine}: {ns:0.0} ns per run ({repeat:N0} runs per packet, {ran} packet{(ran == 1 ? "" : "s")})");
            if (k is not null)
            {
                line += kernelNs is { } kn
                    ? string.Create(CultureInfo.InvariantCulture, $"; kernel: {kn:0.0} ns per run, ratio {ratio:0.00}")
                    : $"; kernel: {kernelError}";
            }

            Console.Out.WriteLine(line);
        }

        return ExitCode.Ok;
    }

    private static XdpBench NewBench(LoadedObject loaded, string program, RunOptions runOptions, IBpfEngineFactory factory, long repeat)
    {
        try
        {
            return new XdpBench(loaded, program, runOptions, factory, new XdpBenchOptions { Repeat = repeat });
        }
        catch (RuntimeLoadException ex)
        {
            throw new RefusedError($"program {program}: {ex.Reason}", ex);
        }
    }

    private static List<ReadOnlyMemory<byte>> ReadFrames(string? pcapPath, string[] hexPackets)
    {
        var frames = new List<ReadOnlyMemory<byte>>();
        if (pcapPath is null)
        {
            for (int i = 0; i < hexPackets.Length; i++)
            {
                try
                {
                    frames.Add(HexText.Parse(hexPackets[i], $"--packet {i}"));
                }
                catch (FormatException ex)
                {
                    throw new CliError(ex.Message, ex);
                }
            }

            return frames;
        }

        if (!File.Exists(pcapPath))
        {
            throw new CliError($"{pcapPath}: no such file");
        }

        using var reader = PcapReader.Open(pcapPath);
        foreach (var record in reader.ReadAll())
        {
            frames.Add(record.Data.ToArray());
        }

        if (frames.Count == 0)
        {
            throw new CliError($"{pcapPath}: no packets");
        }

        return frames;
    }

    private static void WriteNullable(System.Text.Json.Utf8JsonWriter w, string name, double? value)
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
