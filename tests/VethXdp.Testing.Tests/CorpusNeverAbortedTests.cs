using System.Text.Json.Nodes;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Testing.Tests;

/// <summary>No corpus program that runs in the default environment returns XDP_ABORTED (or faults) on any generated
/// frame: 200 frames per program, a fifth of them malformed.</summary>
public class CorpusNeverAbortedTests
{
    private static readonly Lazy<JsonNode?> s_manifest = new(() =>
    {
        string path = Path.Combine(TestPaths.CorpusDir, "manifest.json");
        return File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) : null;
    });

    public static TheoryData<string> Programs()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _, _) in DefaultRuns())
        {
            data.Add(name);
        }

        if (data.Count == 0)
        {
            data.Add("(manifest absent)");
        }

        return data;
    }

    // The objects with a run in the default environment (no sockets, no device-bound load): name, object, run.
    private static IEnumerable<(string Name, JsonNode Object, JsonNode Run)> DefaultRuns()
    {
        if (s_manifest.Value?["objects"] is not JsonArray objects)
        {
            yield break;
        }

        foreach (var obj in objects)
        {
            var needs = obj!["needs"]?.AsArray().Select(n => n!.GetValue<string>()).ToArray() ?? [];
            if (needs.Contains("sockets") || needs.Contains("device-bound-load"))
            {
                continue;
            }

            var run = obj["runs"]!.AsArray().FirstOrDefault(r => r!["environment"]!.GetValue<string>() == "default");
            if (run is not null)
            {
                yield return ($"{obj["name"]!.GetValue<string>()}/{run["program"]!.GetValue<string>()}", obj, run);
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Programs))]
    public void CorpusProgram_GeneratedFrames_NeverAborted(string name)
    {
        Skip.If(s_manifest.Value is null, "corpus/manifest.json is absent");
        var (_, obj, run) = DefaultRuns().First(r => r.Name == name);
        string path = Path.Combine(TestPaths.CorpusDir, obj["objects"]!["v4"]!.GetValue<string>());
        using var p = XdpProperty.For(path, run["program"]!.GetValue<string>(), new LoadOptions { PossibleCpus = 2 });
        if (run["maps"] is JsonObject maps)
        {
            p.WithMapsJson(TypedMapsJson(maps, p.Maps));
        }

        var report = p.Report(Frames.Spec(), XdpAssert.NeverAborted(), maxTest: 200);
        Assert.True(report.Passed, report.Message);
    }

    // The manifest's maps leave out each map's type, which the --maps-in format states.
    private static string TypedMapsJson(JsonObject maps, MapSet set)
    {
        var typed = new JsonObject();
        foreach (var (mapName, value) in maps)
        {
            var entry = value!.DeepClone().AsObject();
            entry["type"] = MapTypeNames.ToName(set[mapName].Type);
            typed[mapName] = entry;
        }

        return new JsonObject { ["maps"] = typed }.ToJsonString();
    }
}
