using System.CommandLine;
using System.Globalization;
using VethXdp.Vm.Runtime;

namespace VethXdp.Cli.Commands;

/// <summary>The object, map and run-control options that run (and later verify, diff, bench, trace) share.</summary>
internal sealed class ObjectOptions
{
    public Argument<string> Object { get; } = new("OBJ") { Description = "A clang-compiled BPF object (.o)." };

    public Option<string?> Prog { get; } = new("--prog") { Description = "The program (its function name); needed when the object has several." };

    public Option<string[]> MapSize { get; } = new("--map-size")
    {
        Description = "NAME=N: max_entries for a map the object leaves at 0 (repeatable).",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string?> MapsIn { get; } = new("--maps-in") { Description = "Initial map contents, in the format of run --json's last line." };

    public Option<uint> Ifindex { get; } = new("--ifindex") { Description = "ingress_ifindex (BPF_PROG_TEST_RUN's default: 1, loopback).", DefaultValueFactory = _ => 1 };

    public Option<uint> RxQueue { get; } = new("--rx-queue") { Description = "rx_queue_index (default 0)." };

    public Option<int?> Cpus { get; } = new("--cpus") { Description = "Number of possible CPUs for per-CPU maps (default: this machine's)." };

    public Option<int> Cpu { get; } = new("--cpu") { Description = "What bpf_get_smp_processor_id returns and which per-CPU slot is used (default 0)." };

    public Option<ulong> Seed { get; } = new("--seed") { Description = "Seed of bpf_get_prandom_u32 (default 0)." };

    public Option<ulong> TimeNs { get; } = new("--time-ns") { Description = "Where the clock starts, in ns (default 0)." };

    public Option<ulong> TimeStepNs { get; } = new("--time-step-ns") { Description = "How far the clock moves per packet, in ns (default 0)." };

    public Option<long> Budget { get; } = new("--budget") { Description = "Instruction budget per packet (default 1,000,000).", DefaultValueFactory = _ => 1_000_000 };

    public void AddTo(Command cmd)
    {
        cmd.Arguments.Add(Object);
        foreach (var o in new Option[] { Prog, MapSize, MapsIn, Ifindex, RxQueue, Cpus, Cpu, Seed, TimeNs, TimeStepNs, Budget })
        {
            cmd.Options.Add(o);
        }
    }

    public LoadOptions LoadOptions(ParseResult p)
    {
        var sizes = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (var s in p.GetValue(MapSize) ?? [])
        {
            int eq = s.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !uint.TryParse(s.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out uint n) || n == 0)
            {
                throw new CliError($"--map-size {s}: expected NAME=N with N a positive number");
            }

            sizes[s[..eq]] = n;
        }

        int? cpus = p.GetValue(Cpus);
        if (cpus is <= 0)
        {
            throw new CliError($"--cpus must be positive, not {cpus}");
        }

        return new LoadOptions { MapSizes = sizes, PossibleCpus = cpus };
    }

    public RunOptions RunOptions(ParseResult p, int possibleCpus)
    {
        int cpu = p.GetValue(Cpu);
        if (cpu < 0 || cpu >= possibleCpus)
        {
            throw new CliError($"--cpu {cpu}: there are {possibleCpus} possible CPUs (0-{possibleCpus - 1})");
        }

        long budget = p.GetValue(Budget);
        if (budget <= 0)
        {
            throw new CliError($"--budget must be positive, not {budget}");
        }

        return new RunOptions
        {
            Ifindex = p.GetValue(Ifindex),
            RxQueue = p.GetValue(RxQueue),
            Cpu = cpu,
            Seed = p.GetValue(Seed),
            TimeNs = p.GetValue(TimeNs),
            TimeStepNs = p.GetValue(TimeStepNs),
            InstructionBudget = budget,
        };
    }
}
