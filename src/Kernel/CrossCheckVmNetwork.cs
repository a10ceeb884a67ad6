using System.Globalization;
using System.Net;
using System.Net.Sockets;
using VethXdp.Vm.Runtime;

namespace VethXdp.Kernel;

/// <summary>Our side of a <see cref="CrossCheckEnvironment"/>: the <see cref="NetEnvironment"/> that holds what the
/// kernel's namespace holds, built from the same description (the structured spec, the <c>ip</c> and <c>sysctl</c>
/// commands, the sockets), so both sides see one network.</summary>
public static class CrossCheckVmNetwork
{
    /// <summary>Builds the environment our VM's networking helpers see for <paramref name="environment"/>.</summary>
    /// <param name="environment">The environment the kernel side runs in.</param>
    /// <exception cref="NotSupportedException">A command we cannot model (the message names it).</exception>
    public static NetEnvironment Build(CrossCheckEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var net = new NetEnvironment();
        if (environment.Netns is { } spec)
        {
            Apply(net, spec);
        }

        foreach (string command in environment.Commands)
        {
            Apply(net, command);
        }

        foreach (var s in environment.Sockets)
        {
            AddSocket(net, s);
        }

        return net;
    }

    private static void Apply(NetEnvironment net, NetnsSpec spec)
    {
        foreach (var v in spec.Veths)
        {
            // kernel: veth_newlink() registers the peer first, so it gets the lower ifindex.
            var peer = net.AddInterface(v.Peer);
            var dev = net.AddInterface(v.Name);
            if (v.Mac is not null)
            {
                dev.Mac = MacAddress.Parse(v.Mac);
            }

            if (v.PeerMac is not null)
            {
                peer.Mac = MacAddress.Parse(v.PeerMac);
            }
        }

        foreach (var a in spec.Addresses)
        {
            net.AddAddress(a.Device, a.Cidr);
        }

        foreach (var r in spec.Routes)
        {
            net.AddRoute(r.Destination, r.Device, r.Via);
        }

        foreach (var n in spec.Neighbours)
        {
            net.AddNeighbour(n.Address, n.Mac, n.Device);
        }

        if (spec.Forwarding)
        {
            net.SetForwarding(true);
        }
    }

    private static void Apply(NetEnvironment net, string command)
    {
        var w = command.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (w.Count == 0)
        {
            return;
        }

        if (w[0] == "sysctl")
        {
            foreach (string setting in w.Skip(1).Where(x => !x.StartsWith('-')))
            {
                Sysctl(net, setting, command);
            }

            return;
        }

        if (w[0] != "ip")
        {
            throw Unsupported(command);
        }

        w.RemoveAt(0);
        w.RemoveAll(x => x is "-4" or "-6");
        switch (w)
        {
            case ["link", "set", _, "up" or "down"]:
                return;
            case ["link", "add", var name, "type", "veth", "peer", "name", var peer]:
                net.AddInterface(peer);
                net.AddInterface(name);
                return;
            case ["link", "set", var dev, "address", var mac]:
                Device(net, dev, command).Mac = MacAddress.Parse(mac);
                return;
            case ["link", "set", var dev, "mtu", var mtu]:
                Device(net, dev, command).Mtu = uint.Parse(mtu, CultureInfo.InvariantCulture);
                return;
            case ["addr" or "address", "add", var cidr, "dev", var dev, .. var rest] when rest.All(x => x == "nodad"):
                net.AddAddress(dev, cidr);
                return;
            case ["route", "add", var dst, .. var rest]:
                AddRoute(net, dst, rest, command);
                return;
            case ["neigh" or "neighbour", "add" or "replace", var ip, "lladdr", var mac, "dev", var dev, .. var rest]:
                net.AddNeighbour(ip, mac, dev);
                if (rest is not ([] or ["nud", "permanent"]))
                {
                    throw Unsupported(command);
                }

                return;
            default:
                throw Unsupported(command);
        }
    }

