using System.CommandLine;
using System.Globalization;
using System.Text;
using VethXdp.Devices;
using VethXdp.Devices.Scenarios;
using VethXdp.Jit;
using VethXdp.Verifier;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp sim SCENARIO... [--packets N] [--threads N] [--engine E] [--capture DIR] [--json] [--chart FILE.svg]</c>:
/// runs veth XDP scenarios (NIC, devmap redirect, veth pairs, NAPI) and reports every device's counters, where the
/// frames ended, the rate and a diagnosis. Every program a scenario attaches is verified as Linux verifies it before
/// attaching it and runs on the unchecked JIT when accepted (<see cref="AttachEngines"/>).</summary>
internal static class SimCommand
{
    public static Command Create()
    {
        var scenarios = new Argument<string[]>("SCENARIO") { Description = "Scenario files (JSON; see docs/scenarios.md).", Arity = ArgumentArity.OneOrMore };
        var packets = new Option<long?>("--packets") { Description = "Frames to generate (overrides the scenario's traffic.packets)." };
        var threads = new Option<int>("--threads") { Description = "Worker threads the simulated CPUs are spread over (the counters do not depend on it).", DefaultValueFactory = _ => 1 };
        var engine = new Option<string?>("--engine") { Description = "Execution engine: interp, jit-checked or jit (overrides the scenario's). Default: jit for every program the verifier accepts; interp and jit-checked run the programs unverified." };
        var warmup = new Option<long?>("--warmup") { Description = "Frames to run first through a separate copy of each scenario, so that Mpps measures .NET's fully optimised code (default: as many as --packets, at most 1,000,000; 0: none). Counters are not affected." };
        var capture = new Option<string?>("--capture") { Description = "Write a pcapng per device into this directory." };
        var json = new Option<bool>("--json") { Description = "One line of JSON per scenario." };
        var chart = new Option<string?>("--chart") { Description = "Draw Mpps per test, native against generic, as an SVG bar chart (the paper's Figures 1 and 2)." };
        var cmd = new Command("sim", "Simulate the veth XDP world of the paper: a NIC redirecting into veth pairs, native or generic XDP, per-queue counters as ethtool -S shows them, drops with reasons, a conservation check and Mpps.")
        {
            scenarios, packets, threads, engine, warmup, capture, json, chart,
        };
        cmd.SetAction(p => Run(p.GetValue(scenarios)!, p.GetValue(packets), p.GetValue(threads), p.GetValue(engine), p.GetValue(warmup), p.GetValue(capture), p.GetValue(json), p.GetValue(chart)));
        return cmd;
    }

    /// <summary>The most frames a default warm-up runs.</summary>
    internal const long MaxDefaultWarmup = 1_000_000;

    private static int Run(string[] files, long? packets, int threads, string? engine, long? warmup, string? capture, bool json, string? chart)
    {
        if (warmup is < 0)
        {
            throw new CliError($"--warmup {warmup}: must not be negative");
        }

        if (threads < 1)
        {
            throw new CliError($"--threads {threads}: must be at least 1");
        }

        if (packets is <= 0)
        {
            throw new CliError($"--packets {packets}: must be positive");
        }

        if (engine is not null)
        {
            Engines.Check(engine);
        }

        var results = new List<SimResult>();
        bool allConserved = true;
        foreach (var file in files)
        {
            string name = ScenarioBuilder.NameOf(file);
            var engines = new AttachEngines();
            SimWorld world;
            try
            {
                world = ScenarioBuilder.Build(file, engines.Select, packets, engine);
            }
            catch (ScenarioException e)
            {
                throw new CliError(e.Message);
            }

            using (world)
            {
                // .NET compiles hot methods in tiers (quick code first, optimised code after some calls and a delay):
                // run the same scenario once on a throw-away copy, so the measured run sees the steady state.
                long warm = warmup ?? Math.Min(world.Source?.Packets ?? 0, MaxDefaultWarmup);
                if (warm > 0)
                {
                    using var copy = ScenarioBuilder.Build(file, engines.Select, warm, engine);
                    new Simulator(copy).Run(name, threads);
                }

                if (capture is not null)
                {
                    world.Capture = new SimCapture(files.Length == 1 ? capture : Path.Combine(capture, name));
                }

                bool showProgress = !json && !Console.IsErrorRedirected;
                var result = new Simulator(world).Run(name, threads, showProgress ? Progress : null);
                if (showProgress)
                {
                    Console.Error.Write("\r\u001b[K");
                }

                results.Add(result);
                allConserved &= result.Conserved;
                Console.Out.Write(json ? result.ToJson() + "\n" : result.ToText());
            }
        }

        if (chart is not null)
        {
            File.WriteAllText(chart, Chart(results));
            if (!json)
            {
                Console.Out.WriteLine($"{chart}: {results.Count} bar{(results.Count == 1 ? string.Empty : "s")}");
            }
        }

        return allConserved ? ExitCode.Ok : ExitCode.Negative;
    }

    private static void Progress(long done, long total)
    {
        if (total > 0)
        {
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{done:N0} / {total:N0} frames ({100.0 * done / total:F0}%)"));
        }
    }

