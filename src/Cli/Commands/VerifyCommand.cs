using System.CommandLine;
using System.Globalization;
using VethXdp.Verifier;
using VethXdp.Verifier.Log;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp verify FILE [--prog NAME] [--type TYPE] [--log-level 0|1|2] [--map-size NAME=N]... [--json]</c>:
/// what Linux's verifier would say about each program.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "A clang-compiled BPF object (.o), a .s file, a conformance .data file or raw bytecode (the last three need --type)." };
        var prog = new Option<string?>("--prog") { Description = "Verify only this program (its function name)." };
        var type = new Option<string?>("--type") { Description = "The program type: libbpf's section word (xdp, socket, tc, classifier, action) or the kernel's name (xdp, socket_filter, sched_cls, sched_act)." };
        var level = new Option<int?>("--log-level") { Description = "0: no log; 1: the failing path (default, printed only for a rejected program); 2: every instruction." };
        var mapSize = new Option<string[]>("--map-size") { Description = "NAME=N: max_entries for a map the object leaves to user space.", AllowMultipleArgumentsPerToken = false };
        var json = new Option<bool>("--json") { Description = "One JSON object per program." };
        var stats = new Option<bool>("--stats") { Description = "Print the verifier's counters for every program (processed insns, states, stack depth, time)." };
        var cmd = new Command("verify", "Verify programs as Linux 6.18 would: accept or reject, with the kernel's log.")
        {
            file, prog, type, level, mapSize, json, stats,
        };
        cmd.SetAction(p => Run(p.GetValue(file)!, p.GetValue(prog), p.GetValue(type), p.GetValue(level),
            p.GetValue(mapSize) ?? [], p.GetValue(json), p.GetValue(stats)));
        return cmd;
    }

    /// <summary>Parses a program type given as libbpf's section word or the kernel's name.</summary>
    public static ProgramType ParseType(string text) => text.ToLowerInvariant() switch
    {
        "xdp" => ProgramType.Xdp,
        "socket" or "socket_filter" => ProgramType.SocketFilter,
        "tc" or "classifier" or "sched_cls" or "tcx" => ProgramType.SchedCls,
        "action" or "sched_act" => ProgramType.SchedAct,
        _ => throw new CliError($"--type {text}: unknown program type (use xdp, socket_filter, sched_cls or sched_act)"),
    };

    private static int Run(string path, string? progName, string? typeText, int? levelArg, string[] mapSizes, bool json, bool showStats)
    {
        if (levelArg is { } l && l is < 0 or > 2)
        {
            throw new CliError($"--log-level {l}: expected 0, 1 or 2");
        }

        var type = typeText is null ? (ProgramType?)null : ParseType(typeText);
        var bytes = InputFiles.ReadBytes(path);
        List<(ProgramSpec Spec, IReadOnlyList<MapSpec> Maps)> programs = [];
        if (InputFiles.IsElf(bytes))
        {
            var obj = InputFiles.LoadElf(path, bytes);
            var maps = ApplyMapSizes(obj.Maps, mapSizes);
            foreach (var p in obj.Programs)
            {
                if (progName is null || p.Name == progName)
                {
                    programs.Add((p, maps));
                }
            }

            if (progName is not null && programs.Count == 0)
            {
                throw new CliError($"{Path.GetFileName(path)}: no program named {progName} (programs: {string.Join(", ", obj.Programs.Select(p => p.Name))})");
            }
        }
        else
        {
            if (type is null)
            {
                throw new CliError($"{path}: not an ELF object: say which program type it is with --type");
            }

            var slots = path.EndsWith(".data", StringComparison.OrdinalIgnoreCase)
                ? InputFiles.LoadConformance(path).Slots.ToArray()
                : path.EndsWith(".s", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".asm", StringComparison.OrdinalIgnoreCase)
                    ? InputFiles.Assemble(path)
                    : InputFiles.ReadRawSlots(path, bytes);
            programs.Add((new ProgramSpec
            {
                Name = Path.GetFileNameWithoutExtension(path),
                SectionName = string.Empty,
                Type = type.Value,
                Slots = slots,
            }, []));
        }

        bool anyRejected = false;
        foreach (var (spec, maps) in programs)
        {
            int level = levelArg ?? 1;
            var logLevel = level switch
            {
                0 => VerifierLogLevel.None,
                1 => VerifierLogLevel.Level1,
                _ => VerifierLogLevel.Level2 | VerifierLogLevel.Level1,
            };
            var result = BpfVerifier.Verify(spec, maps, new VerifierOptions { Type = type, LogLevel = logLevel | VerifierLogLevel.Stats });
            anyRejected |= !result.Accepted;
            string log = result.Accepted && levelArg is null ? string.Empty : result.Log;
            if (json)
            {
                Json.Print(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("program", spec.Name);
                    w.WriteString("section", spec.SectionName);
                    w.WriteString("type", ProgsCommand.TypeName(result.Type));
                    w.WriteBoolean("accepted", result.Accepted);
                    w.WriteNumber("processed_insns", result.Stats.InsnProcessed);
                    if (result.Error is { } e)
                    {
                        w.WriteStartObject("error");
                        if (e.InsnIndex >= 0)
                        {
                            w.WriteNumber("insn", e.InsnIndex);
                        }
                        else
                        {
                            w.WriteNull("insn");
                        }

                        w.WriteString("message", e.Message);
                        w.WriteString("errno", e.ErrnoName);
                        w.WriteEndObject();
                    }
                    else
                    {
                        w.WriteNull("error");
                    }

                    w.WriteStartObject("states");
                    w.WriteNumber("max_states_per_insn", result.Stats.MaxStatesPerInsn);
                    w.WriteNumber("total_states", result.Stats.TotalStates);
                    w.WriteNumber("peak_states", result.Stats.PeakStates);
                    w.WriteNumber("mark_read", result.Stats.MarkRead);
                    w.WriteEndObject();
                    if (showStats)
                    {
                        w.WriteNumber("verification_time_usec", result.Stats.VerificationTimeUsec);
                        w.WriteStartArray("stack_depth");
                        foreach (int d in result.Stats.StackDepths)
                        {
                            w.WriteNumberValue(d);
                        }

                        w.WriteEndArray();
                    }

                    w.WriteString("log", log);
                    w.WriteEndObject();
                }, indented: false);
            }
            else
            {
                if (log.Length > 0)
                {
                    Console.Out.Write(log);
                }

                string verdict = result.Accepted
                    ? "accepted"
                    : result.Error!.InsnIndex >= 0
                        ? $"rejected at insn {result.Error.InsnIndex} ({result.Error.ErrnoName}): {FirstLine(result.Error.Message)}"
                        : $"rejected ({result.Error.ErrnoName}): {FirstLine(result.Error.Message)}";
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{spec.Name}: {verdict}, {result.Stats.InsnProcessed} insns processed"));
                if (showStats)
                {
                    var s = result.Stats;
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  processed {s.InsnProcessed} insns (limit {VerifierStats.InsnLimit}) max_states_per_insn {s.MaxStatesPerInsn} total_states {s.TotalStates} peak_states {s.PeakStates} mark_read {s.MarkRead}; stack depth {string.Join('+', s.StackDepths)}; {s.VerificationTimeUsec} usec"));
                }
            }
        }

        return anyRejected ? ExitCode.Negative : ExitCode.Ok;
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOf('\n', StringComparison.Ordinal);
        return nl < 0 ? s : s[..nl];
    }

    private static IReadOnlyList<MapSpec> ApplyMapSizes(IReadOnlyList<MapSpec> maps, string[] sizes)
    {
        if (sizes.Length == 0)
        {
            return maps;
        }

        var result = maps.ToList();
        foreach (var s in sizes)
        {
            int eq = s.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !uint.TryParse(s[(eq + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out uint n) || n == 0)
            {
                throw new CliError($"--map-size {s}: expected NAME=N with N a positive number");
            }

            int i = result.FindIndex(m => m.Name == s[..eq]);
            if (i < 0)
            {
                throw new CliError($"--map-size {s}: the object has no map named {s[..eq]}");
            }

            result[i] = result[i] with { MaxEntries = n };
        }

        return result;
    }
}
