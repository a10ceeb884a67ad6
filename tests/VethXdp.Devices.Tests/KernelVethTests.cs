using System.Text.Json;
using VethXdp.Devices.Scenarios;
using VethXdp.Kernel;
using VethXdp.Vm.Elf;

namespace VethXdp.Devices.Tests;

/// <summary>The same topology and traffic on real veth pairs (a network namespace of the running kernel, frames fed by
/// BPF_PROG_TEST_RUN with live frames into the NIC's program) and in the simulator give the same per-device packet
/// counts. Skips where bpf() or network namespaces are not permitted.</summary>
[Collection(KernelVethCollection.Name)]
public class KernelVethTests
{
    private const long Frames = 10_000;

    [SkippableTheory]
    [InlineData("paper-drop-native-1flow")]
    [InlineData("paper-redirect-native-1flow")]
    [InlineData("paper-tx-native-1flow")]
    [InlineData("paper-missing-peer-6.18")]
    public void Run_PaperScenario_SameVethCountersAsKernel(string name)
    {
        Skip.IfNot(KernelVethWorld.IsAvailable(out string reason), reason);
        var (sim, kernel) = RunBoth(name);
        Assert.True(kernel.Error is null, kernel.Error);
        var mismatches = Compare(sim, kernel);
        Assert.True(mismatches.Count == 0, name + ": " + string.Join("; ", mismatches));
    }

    [SkippableFact]
    public void Run_DropScenario_KernelDropCounterSeesEveryFrame()
    {
        // The dropping program's own per-CPU counter, summed, counts every frame in both worlds.
        Skip.IfNot(KernelVethWorld.IsAvailable(out string reason), reason);
        var (_, kernel) = RunBoth("paper-drop-native-1flow");
        Assert.True(kernel.Error is null, kernel.Error);
        ulong packets = 0;
        foreach (var e in kernel.Maps["drop/drop_stats"])
        {
            int stride = e.Value.Length / KernelObject.PossibleCpus;
            for (int c = 0; c < KernelObject.PossibleCpus; c++)
            {
                packets += BitConverter.ToUInt64(e.Value, c * stride);
            }
        }

        Assert.Equal((ulong)Frames, packets);
    }

    internal static (SimResult Sim, KernelVethResult Kernel) RunBoth(string name)
    {
        string path = ScenarioTests.ScenarioPath(name);
        SimResult sim;
        IReadOnlyList<ReadOnlyMemory<byte>> flows;
        using (var world = ScenarioBuilder.Build(path, ScenarioTests.Engine, Frames))
        {
            flows = world.Source!.Flows;
            sim = new Simulator(world).Run(name);
        }

        Assert.Single(flows);
        var kernel = KernelVethWorld.Run(ToKernel(path), flows, (uint)Frames);
        return (sim, kernel);
    }

    // The scenario file as a kernel topology: NICs become dummy devices; the traffic NIC's program is the one
    // BPF_PROG_TEST_RUN feeds; every other attachment is a real XDP attach.
    internal static KernelVethSpec ToKernel(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var root = doc.RootElement;
        string dir = Path.GetDirectoryName(path)!;
        var objects = new Dictionary<string, BpfObject>();
        foreach (var o in root.GetProperty("objects").EnumerateObject())
        {
            objects[o.Name] = ElfObjectReader.Load(Path.GetFullPath(Path.Combine(dir, o.Value.GetString()!)));
        }

        var veths = new List<VethPairSpec>();
        var dummies = new List<string>();
        foreach (var d in root.GetProperty("devices").EnumerateArray())
        {
            string dev = d.GetProperty("name").GetString()!;
            if (d.GetProperty("type").GetString() == "veth")
            {
                veths.Add(new VethPairSpec(dev, d.GetProperty("peer").GetString()!));
            }
            else
            {
                dummies.Add(dev);
            }
        }

        string nic = root.GetProperty("traffic").GetProperty("device").GetString()!;
        KernelXdpAttach? source = null;
        var attach = new List<KernelXdpAttach>();
        foreach (var a in root.GetProperty("attach").EnumerateArray())
        {
            var x = new KernelXdpAttach(a.GetProperty("device").GetString()!, a.GetProperty("object").GetString()!,
                a.GetProperty("program").GetString()!, a.GetProperty("mode").GetString() == "generic");
            if (x.Device == nic)
            {
                source = x;
            }
            else
            {
                attach.Add(x);
            }
        }

        var entries = new List<KernelDevmapEntry>();
        foreach (var m in root.GetProperty("maps").EnumerateArray())
        {
            foreach (var e in m.GetProperty("entries").EnumerateArray())
            {
                entries.Add(new KernelDevmapEntry(m.GetProperty("object").GetString()!, m.GetProperty("map").GetString()!,
                    e.GetProperty("key").ToString(), e.GetProperty("value").GetString()!));
            }
        }

        var gro = root.TryGetProperty("gro", out var g) ? g.EnumerateArray().Select(x => x.GetString()!).ToList() : [];
        return new KernelVethSpec
        {
            Veths = veths,
            Dummies = dummies,
            Gro = gro,
            Objects = objects,
            Attach = attach,
            DevmapEntries = entries,
            Source = source ?? throw new InvalidOperationException($"{path}: no program on the traffic device {nic}"),
        };
    }

    // Every veth counter the simulator reports, against the kernel's ethtool -S line and ip -s link total of that name.
    internal static List<string> Compare(SimResult sim, KernelVethResult kernel)
    {
        var mismatches = new List<string>();
        foreach (var dev in sim.Devices)
        {
            if (dev.Kind != "veth")
            {
                continue;
            }

            var k = kernel.Devices[dev.Name];
            for (int q = 0; q < dev.RxQueues.Count; q++)
            {
                foreach (var (counter, value) in dev.RxQueues[q].Items)
                {
                    Check(mismatches, dev.Name, $"rx_queue_{q}_{counter}", value, k.Ethtool);
                }
            }

            for (int q = 0; q < dev.TxQueues.Count; q++)
            {
                foreach (var (counter, value) in dev.TxQueues[q].Items)
                {
                    Check(mismatches, dev.Name, $"tx_queue_{q}_{counter}", value, k.Ethtool);
                }
            }

            foreach (var (counter, value) in dev.Totals.Items)
            {
                Check(mismatches, dev.Name, counter, value, k.Stats64);
            }
        }

        return mismatches;
    }

    private static void Check(List<string> mismatches, string device, string counter, ulong sim, IReadOnlyDictionary<string, ulong> kernel)
    {
        if (!kernel.TryGetValue(counter, out ulong k))
        {
            mismatches.Add($"{device} {counter}: the kernel has no such counter (simulator {sim})");
        }
        else if (k != sim)
        {
            mismatches.Add($"{device} {counter}: kernel {k}, simulator {sim}");
        }
    }
}

/// <summary>Kernel topology tests run one at a time (each builds a namespace and pins a thread to CPU 0).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelVethCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "kernel-veth";
}
