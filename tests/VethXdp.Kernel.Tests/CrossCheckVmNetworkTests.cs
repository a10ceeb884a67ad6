using VethXdp.Kernel;
using VethXdp.Vm.Runtime;

namespace VethXdp.Kernel.Tests;

/// <summary>Our side of a cross-check environment: the corpus manifest's lab commands and sockets, modelled as the
/// kernel makes them (ifindexes, MACs, MTUs, routes through gateways, neighbours, sysctls, the accepted end of a
/// local connection).</summary>
public class CrossCheckVmNetworkTests
{
    private static CrossCheckEnvironment Lab() => CrossCheckManifest.Cases.First(c => c.EnvironmentName == "lab" && c.Object == "xdp_sk_lookup").Environment!;

    [Fact]
    public void Build_LabCommands_GivesTheKernelsIfindexesAndDevices()
    {
        var net = CrossCheckVmNetwork.Build(Lab());

        Assert.Equal(["lo", "veth0p", "veth0", "veth1p", "veth1"], net.Interfaces.OrderBy(d => d.Ifindex).Select(d => d.Name));
        Assert.Equal([1, 2, 3, 4, 5], net.Interfaces.OrderBy(d => d.Ifindex).Select(d => d.Ifindex));
        Assert.Equal(1400u, net.FindInterface("veth1")!.Mtu);
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:fe"), net.FindInterface("veth0")!.Mac);
        Assert.True(net.FindInterface("veth0")!.Ipv4Forwarding);
        Assert.True(net.FindInterface("veth1")!.Ipv6Forwarding);
        Assert.Equal(2, net.TcpSyncookies);
    }

    [Fact]
    public void Build_RouteViaGateway_TakesTheGatewaysDevice()
    {
        var net = CrossCheckVmNetwork.Build(Lab());

        var r = Assert.Single(net.Routes, r => r.Destination.ToString() == "10.1.0.0/16");
        Assert.Equal(5, r.Ifindex);
        Assert.Equal(NetAddress.Parse("10.0.1.2"), r.Gateway);
        Assert.NotNull(net.FindNeighbour(5, NetAddress.Parse("fd00:1::2")));
    }

    [Fact]
    public void Build_Sockets_ListenersAndBothEndsOfALocalConnection()
    {
        var net = CrossCheckVmNetwork.Build(Lab());

        Assert.Equal(
            ["tcp 10.0.0.254:80 listen", "tcp6 [fd00::fe]:80 listen", "udp 10.0.0.254:53 close", "tcp 10.0.0.254:40001 10.0.0.254:80 established", "tcp 10.0.0.254:80 10.0.0.254:40001 established"],
            net.Sockets.Select(s => s.ToString()));
    }

    [Fact]
    public void Build_UnknownCommand_IsRefusedByName()
    {
        var e = Assert.Throws<NotSupportedException>(() => CrossCheckVmNetwork.Build(new CrossCheckEnvironment { Commands = ["tc qdisc add dev lo root noqueue"] }));

        Assert.Contains("tc qdisc add dev lo root noqueue", e.Message, StringComparison.Ordinal);
    }
}
