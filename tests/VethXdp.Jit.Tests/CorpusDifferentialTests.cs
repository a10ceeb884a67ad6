using System.Text;
using System.Text.Json.Nodes;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Pcap;
using VethXdp.Vm.Runtime;

namespace VethXdp.Jit.Tests;

/// <summary>Every run of corpus/manifest.json in the default environment, at cpu v2, v3 and v4, through
/// <see cref="XdpRunner"/> on the interpreter and on the checked JIT: every packet gives the same verdict, bytes,
/// metadata, redirect target, trace and events (or the same error), and the maps end the same (MapsJson).</summary>
public class CorpusDifferentialTests
{
    private static readonly Lazy<JsonNode?> s_manifest = new(() =>
    {
        string path = Path.Combine(TestPaths.CorpusDir, "manifest.json");
        return File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) : null;
    });

    public static TheoryData<string, string, int> Runs()
    {
        var data = new TheoryData<string, string, int>();
        if (s_manifest.Value?["objects"] is not JsonArray objects)
        {
            data.Add("(none)", "v2", -1);
            return data;
        }

        foreach (var obj in objects)
        {
            int runs = obj!["runs"]?.AsArray().Count ?? 0;
            foreach (var version in new[] { "v2", "v3", "v4" })
            {
                for (int i = 0; i < runs; i++)
                {
                    data.Add(obj["name"]!.GetValue<string>(), version, i);
                }
            }
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Runs))]
    public void CorpusRun_InterpAndJitChecked_SameResultsAndMaps(string objectName, string version, int runIndex)
    {
        Skip.If(s_manifest.Value is null, "corpus/manifest.json is absent");
        var obj = s_manifest.Value["objects"]!.AsArray().First(o => o!["name"]!.GetValue<string>() == objectName)!;
        var run = obj["runs"]![runIndex]!;
        var needs = obj["needs"]?.AsArray().Select(n => n!.GetValue<string>()).ToArray() ?? [];
        Skip.If(needs.Contains("sockets"), "the run needs sockets the environment provides");
        Skip.If(needs.Contains("device-bound-load"), "the program needs a device-bound load (the devices issue)");
        var environment = s_manifest.Value["environments"]![run["environment"]!.GetValue<string>()]!;
        Skip.If(environment["netns"]?.GetValue<bool>() == true,
            $"the run needs the \"{run["environment"]}\" network: building a NetEnvironment from the manifest is the command's work");
        string objectPath = Path.Combine(TestPaths.CorpusDir, obj["objects"]![version]!.GetValue<string>());
        Skip.IfNot(File.Exists(objectPath), $"{objectPath} is not built");
        BpfObject elf;
        try
        {
            elf = ElfObjectReader.Load(objectPath);
        }
        catch (ElfLoadException e)
        {
            Skip.If(true, $"the ELF loader refuses it: {e.Message}");
            throw;
        }

        var options = new RunOptions
        {
            Ifindex = environment["ingressIfindex"]?.GetValue<uint>() ?? 1,
            RxQueue = environment["rxQueueIndex"]?.GetValue<uint>() ?? 0,
        };
        string program = run["program"]!.GetValue<string>();
        var frames = ReadPcap(Path.Combine(TestPaths.CorpusDir, run["pcap"]!.GetValue<string>()));
        var interp = RunAll(elf, run, program, options, frames, null);
        var jit = RunAll(elf, run, program, options, frames, JitEngineFactory.Checked);
        Assert.Equal(interp.Packets.Count, jit.Packets.Count);
        for (int i = 0; i < interp.Packets.Count; i++)
        {
            Assert.True(interp.Packets[i] == jit.Packets[i], $"packet {i}:\n  interp: {interp.Packets[i]}\n  jit:    {jit.Packets[i]}");
        }

        Assert.Equal(interp.Maps, jit.Maps);

        // The unchecked emitters on the same runs: the kernel verified these programs, and every access of the run
        // stayed in bounds in the interpreter, so the same path runs safely without checks.
        if (interp.Packets.All(p => !p.StartsWith("error:", StringComparison.Ordinal) || p.Contains("-EINVAL", StringComparison.Ordinal) || p.Contains("-ENOMEM", StringComparison.Ordinal)))
        {
            var unchecked_ = RunAll(elf, run, program, options, frames, JitEngineFactory.UncheckedWithoutToken());
            for (int i = 0; i < interp.Packets.Count; i++)
            {
                Assert.True(interp.Packets[i] == unchecked_.Packets[i], $"packet {i} (unchecked):\n  interp: {interp.Packets[i]}\n  jit:    {unchecked_.Packets[i]}");
            }

            Assert.Equal(interp.Maps, unchecked_.Maps);
        }
    }

    /// <summary>Every program of every corpus object (v4) over the mixed pcap, with maps as the object defines them:
    /// the same results on both engines (a wider net than the manifest's runs).</summary>
    [SkippableFact]
    public void EveryCorpusProgram_MixedPcap_SameResultsAndMaps()
    {
        var pcap = Path.Combine(TestPaths.CorpusDir, "pcaps", "basic_mixed.pcap");
        Skip.IfNot(File.Exists(pcap), "corpus/pcaps/basic_mixed.pcap is absent");
        var frames = ReadPcap(pcap);
        int compared = 0;
        foreach (var path in Directory.GetFiles(Path.Combine(TestPaths.CorpusDir, "xdp"), "*.v4.o").Order(StringComparer.Ordinal))
        {
            BpfObject elf;
            try
            {
                elf = ElfObjectReader.Load(path);
            }
            catch (ElfLoadException)
            {
                continue;
            }

            foreach (var spec in elf.Programs)
            {
                Outcomes interp, jit;
                try
                {
                    interp = RunAll(elf, null, spec.Name, RunOptions.Default, frames, null);
                }
                catch (RuntimeLoadException)
                {
                    continue;   // not runnable here (not XDP, devmap-only, needs a device-bound load...)
                }

                jit = RunAll(elf, null, spec.Name, RunOptions.Default, frames, JitEngineFactory.Checked);
                for (int i = 0; i < interp.Packets.Count; i++)
                {
                    Assert.True(interp.Packets[i] == jit.Packets[i], $"{Path.GetFileName(path)} {spec.Name} packet {i}:\n  interp: {interp.Packets[i]}\n  jit:    {jit.Packets[i]}");
                }

                Assert.Equal(interp.Maps, jit.Maps);
                compared++;
            }
        }

        Assert.True(compared >= 40, $"only {compared} programs compared");
    }

    internal static List<byte[]> ReadPcap(string path)
    {
        using var pcap = PcapReader.Open(path);
        return [.. pcap.ReadAll().Select(r => r.Data.ToArray())];
    }

    internal static Outcomes RunAll(BpfObject elf, JsonNode? run, string program, RunOptions options, List<byte[]> frames, IBpfEngineFactory? engine)
    {
        using var loaded = LoadedObject.Create(elf, new LoadOptions { PossibleCpus = 2 });
        if (run?["maps"] is JsonObject maps)
        {
            var typed = new JsonObject();
            foreach (var (name, value) in maps)
            {
                var entry = value!.DeepClone().AsObject();
                entry["type"] = MapTypeNames.ToName(loaded.Maps[name].Type);
                typed[name] = entry;
            }

            var byName = loaded.Maps.ToDictionary(m => m.Name, m => m, StringComparer.Ordinal);
            MapsJson.Apply(new JsonObject { ["maps"] = typed }.ToJsonString(), "manifest.json", byName, loaded.Names);
        }

        using var runner = new XdpRunner(loaded, program, options, engine);
        Assert.Equal(engine?.Name ?? "interp", runner.Engine.EngineName);
        var packets = new List<string>();
        foreach (var frame in frames)
        {
            packets.Add(Describe(runner.Run(frame)));
        }

        return new Outcomes(packets, MapsJson.Format(loaded.Maps, loaded.Names));
    }

    private static string Describe(in XdpResult r)
    {
        if (r.Error is { } e)
        {
            return "error: " + e;
        }

        var sb = new StringBuilder();
        sb.Append(r.Retval).Append(' ').Append(r.Redirect?.ToString() ?? "-").Append(" meta=").Append(Convert.ToHexString(r.Meta.Span))
          .Append(" data=").Append(Convert.ToHexString(r.Data.Span)).Append(" insns=").Append(r.InstructionsExecuted);
        foreach (var t in r.Trace)
        {
            sb.Append(" trace=").Append(t);
        }

        foreach (var ev in r.Events)
        {
            sb.Append(" event=").Append(ev.Map).Append(':').Append(Convert.ToHexString(ev.Data.Span));
        }

        return sb.ToString();
    }

    internal sealed record Outcomes(List<string> Packets, string Maps);
}
