using VethXdp.Devices.Scenarios;
using VethXdp.Jit;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Devices.Tests;

/// <summary>The scenario builder asks its <see cref="EngineSelector"/> once per attached program (XDP on a device,
/// devmap egress) with what a verifier needs, and the result names the engine each program ran on.</summary>
public class EngineSelectorTests
{
    [Fact]
    public void Build_XskSwitch_AsksOncePerAttachedProgram()
    {
        var seen = new List<ProgramAttachRequest>();
        using var world = ScenarioBuilder.Build(ScenarioTests.ScenarioPath("xsk-xdp-switch"), r =>
        {
            seen.Add(r);
            return r.Device == "eth0" ? InterpreterEngineFactory.Instance : JitEngineFactory.Checked;
        }, 200);
        Assert.Equal(["eth0", "h1", "h2", "h3", "h4"], seen.Select(r => r.Device));
        Assert.All(seen, r => Assert.Equal(ProgramAttachKind.Native, r.Kind));
        Assert.All(seen, r => Assert.Null(r.Engine));
        Assert.All(seen, r => Assert.Equal("xsk-xdp-switch", r.Scenario));
        Assert.Equal("xdp_switch", seen[1].Program.Name);
        Assert.Same(seen[1].Object, seen[2].Object);
        Assert.Equal(seen[1].Program.Name, seen[1].Prepared.Name);
        var result = new Simulator(world).Run("xsk-xdp-switch");
        Assert.Equal(5, result.Programs.Count);
        Assert.Equal("interp", result.Programs[0].Engine);
        Assert.All(result.Programs.Skip(1), p => Assert.Equal("jit-checked", p.Engine));
        Assert.Contains("\"programs\":[{\"device\":\"eth0\",\"mode\":\"native\",\"object\":\"inject\",\"program\":\"xdp_container_tx\",\"engine\":\"interp\"}", result.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_EngineOverride_ReachesTheSelector()
    {
        var seen = new List<ProgramAttachRequest>();
        using var world = ScenarioBuilder.Build(ScenarioTests.ScenarioPath("paper-tx-generic-1flow"), r =>
        {
            seen.Add(r);
            return InterpreterEngineFactory.Instance;
        }, 100, "jit-checked");
        Assert.All(seen, r => Assert.Equal("jit-checked", r.Engine));
        Assert.Equal([ProgramAttachKind.Native, ProgramAttachKind.Generic, ProgramAttachKind.Generic], seen.Select(r => r.Kind));
    }

    [Fact]
    public void Build_DevmapEgressProgram_AskedAsDevmapEgress()
    {
        string path = WriteScenario("xdp_switch", """{ "device": "h2", "program": "xdp_switch_egress" }""");
        try
        {
            var seen = new List<ProgramAttachRequest>();
            using var world = ScenarioBuilder.Build(path, r =>
            {
                seen.Add(r);
                return JitEngineFactory.Checked;
            });
            var egress = Assert.Single(seen, r => r.Kind == ProgramAttachKind.DevmapEgress);
            Assert.Equal("xdp_switch_egress", egress.Program.Name);
            Assert.Equal((uint)AttachType.XdpDevmap, egress.Program.ExpectedAttachType);
            Assert.Equal("ports", egress.Device);
            var r = new Simulator(world).Run("egress");
            Assert.Contains(r.Programs, p => p.Mode == "devmap" && p.ProgramName == "xdp_switch_egress" && p.Device == "ports" && p.Engine == "jit-checked");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Build_DevmapProgramOnDevice_RefusedAsLinuxDoes()
    {
        string path = WriteScenario("xdp_switch_egress", "\"h2\"");
        try
        {
            var e = Assert.Throws<ScenarioException>(() => ScenarioBuilder.Build(path, (ProgramAttachRequest _) => JitEngineFactory.Checked));
            Assert.Contains("BPF_XDP_DEVMAP programs can not be attached to a device (-EINVAL)", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Build_PlainXdpProgramAsDevmapEntry_RefusedAsLinuxDoes()
    {
        string path = WriteScenario("xdp_switch", """{ "device": "h2", "program": "xdp_switch" }""");
        try
        {
            var e = Assert.Throws<ScenarioException>(() => ScenarioBuilder.Build(path, (ProgramAttachRequest _) => JitEngineFactory.Checked));
            Assert.Contains("BPF_XDP_DEVMAP", e.Message, StringComparison.Ordinal);
            Assert.Contains("-EINVAL", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // xdp_devmap_switch on h1 of one veth pair (c1/h1) and a second pair; ports[h2] = h2Value.
    private static string WriteScenario(string program, string h2Value)
    {
        string path = Path.Combine(Path.GetTempPath(), "vethxdp-egress-" + Guid.NewGuid().ToString("N") + ".json");
        string obj = Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_devmap_switch.v3.o").Replace("\\", "/", StringComparison.Ordinal);
        File.WriteAllText(path, $$"""
            { "name": "egress", "objects": { "sw": "{{obj}}" },
              "devices": [ { "name": "eth0", "type": "nic", "queues": 1 },
                           { "name": "c1", "type": "veth", "peer": "h1", "queues": 1 },
                           { "name": "c2", "type": "veth", "peer": "h2", "queues": 1 } ],
              "attach": [ { "device": "h1", "object": "sw", "program": "{{program}}" } ],
              "maps": [ { "object": "sw", "map": "ports", "entries": [ { "key": "h2", "value": {{h2Value}} } ] } ],
              "traffic": { "device": "eth0", "packets": 10 } }
            """);
        return path;
    }
}