    // The paper's figures: one group per test (XDP_DROP, XDP_TX, XDP_REDIRECT), a native and a generic bar in each.
    internal static string Chart(IReadOnlyList<SimResult> results)
    {
        var groups = new List<(string Test, List<(string Label, double Mpps, bool Generic)> Bars)>();
        foreach (var r in results)
        {
            string test = r.Scenario;
            string label = r.Scenario;
            bool generic = r.Scenario.Contains("generic", StringComparison.Ordinal);
            var parts = r.Scenario.Split('-');
            if (parts.Length >= 3 && parts[0] == "paper")
            {
                test = "XDP_" + parts[1].ToUpperInvariant() + (parts.Length >= 4 ? " (" + parts[3] + ")" : string.Empty);
                label = parts[2];
            }

            int g = groups.FindIndex(x => x.Test == test);
            if (g < 0)
            {
                groups.Add((test, []));
                g = groups.Count - 1;
            }

            groups[g].Bars.Add((label, r.Mpps, generic));
        }

        double max = Math.Max(1, results.Count == 0 ? 1 : results.Max(r => r.Mpps));
        double top = Math.Ceiling(max / 2) * 2;
        const int barW = 48, gap = 24, left = 60, chartH = 300, topPad = 40;
        int width = left + groups.Sum(g => (g.Bars.Count * barW) + gap) + gap;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{chartH + topPad + 60}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"20\" font-size=\"14\">Mpps per test (native vs generic XDP)</text>\n");
        for (int i = 0; i <= 4; i++)
        {
            double v = top * i / 4;
            double y = topPad + chartH - (chartH * i / 4.0);
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{y:F1}\" x2=\"{width - gap}\" y2=\"{y:F1}\" stroke=\"#ddd\"/><text x=\"{left - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{v:0.#}</text>\n");
        }

        int x = left + gap;
        foreach (var (test, bars) in groups)
        {
            int gx = x;
            foreach (var (label, mpps, generic) in bars)
            {
                double h = chartH * mpps / top;
                double y = topPad + chartH - h;
                string color = generic ? "#e8a33d" : "#3d7be8";
                sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{y:F1}\" width=\"{barW - 6}\" height=\"{h:F1}\" fill=\"{color}\"><title>{Escape(label)}: {mpps:F2} Mpps</title></rect>\n");
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + ((barW - 6) / 2)}\" y=\"{y - 4:F1}\" text-anchor=\"middle\">{mpps:F1}</text>\n");
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + ((barW - 6) / 2)}\" y=\"{topPad + chartH + 14}\" text-anchor=\"middle\" font-size=\"10\">{Escape(label)}</text>\n");
                x += barW;
            }

            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{(gx + x) / 2}\" y=\"{topPad + chartH + 32}\" text-anchor=\"middle\">{Escape(test)}</text>\n");
            x += gap;
        }

        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>The engines of the programs one scenario attaches (issue 6's rule, applied per program): <c>interp</c>
    /// and <c>jit-checked</c>, when named, run the program unverified; otherwise (no engine named, or <c>jit</c>) the
    /// program is verified as Linux verifies it at load (its program type, expected attach type and device-bound flag)
    /// and runs on the unchecked JIT when accepted. A program rejected for a reason Linux shares stops the command as
    /// Linux would refuse to load it (exit 1, the kernel-style log on standard error); one this verifier cannot decide
    /// (an unmodelled feature, the complexity limit) runs on jit-checked with a note, unless jit was named (exit 2).
    /// Verdicts are kept per program, so the warm-up copy of the world is not verified again.</summary>
    internal sealed class AttachEngines
    {
        private readonly Dictionary<(string Object, string Program, ProgramAttachKind Kind), VerificationResult> _verdicts = [];

        /// <summary>The factory for one program (an <see cref="EngineSelector"/>).</summary>
        public IBpfEngineFactory Select(ProgramAttachRequest r)
        {
            ArgumentNullException.ThrowIfNull(r);
            Engines.Check(r.Engine);
            string label = $"{r.ObjectName}/{r.Program.Name}";
            if (r.Engine is Engines.Interpreter or Engines.JitChecked)
            {
                return Engines.Factory(r.Engine, label);
            }

            var key = (r.ObjectName, r.Program.Name, r.Kind);
            bool first = !_verdicts.TryGetValue(key, out var result);
            if (first)
            {
                var maps = new MapSpec[r.Object.Maps.Count];
                for (int i = 0; i < maps.Length; i++)
                {
                    maps[i] = r.Object.Maps[i].Spec;
                }

                // kernel: bpf_prog_load(): the type and expected_attach_type libbpf gives the program (from its
                // section: "xdp", "xdp/devmap"), prog_ifindex with BPF_F_XDP_DEV_BOUND_ONLY when device-bound.
                var options = new VerifierOptions
                {
                    Type = r.Program.Type,
                    ExpectedAttachType = r.Program.ExpectedAttachType,
                    DeviceBound = r.Object.Options.DeviceBound,
                };
                result = BpfVerifier.Verify(r.Program, maps, options);
                _verdicts[key] = result;
            }

            if (result!.Accepted)
            {
                return JitEngineFactory.Unchecked([result.Seal(r.Program, r.Prepared)]);
            }

            var e = result.Error!;
            string where = r.Kind == ProgramAttachKind.DevmapEgress ? $"egress program of devmap {r.Device}" : $"attached to {r.Device}";
            string firstLine = e.Message.Split('\n')[0];
            if (e.Kind is not (RejectKind.NotSupported or RejectKind.TooComplex))
            {
                Console.Error.Write(result.Log);
                throw new RefusedError($"scenario {r.Scenario}: program {label} ({where}): rejected by the verifier, as Linux would refuse to load it (insn {e.InsnIndex}, {e.ErrnoName}): {firstLine}");
            }

            if (r.Engine == Engines.Jit)
            {
                throw new CliError($"scenario {r.Scenario}: program {label} cannot run on {Engines.Jit}: the verifier could not decide ({firstLine}); use --engine {Engines.JitChecked} (or {Engines.Interpreter})");
            }

            if (first)
            {
                Console.Error.WriteLine($"vethxdp: note: scenario {r.Scenario}: program {label}: the verifier could not decide ({firstLine}); running it on {Engines.JitChecked}");
            }

            return JitEngineFactory.Checked;
        }
    }

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
