using VethXdp.Devices.Bridge;
using VethXdp.Devices.Scenarios;

namespace VethXdp.Devices.Tests;

/// <summary>The Linux bridge model (xsk-bridge): it makes the same forwarding decisions as the XDP switch
/// (corpus/xdp/xdp_devmap_switch.c in xsk-xdp-switch), through skbs and dev_queue_xmit.</summary>
public class BridgeTests
{
    [Fact]
    public void Run_XskBridge_DeliversToTheContainersAsTheXdpSwitch()
    {
        var bridge = ScenarioTests.Run("xsk-bridge");
        var xdp = ScenarioTests.Run("xsk-xdp-switch");
        foreach (var c in new[] { "c1", "c2", "c3", "c4" })
        {
            Assert.Equal(
                xdp.Devices.Single(d => d.Name == c).Totals["rx_packets"],
                bridge.Devices.Single(d => d.Name == c).Totals["rx_packets"]);
        }

        // the hairpin frame (c2 -> c2) is freed by br_forward() where the XDP switch returns XDP_DROP
        Assert.Equal(xdp.Drops.Single(d => d.Key == "xdp_drop").Value, bridge.Drops.Single(d => d.Key == "bridge_drop").Value);

        // the broadcast also goes up br0's own stack (br_pass_frame_up), one more clone each
        var br0 = bridge.Devices.Single(d => d.Name == "br0");
        Assert.Equal(1000UL, br0.Totals["rx_packets"]);
        Assert.Equal(1000UL * (64 - 14), br0.Totals["rx_bytes"]);
        Assert.Equal(xdp.Stack + 1000, bridge.Stack);
        Assert.Equal(xdp.Cloned + 1000, bridge.Cloned);
        Assert.True(bridge.Conserved, string.Join("; ", bridge.Diagnosis));
    }

    [Fact]
    public void Run_XskBridge_LearnsEverySourceOnItsPort()
    {
        using var world = ScenarioBuilder.Build(ScenarioTests.ScenarioPath("xsk-bridge"), ScenarioTests.Select, 64);
        new Simulator(world).Run("xsk-bridge");
        var br = (BridgeDevice)world.Device("br0")!;
        Assert.Equal(["h1", "h2", "h3", "h4"], br.Ports.Select(p => p.Name));
        Assert.All(br.Ports, p => Assert.Same(br, p.Master));

        // c1..c4 send from 02:00:00:00:0c:0N, behind hN (xdp_container_tx hands each frame to its source's container)
        for (int n = 1; n <= 4; n++)
        {
            Assert.Equal(world.Device("h" + n)!.Ifindex, br.Fdb[0x0200_0000_0c00UL + (ulong)n]);
        }

        Assert.False(br.Fdb.ContainsKey(0x0200_0000_0c99UL)); // a destination only: flooded, never learnt
    }

    [Fact]
    public void AddPort_PortOfAnotherBridge_Throws()
    {
        var a = new BridgeDevice("br0", 10);
        var b = new BridgeDevice("br1", 11);
        var lo = new LoopbackDevice();
        a.AddPort(lo);
        Assert.Throws<InvalidOperationException>(() => b.AddPort(lo));
        Assert.Throws<InvalidOperationException>(() => a.AddPort(b));
    }
}