    private static void AddRoute(NetEnvironment net, string destination, List<string> rest, string command)
    {
        string? via = null, dev = null;
        for (int i = 0; i + 1 < rest.Count; i += 2)
        {
            switch (rest[i])
            {
                case "via":
                    via = rest[i + 1];
                    break;
                case "dev":
                    dev = rest[i + 1];
                    break;
                default:
                    throw Unsupported(command);
            }
        }

        if (rest.Count % 2 != 0)
        {
            throw Unsupported(command);
        }

        if (dev is null && via is not null)
        {
            // ip route add ... via GW: the device is the one whose connected subnet holds the gateway.
            var gw = NetAddress.Parse(via);
            dev = net.Interfaces.FirstOrDefault(d => d.Addresses.Any(a => a.Contains(gw)))?.Name
                ?? throw new NotSupportedException($"environment command \"{command}\": no device reaches the gateway {via}");
        }

        net.AddRoute(destination, dev ?? throw Unsupported(command), via);
    }

    private static void Sysctl(NetEnvironment net, string setting, string command)
    {
        int eq = setting.IndexOf('=', StringComparison.Ordinal);
        if (eq < 0)
        {
            throw Unsupported(command);
        }

        string key = setting[..eq];
        int value = int.Parse(setting[(eq + 1)..], CultureInfo.InvariantCulture);
        switch (key)
        {
            case "net.ipv4.ip_forward" or "net.ipv4.conf.all.forwarding":
                foreach (var d in net.Interfaces)
                {
                    d.Ipv4Forwarding = value != 0;
                }

                break;
            case "net.ipv6.conf.all.forwarding":
                foreach (var d in net.Interfaces)
                {
                    d.Ipv6Forwarding = value != 0;
                }

                break;
            case "net.ipv4.tcp_syncookies":
                net.TcpSyncookies = value;
                break;
            default:
                throw Unsupported(command);
        }
    }

    private static void AddSocket(NetEnvironment net, CrossCheckSocket s)
    {
        var type = s.Proto == "tcp" ? NetSocketType.Stream : s.Proto == "udp" ? NetSocketType.Dgram : throw new NotSupportedException($"socket protocol \"{s.Proto}\"");
        if ((s.Listen ?? s.Bind) is { } local)
        {
            var ep = IPEndPoint.Parse(local);
            net.AddSocket(new NetSocket
            {
                Family = Family(ep),
                Type = type,
                State = type == NetSocketType.Stream && s.Listen is not null ? NetSocketState.Listen : NetSocketState.Close,
                LocalAddress = NetAddress.Parse(ep.Address.ToString()),
                LocalPort = (ushort)ep.Port,
            });
            return;
        }

        if (s.Connect is { } connect)
        {
            int arrow = connect.IndexOf("->", StringComparison.Ordinal);
            var l = IPEndPoint.Parse(connect[..arrow]);
            var r = IPEndPoint.Parse(connect[(arrow + 2)..]);
            var la = NetAddress.Parse(l.Address.ToString());
            var ra = NetAddress.Parse(r.Address.ToString());
            net.AddSocket(new NetSocket
            {
                Family = Family(l),
                Type = type,
                State = NetSocketState.Established,
                LocalAddress = la,
                LocalPort = (ushort)l.Port,
                RemoteAddress = ra,
                RemotePort = (ushort)r.Port,
            });

            // A TCP connection to a listener of the namespace: the kernel also holds the accepted end (established,
            // waiting in the listener's accept queue).
            if (type == NetSocketType.Stream && net.Sockets.Any(x => x.State == NetSocketState.Listen && x.LocalPort == r.Port
                && (x.LocalAddress.IsAny || x.LocalAddress == ra)))
            {
                net.AddSocket(new NetSocket
                {
                    Family = Family(r),
                    Type = type,
                    State = NetSocketState.Established,
                    LocalAddress = ra,
                    LocalPort = (ushort)r.Port,
                    RemoteAddress = la,
                    RemotePort = (ushort)l.Port,
                });
            }

            return;
        }

        throw new NotSupportedException($"socket {s}: give listen, bind or connect");
    }

    private static NetFamily Family(IPEndPoint ep) => ep.AddressFamily == AddressFamily.InterNetworkV6 ? NetFamily.Inet6 : NetFamily.Inet;

    private static NetInterface Device(NetEnvironment net, string name, string command) =>
        net.FindInterface(name) ?? throw new NotSupportedException($"environment command \"{command}\": no device \"{name}\"");

    private static NotSupportedException Unsupported(string command) =>
        new($"environment command \"{command}\": our VM's network environment cannot model it");
}
