using System.Text.Json;
using VethXdp.Kernel;

namespace VethXdp.Kernel.Tests;

/// <summary>One run of corpus/manifest.json at one ISA level, with what the cross-check needs to repeat it.</summary>
public sealed record CrossCheckCase(
    string Object,
    string Build,
    int RunIndex,
    string ObjectPath,
    string Program,
    string PcapPath,
    string EnvironmentName,
    CrossCheckEnvironment? Environment,
    uint Ifindex,
    uint RxQueue,
    string? MapsJson,
    IReadOnlyList<CrossCheckSkip> Skips,
    IReadOnlyList<string>? Expected,
    IReadOnlyList<string> Needs,
    string? ExpectedFailureKind,
    string? ExpectedFailureReason,
    string? DevBound,
    IReadOnlyList<UserRingbufRecord>? UserRingbuf = null)
{
    /// <summary>"xdp_counter.v2 run 0".</summary>
    public string Id => $"{Object}.{Build} run {RunIndex}";
}

/// <summary>Reads corpus/manifest.json into cross-check cases: every (object, run) at v2, v3 and v4.</summary>
internal static class CrossCheckManifest
{
    private static readonly Lazy<IReadOnlyList<CrossCheckCase>> s_cases = new(Read);

    public static IReadOnlyList<CrossCheckCase> Cases => s_cases.Value;

    public static CrossCheckCase Find(string id) => Cases.Single(c => c.Id == id);

    private static List<CrossCheckCase> Read()
    {
        string corpus = TestPaths.CorpusDir;
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(corpus, "manifest.json")));
        var root = doc.RootElement;
        var environments = root.GetProperty("environments");
        var cases = new List<CrossCheckCase>();
        foreach (var o in root.GetProperty("objects").EnumerateArray())
        {
            string name = o.GetProperty("name").GetString()!;
            var objectSkips = o.TryGetProperty("kernelSkipFields", out var ks) ? CrossCheckSkip.ParseList(ks) : [];
            var needs = o.TryGetProperty("needs", out var n) ? n.EnumerateArray().Select(x => x.GetString()!).ToList() : [];
            string? failureKind = null, failureReason = null;
            if (o.TryGetProperty("expectedFailure", out var ef))
            {
                failureKind = ef.GetProperty("kind").GetString();
                failureReason = ef.GetProperty("reason").GetString();
            }

            string? devBound = o.TryGetProperty("load", out var load) && load.TryGetProperty("devBound", out var db) ? db.GetString() : null;
            foreach (var build in o.GetProperty("objects").EnumerateObject())
            {
                int index = 0;
                foreach (var run in o.GetProperty("runs").EnumerateArray())
                {
                    string envName = run.GetProperty("environment").GetString()!;
                    var env = environments.GetProperty(envName);
                    var sockets = run.TryGetProperty("sockets", out var so)
                        ? so.EnumerateArray().Select(s => new CrossCheckSocket(
                            s.GetProperty("proto").GetString()!,
                            Str(s, "listen"),
                            Str(s, "bind"),
                            Str(s, "connect"))).ToList()
                        : [];
                    bool netns = env.TryGetProperty("netns", out var nn) && nn.GetBoolean();
                    CrossCheckEnvironment? environment = netns || sockets.Count > 0
                        ? new CrossCheckEnvironment
                        {
                            Commands = netns ? env.GetProperty("commands").EnumerateArray().Select(c => c.GetString()!).ToList() : ["ip link set lo up"],
                            Sockets = sockets,
                        }
                        : null;
                    var skips = objectSkips.ToList();
                    if (run.TryGetProperty("kernelSkipFields", out var rs))
                    {
                        skips.AddRange(CrossCheckSkip.ParseList(rs));
                    }

                    IReadOnlyList<string>? expected = run.TryGetProperty("expected", out var ex) && ex.ValueKind == JsonValueKind.Array
                        ? ex.EnumerateArray().Select(x => x.GetString()!).ToList()
                        : null;
                    cases.Add(new CrossCheckCase(
                        name,
                        build.Name,
                        index,
                        Path.Combine(corpus, build.Value.GetString()!),
                        run.GetProperty("program").GetString()!,
                        Path.Combine(corpus, run.GetProperty("pcap").GetString()!),
                        envName,
                        environment,
                        env.GetProperty("ingressIfindex").GetUInt32(),
                        env.GetProperty("rxQueueIndex").GetUInt32(),
                        run.TryGetProperty("maps", out var maps) ? maps.GetRawText() : null,
                        skips,
                        expected,
                        needs,
                        failureKind,
                        failureReason,
                        devBound,
                        run.TryGetProperty("userRingbuf", out var urb) ? UserRingbufRecord.ParseRun(urb) : null));
                    index++;
                }
            }
        }

        return cases;
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;
}
