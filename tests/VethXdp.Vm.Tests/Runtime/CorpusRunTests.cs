using System.Text.Json;
using System.Text.Json.Nodes;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Pcap;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.Runtime;

/// <summary>Every run of corpus/manifest.json through <see cref="XdpRunner"/>, at cpu v2, v3 and v4: the verdict of
/// each packet must be the one Linux 6.18 gave (recorded in the manifest).</summary>
public class CorpusRunTests
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
    public void CorpusRun_VerdictsAsLinux(string objectName, string version, int runIndex)
    {
        Skip.If(s_manifest.Value is null, "corpus/manifest.json is absent");
        var obj = s_manifest.Value["objects"]!.AsArray().First(o => o!["name"]!.GetValue<string>() == objectName)!;
        var run = obj["runs"]![runIndex]!;
        var needs = obj["needs"]?.AsArray().Select(n => n!.GetValue<string>()).ToArray() ?? [];
        Skip.If(needs.Contains("sockets"), "the run needs sockets the environment provides (the networking helpers' work)");
        Skip.If(needs.Contains("device-bound-load"), "the program needs a device-bound load (the devices issue)");
        Skip.If(run["expected"] is null, "the kernel cannot run it (no expected verdicts)");

        var environmentNode = s_manifest.Value["environments"]![run["environment"]!.GetValue<string>()]!;
        Skip.If(environmentNode["netns"]?.GetValue<bool>() == true,
            $"the run needs the \"{run["environment"]}\" network (devices, routes, neighbours): building a NetEnvironment from the manifest is the command's work");

        string objectPath = Path.Combine(TestPaths.CorpusDir, obj["objects"]![version]!.GetValue<string>());
        Skip.IfNot(File.Exists(objectPath), $"{objectPath} is not built");
        BpfObject elf;
        try
        {
            elf = ElfObjectReader.Load(objectPath);
        }
        catch (ElfLoadException e)
        {
            Skip.If(true, $"the ELF loader refuses it for now: {e.Message}");
            throw;
        }

        LoadedObject loaded;
        try
        {
            loaded = LoadedObject.Create(elf, new LoadOptions { PossibleCpus = 2 });
        }
        catch (RuntimeLoadException e) when (e.Reason.Contains("is not supported yet", StringComparison.Ordinal)
                                              || e.Reason.StartsWith("kfunc", StringComparison.Ordinal))
        {
            Skip.If(true, $"needs a helper another group provides: {e.Message}");
            throw;
        }

        using (loaded)
        {
            if (run["maps"] is JsonObject maps)
            {
                var doc = new JsonObject();
                var typed = new JsonObject();
                foreach (var (name, value) in maps)
                {
                    var entry = value!.DeepClone().AsObject();
                    entry["type"] = MapTypeNames.ToName(loaded.Maps[name].Type);
                    typed[name] = entry;
                }

                doc["maps"] = typed;
                var byName = loaded.Maps.ToDictionary(m => m.Name, m => m, StringComparer.Ordinal);
                MapsJson.Apply(doc.ToJsonString(), "manifest.json", byName, loaded.Names);
            }

            if (run["userRingbuf"] is JsonObject userRingbuf)
            {
                ProduceUserRingbuf(loaded, userRingbuf, $"{objectName}.{version} run {runIndex}");
            }

            var environment = s_manifest.Value["environments"]![run["environment"]!.GetValue<string>()]!;
            var options = new RunOptions
            {
                Ifindex = environment["ingressIfindex"]?.GetValue<uint>() ?? 1,
                RxQueue = environment["rxQueueIndex"]?.GetValue<uint>() ?? 0,
            };
            using var runner = new XdpRunner(loaded, run["program"]!.GetValue<string>(), options);
            var expected = run["expected"]!.AsArray().Select(e => e?.GetValue<string>()).ToArray();
            using var pcap = PcapReader.Open(Path.Combine(TestPaths.CorpusDir, run["pcap"]!.GetValue<string>()));
            int packet = 0;
            foreach (var record in pcap.ReadAll())
            {
                var r = runner.Run(record.Data.Span);
                string actual = r.Error is { } err
                    ? (err.Message.Contains("-EINVAL", StringComparison.Ordinal) ? "error:EINVAL" : "fault: " + err)
                    : XdpActions.KernelName(r.Action);
                Assert.True(packet < expected.Length, $"more packets than expected verdicts in {run["pcap"]}");
                if (expected[packet] is { } want)
                {
                    Assert.True(want == actual, $"{objectName}.{version} {run["program"]} packet {packet}: Linux gave {want}, we give {actual}");
                }

                packet++;
            }

            Assert.Equal(expected.Length, packet);
        }
    }

    /// <summary>Writes a run's <c>userRingbuf</c> records ({MAP: [{"sample": hex} | {"discard": N}, ...]}) into the
    /// VM's user ring buffers in order, before the first frame, as the kernel recorder (kern.py, libbpf's
    /// user_ring_buffer) and the kernel cross-check (UserRingbufRecord) write them into the kernel's.</summary>
    private static void ProduceUserRingbuf(LoadedObject loaded, JsonObject userRingbuf, string what)
    {
        foreach (var (name, records) in userRingbuf)
        {
            var map = Assert.IsType<UserRingBufMap>(loaded.Maps[name]);
            int index = 0;
            foreach (var record in records!.AsArray())
            {
                bool fits = record!["sample"] is { } sample
                    ? map.Produce(Convert.FromHexString(sample.GetValue<string>()))
                    : map.ProduceDiscarded(record["discard"]!.GetValue<uint>());
                Assert.True(fits, $"{what}: user ring buffer {name}: record {index} does not fit");
                index++;
            }
        }
    }
}
