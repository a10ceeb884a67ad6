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
    [InlineData("paper-drop-generic-1flow")]
    [InlineData("paper-redirect-generic-1flow")]
    [InlineData("paper-tx-generic-1flow")]
    public void Run_PaperScenario_SameVethCountersAsKernel(string name)
    {
        Skip.IfNot(KernelVethWorld.IsAvailable(out string reason), reason);
        var (sim, kernel) = RunBoth(name);
        Assert.True(kernel.Error is null, kernel.Error);
        var mismatches = Compare(sim, kernel);
        Assert.True(mismatches.Count == 0, name + ": " + string.Join("; ", mismatches));
    }

    [SkippableTheory]
    [InlineData("paper-drop-native-100flow")]
    [InlineData("paper-redirect-native-100flow")]
    [InlineData("paper-tx-native-100flow")]
    [InlineData("paper-drop-generic-100flow")]
    [InlineData("paper-redirect-generic-100flow")]
    [InlineData("paper-tx-generic-100flow")]
    public void Run_HundredFlows_SameVethTotalsAsKernel(string name)
    {
        // BPF_PROG_TEST_RUN runs on one CPU, so the kernel's frames all use queue 0 where the simulator's four CPUs
        // spread them by RSS: compare each counter summed over the queues, and the ip -s link totals.
        Skip.IfNot(KernelVethWorld.IsAvailable(out string reason), reason);
        var (sim, kernel) = RunBoth(name);
        Assert.True(kernel.Error is null, kernel.Error);
        var mismatches = Compare(sim, kernel, sumQueues: true);
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
        using (var world = ScenarioBuilder.Build(path, ScenarioTests.Select, Frames))
        {
            flows = world.Source!.Flows;
            sim = new Simulator(world).Run(name);
        }

        // Each flow's frame as often as the simulator's source sends it (frames are spread evenly over the flows).
        Assert.Equal(0, Frames % flows.Count);
        var kernel = KernelVethWorld.Run(ToKernel(path), flows, (uint)(Frames / flows.Count));
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
    internal static List<string> Compare(SimResult sim, KernelVethResult kernel, bool sumQueues = false)
    {
        var mismatches = new List<string>();
        foreach (var dev in sim.Devices)
        {
            if (dev.Kind != "veth")
            {
                continue;
            }

            var k = kernel.Devices[dev.Name];
            if (sumQueues)
            {
                SumQueues(mismatches, dev.Name, "rx_queue_", dev.RxQueues, k.Ethtool);
                SumQueues(mismatches, dev.Name, "tx_queue_", dev.TxQueues, k.Ethtool);
                foreach (var (counter, value) in dev.Totals.Items)
                {
                    Check(mismatches, dev.Name, counter, value, k.Stats64);
                }

                continue;
            }

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

    private static void SumQueues(List<string> mismatches, string device, string prefix, IReadOnlyList<Counters> queues, IReadOnlyDictionary<string, ulong> kernel)
    {
        foreach (var (counter, _) in queues[0].Items)
        {
            ulong sim = 0;
            foreach (var q in queues)
            {
                sim += q[counter];
            }

            ulong k = 0;
            bool found = false;
            foreach (var (name, value) in kernel)
            {
                if (name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith("_" + counter, StringComparison.Ordinal)
                    && int.TryParse(name.AsSpan(prefix.Length, name.Length - prefix.Length - counter.Length - 1), out _))
                {
                    k += value;
                    found = true;
                }
            }

            if (!found || k != sim)
            {
                mismatches.Add($"{device} {prefix}*_{counter}: kernel {(found ? k : "none")}, simulator {sim}");
            }
        }
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
