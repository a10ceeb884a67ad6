using VethXdp.Devices.Frames;
using VethXdp.Devices.Scenarios;

namespace VethXdp.Devices.Tests;

public class ScalingTests
{
    [Theory]
    [InlineData("paper-drop-native-100flow")]
    [InlineData("paper-redirect-native-100flow")]
    [InlineData("paper-tx-generic-100flow")]
    [InlineData("paper-tx-native-100flow")]
    public void Seal_PaperScenario_NoSharedWritableMaps(string name)
    {
        // The paper's programs count in per-CPU arrays and redirect through device maps: nothing two CPUs write, so the
        // workers may run their CPU groups without a barrier per round.
        using var world = ScenarioBuilder.Build(ScenarioTests.ScenarioPath(name), ScenarioTests.Select, 1000);
        Assert.False(world.SharesWritableMaps);
    }

    [Theory]
    [InlineData("paper-drop-native-100flow")]
    [InlineData("paper-tx-native-100flow")] // XDP_TX goes back into veth0's queue of the same CPU: no ring two CPUs share
    [InlineData("paper-redirect-native-100flow")]
    public void Groups_FourQueuesFourCpus_OneGroupPerCpu(string name)
    {
        using var world = ScenarioBuilder.Build(ScenarioTests.ScenarioPath(name), ScenarioTests.Select, 1000);
        var groups = new Simulator(world).Groups();
        Assert.Equal(4, groups.Count);
        Assert.All(groups, g => Assert.Single(g));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 3000)]
    [InlineData(3, 1)]
    [InlineData(4, 2821)]
    [InlineData(7, 4096)]
    public void Free_EveryFrame_GoesBackToItsPartition(int partitions, int framesPerPartition)
    {
        using var pool = new FramePool(partitions, framesPerPartition);
        var taken = new List<int>();
        for (int p = 0; p < partitions; p++)
        {
            for (int i = 0; i < framesPerPartition; i++)
            {
                int f = pool.Alloc(p);
                Assert.Equal(p, f / framesPerPartition);
                taken.Add(f);
            }

            Assert.Equal(-1, pool.Alloc(p));
        }

        foreach (int f in taken)
        {
            pool.Free(f);
        }

        for (int p = 0; p < partitions; p++)
        {
            Assert.Equal(0, pool.InUse(p));
        }
    }

    [Theory]
    [InlineData("paper-drop-native-100flow", 2)]
    [InlineData("paper-redirect-native-100flow", 3)]
    [InlineData("paper-drop-native-100flow", 4)]
    public void Run_FreeRunningWorkers_SameCountersAndRoundsAsOneThread(string name, int threads)
    {
        var one = ScenarioTests.Run(name, threads: 1, packets: 20_000);
        var many = ScenarioTests.Run(name, threads: threads, packets: 20_000);
        Assert.Equal(one.ToJson(withRate: false), many.ToJson(withRate: false));
        Assert.Equal(one.Rounds, many.Rounds);
    }

    [Fact]
    public void Run_SharedWritableMap_LockStepWorkersSameCountersAsOneThread()
    {
        // An object with a plain ARRAY map (writable by every CPU) makes the workers meet at a barrier every round.
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(ScenarioTests.ScenarioPath("paper-drop-native-100flow")))!;
        string dir = Path.Combine(TestPaths.CorpusDir, "scenarios");
        foreach (var o in node["objects"]!.AsObject().ToList())
        {
            node["objects"]![o.Key] = Path.GetFullPath(Path.Combine(dir, o.Value!.GetValue<string>()));
        }

        node["objects"]!["decap"] = Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_decap.v3.o");
        string path = Path.Combine(Path.GetTempPath(), "vethxdp-lockstep-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, node.ToJsonString());
        try
        {
            SimResult Run(int threads)
            {
                using var world = ScenarioBuilder.Build(path, ScenarioTests.Select, 20_000);
                Assert.True(world.SharesWritableMaps);
                return new Simulator(world).Run("lockstep", threads);
            }

            var one = Run(1);
            var two = Run(2);
            Assert.Equal(one.ToJson(withRate: false), two.ToJson(withRate: false));
            Assert.Equal(one.Rounds, two.Rounds);
            Assert.Equal(20_000, two.Generated);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
