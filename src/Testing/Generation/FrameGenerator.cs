using System.Net;
using VethXdp.Testing.Model;
using VethXdp.Vm.Runtime;

namespace VethXdp.Testing.Generation;

/// <summary>Builds one frame of a spec from a seed: the link layer and its tags, a layer 3 stack (maybe tunnelled), a
/// transport header, a payload, and with the spec's probability one defect (<see cref="Malformer"/>).</summary>
internal sealed class FrameGenerator(FrameSpec spec, FrameRandom rng, int size)
{
    private static readonly MacAddress[] s_macs =
    [
        MacAddress.Parse("02:00:00:00:00:01"), MacAddress.Parse("02:00:00:00:00:02"), Macs.Broadcast,
        MacAddress.Parse("01:00:5e:00:00:01"), MacAddress.Parse("33:33:00:00:00:01"), Macs.Zero,
    ];

    private static readonly IPAddress[] s_ipv4 =
    [
        IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.2"), IPAddress.Parse("192.168.1.1"), IPAddress.Loopback,
        IPAddress.Any, IPAddress.Broadcast, IPAddress.Parse("224.0.0.1"), IPAddress.Parse("10.1.0.1"),
    ];

    private static readonly IPAddress[] s_ipv6 =
    [
        IPAddress.Parse("fe80::1"), IPAddress.Parse("2001:db8::1"), IPAddress.Parse("2001:db8::2"), IPAddress.IPv6Loopback,
        IPAddress.IPv6Any, IPAddress.Parse("ff02::1"), IPAddress.Parse("fd00::1"),
    ];

    private static readonly ushort[] s_otherEtherTypes = [0x88cc, 0x8863, 0x8864, 0x8847, Frame.ExperimentalEtherType, 0x9000, 0x0100, 0x05dc];

    private static readonly byte[] s_otherProtocols = [2, 50, 51, 132, 253];

    private readonly FrameSpec _spec = spec;
    private readonly FrameRandom _rng = rng;
    private readonly int _size = Math.Clamp(size, 0, 100);
    private readonly FrameWeights _w = spec.WeightsValue;

    public Frame Generate()
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            var frame = GenerateOnce();
            if (_spec.Admits(frame))
            {
                return frame;
            }
        }

        throw new InvalidOperationException("no frame of the spec satisfied its Where filters in 200 attempts: the filters are too narrow for the generator");
    }

    private Frame GenerateOnce()
    {
        var kinds = MalformationKinds();
        bool malformed = kinds.Count > 0 && _rng.Chance(_spec.MalformedProbability);
        if (malformed && PickKind(kinds) == MalformationKind.RandomBytes)
        {
            return Frame.Raw(_rng.Bytes(_rng.Next(Frames.MinLength, Frames.MinLength + Scaled(Math.Max(_spec.PayloadMax, 50)))));
        }

        var headers = new List<Header> { Ethernet() };
        AddTags(headers);
        var l3 = PickL3();
        if (l3 is L3Kinds.Ipv4 or L3Kinds.Ipv6)
        {
            AddTunnelOrIp(headers, l3);
        }
        else if (l3 == L3Kinds.Arp)
        {
            headers.Add(Arp());
        }
        else
        {
            headers[^1] = WithEtherType(headers[^1], _rng.Pick(s_otherEtherTypes));
        }

        var frame = new Frame(headers, Payload(headers));
        if (malformed)
        {
            kinds.Remove(MalformationKind.RandomBytes);
            frame = Malformer.Apply(frame, kinds, _rng, _spec) ?? frame;
        }

        return frame;
    }

    // ---- layer 2 ----

    private EthernetHeader Ethernet() => new(Mac(), Mac());

    private MacAddress Mac() => _rng.Percent(_w.FavouriteAddressPercent)
        ? _rng.Pick(s_macs)
        : new MacAddress(_rng.NextULong() & 0xffff_ffff_ffff);

    private void AddTags(List<Header> headers)
    {
        var allowed = _spec.EffectiveTags;
        int pick = _rng.Weighted([
            (allowed & TagKinds.Untagged) != 0 ? _w.Untagged : 0,
            (allowed & TagKinds.Vlan) != 0 ? _w.Vlan : 0,
            (allowed & TagKinds.QinQ) != 0 ? _w.QinQ : 0]);
        if (pick == 1)
        {
            headers.Add(Tag(VlanTag.Dot1Q));
        }
        else if (pick == 2)
        {
            headers.Add(Tag(VlanTag.Dot1AD));
            headers.Add(Tag(VlanTag.Dot1Q));
        }
    }

    private VlanTag Tag(ushort tpid) =>
        new((ushort)(_rng.Percent(30) ? _rng.Pick<int>([0, 1, 100, 4095]) : _rng.Next(0, 4095)), (byte)_rng.Next(0, 7), _rng.Percent(5), tpid);

    private static Header WithEtherType(Header h, ushort type) => h switch
    {
        EthernetHeader e => e with { EtherType = type },
        VlanTag t => t with { EtherType = type },
        _ => h,
    };

    private L3Kinds PickL3()
    {
        var allowed = _spec.EffectiveL3;
        return _rng.Weighted([
            (allowed & L3Kinds.Ipv4) != 0 ? _w.Ipv4 : 0,
            (allowed & L3Kinds.Ipv6) != 0 ? _w.Ipv6 : 0,
            (allowed & L3Kinds.Arp) != 0 ? _w.Arp : 0,
            (allowed & L3Kinds.Other) != 0 ? _w.OtherEtherType : 0]) switch
        {
            0 => L3Kinds.Ipv4,
            1 => L3Kinds.Ipv6,
            2 => L3Kinds.Arp,
            3 => L3Kinds.Other,
            _ => (allowed & L3Kinds.Ipv4) != 0 ? L3Kinds.Ipv4 : (allowed & L3Kinds.Ipv6) != 0 ? L3Kinds.Ipv6 : (allowed & L3Kinds.Arp) != 0 ? L3Kinds.Arp : L3Kinds.Other,
        };
    }

    private L3Kinds PickIp()
    {
        var allowed = _spec.EffectiveL3;
        return _rng.Weighted([(allowed & L3Kinds.Ipv4) != 0 ? _w.Ipv4 : 0, (allowed & L3Kinds.Ipv6) != 0 ? _w.Ipv6 : 0]) == 1
            ? L3Kinds.Ipv6
            : (allowed & L3Kinds.Ipv4) != 0 ? L3Kinds.Ipv4 : L3Kinds.Ipv6;
    }

    private ArpHeader Arp() => new()
    {
        Operation = (ushort)(_rng.Percent(90) ? _rng.Next(1, 2) : _rng.Next(0, 9)),
        SenderMac = Mac(),
        SenderIp = Ipv4Address(),
        TargetMac = _rng.Percent(50) ? Macs.Zero : Mac(),
        TargetIp = Ipv4Address(),
    };

    // ---- layer 3 and tunnels ----

    private void AddTunnelOrIp(List<Header> headers, L3Kinds ip)
    {
        var allowed = _spec.EffectiveTunnels;
        int tunnel = _rng.Weighted([
            _w.NoTunnel,
            (allowed & TunnelKinds.Gre) != 0 ? _w.Gre : 0,
            (allowed & TunnelKinds.Ipip) != 0 ? _w.Ipip : 0,
            (allowed & TunnelKinds.Vxlan) != 0 ? _w.Vxlan : 0]);
        switch (tunnel)
        {
            case 1:
                AddIp(headers, ip, transport: false);
                headers.Add(new GreHeader
                {
                    WithChecksum = _rng.Percent(25),
                    Key = _rng.Percent(30) ? _rng.NextUInt() : null,
                    Sequence = _rng.Percent(20) ? _rng.NextUInt() : null,
                });
                if (_rng.Percent(25))
                {
                    headers.Add(Ethernet());
                }

                AddIp(headers, PickIp(), transport: true);
                break;
            case 2:
                AddIp(headers, ip, transport: false);
                AddIp(headers, PickIp(), transport: true);
                break;
            case 3:
                AddIp(headers, ip, transport: false);
                headers.Add(new UdpHeader { SourcePort = (ushort)_rng.Next(49152, 65535), DestinationPort = UdpHeader.VxlanPort });
                headers.Add(new VxlanHeader((uint)_rng.Next(0, 0xffffff)));
                headers.Add(Ethernet());
                AddIp(headers, PickIp(), transport: true);
                break;
            default:
                AddIp(headers, ip, transport: true);
                break;
        }
    }

    // The IP header, its options or extension headers, and (when transport) the transport header.
    private void AddIp(List<Header> headers, L3Kinds ip, bool transport)
    {
        bool laterFragment = false;
        if (ip == L3Kinds.Ipv4)
        {
            var v4 = new Ipv4Header
            {
                Source = Ipv4Address(),
                Destination = Ipv4Address(),
                Tos = _rng.Percent(80) ? (byte)0 : _rng.NextByte(),
                Id = _rng.NextUShort(),
                DontFragment = _rng.Percent(50),
                Ttl = _rng.Percent(20) ? _rng.Pick<byte>([0, 1, 255]) : (byte)_rng.Next(2, 128),
                Options = _rng.Percent(_w.Ipv4OptionsPercent) ? Ipv4Options() : [],
            };
            if (transport && _rng.Percent(_w.Ipv4FragmentPercent))
            {
                // A first fragment keeps its transport header; a later one has none (when the spec allows that).
                laterFragment = AllowsOtherL4 && _rng.Percent(60);
                v4 = v4 with
                {
                    DontFragment = false,
                    MoreFragments = !laterFragment || _rng.Percent(50),
                    FragmentOffset = laterFragment ? (ushort)_rng.Next(1, 1000) : (ushort)0,
                };
            }

            headers.Add(v4);
        }
        else
        {
            headers.Add(new Ipv6Header
            {
                Source = Ipv6Address(),
                Destination = Ipv6Address(),
                TrafficClass = _rng.Percent(80) ? (byte)0 : _rng.NextByte(),
                FlowLabel = _rng.Percent(50) ? 0 : (uint)_rng.Next(0, 0xfffff),
                HopLimit = _rng.Percent(20) ? _rng.Pick<byte>([0, 1, 255]) : (byte)_rng.Next(2, 128),
            });
            if (_rng.Percent(_w.Ipv6ExtensionPercent))
            {
                laterFragment = AddIpv6Extensions(headers, transport);
            }
        }

        if (!transport)
        {
            return;
        }

        if (laterFragment)
        {
            SetProtocol(headers, _rng.Pick<byte>([6, 17, 1]));
            return;
        }

        var allowed = _spec.EffectiveL4;
        int pick = _rng.Weighted([
            (allowed & L4Kinds.Tcp) != 0 ? _w.Tcp : 0,
            (allowed & L4Kinds.Udp) != 0 ? _w.Udp : 0,
            (allowed & L4Kinds.Icmp) != 0 ? _w.Icmp : 0,
            (allowed & L4Kinds.Other) != 0 ? _w.OtherProtocol : 0]);
        switch (pick)
        {
            case 0:
                headers.Add(Tcp());
                break;
            case 1:
                headers.Add(new UdpHeader { SourcePort = Port(_spec.UdpSource), DestinationPort = Port(_spec.UdpDestination) });
                break;
            case 2:
                headers.Add(Icmp(ip == L3Kinds.Ipv6));
                break;
            default:
                if (_rng.Percent(70))
                {
                    SetProtocol(headers, _rng.Pick(s_otherProtocols));
                }

                break;
        }
    }

    private bool AllowsOtherL4 => (_spec.EffectiveL4 & L4Kinds.Other) != 0;

    // Sets the protocol of the last IP or extension header (the one the payload follows).
    private static void SetProtocol(List<Header> headers, byte protocol)
    {
        headers[^1] = headers[^1] switch
        {
            Ipv4Header v4 => v4 with { Protocol = protocol },
            Ipv6Header v6 => v6 with { NextHeader = protocol },
            Ipv6ExtensionHeader e => e with { NextHeader = protocol },
            Ipv6FragmentHeader f => f with { NextHeader = protocol },
            var h => h,
        };
    }

    private List<HeaderOption> Ipv4Options()
    {
        var list = new List<HeaderOption>();
        int count = _rng.Next(1, 1 + Scaled(3));
        int used = 0;
        for (int i = 0; i < count; i++)
        {
            var o = _rng.Next(0, 5) switch
            {
                0 => HeaderOption.NoOperation,
                1 => new HeaderOption(0x94, new byte[2]),                                // router alert
                2 => new HeaderOption(0x07, Route(_rng.Next(1, 4))),                     // record route
                3 => new HeaderOption(0x83, Route(_rng.Next(1, 3))),                     // loose source route
                4 => new HeaderOption(0x89, Route(_rng.Next(1, 3))),                     // strict source route
                _ => new HeaderOption(0x44, Timestamp(_rng.Next(1, 3))),                 // timestamp
            };
            if (used + o.Length > Ipv4Header.MaxOptions)
            {
                break;
            }

            used += o.Length;
            list.Add(o);
        }

        return list;
    }

    // pointer (4 = first slot), then the addresses.
    private byte[] Route(int slots)
    {
        var data = new byte[1 + (4 * slots)];
        data[0] = 4;
        for (int i = 1; i < data.Length; i++)
        {
            data[i] = _rng.Percent(50) ? (byte)0 : _rng.NextByte();
        }

        return data;
    }

    private static byte[] Timestamp(int slots)
    {
        var data = new byte[2 + (4 * slots)];
        data[0] = 5;
        return data;
    }

    // Returns true when a later fragment (no transport header) was made.
    private bool AddIpv6Extensions(List<Header> headers, bool transport)
    {
        if (_rng.Percent(40))
        {
            headers.Add(new Ipv6ExtensionHeader(Ipv6ExtensionKind.HopByHop, ExtensionData()));
        }

        int more = _rng.Next(1, 1 + Scaled(2));
        for (int i = 0; i < more; i++)
        {
            switch (_rng.Next(0, 2))
            {
                case 0:
                    headers.Add(new Ipv6ExtensionHeader(Ipv6ExtensionKind.DestinationOptions, ExtensionData()));
                    break;
                case 1:
                    // Routing type 4 (segment routing) with segments left 0, or type 2 / 0.
                    var data = new byte[6 + (16 * _rng.Next(0, 2))];
                    data[0] = _rng.Pick<byte>([0, 2, 4]);
                    headers.Add(new Ipv6ExtensionHeader(Ipv6ExtensionKind.Routing, data));
                    break;
                default:
                    bool later = transport && AllowsOtherL4 && _rng.Percent(50);
                    headers.Add(new Ipv6FragmentHeader(later ? (ushort)_rng.Next(1, 1000) : (ushort)0, !later || _rng.Percent(50), _rng.NextUInt()));
                    if (later)
                    {
                        return true;
                    }

                    break;
            }
        }

        return false;
    }

    // Options area of a Hop-by-Hop or Destination Options header: Pad1/PadN and a router alert or unknown option.
    private byte[] ExtensionData()
    {
        int length = 6 + (8 * _rng.Next(0, Scaled(2)));
        var data = new byte[length];
        if (_rng.Percent(50) && length >= 4)
        {
            data[0] = _rng.Pick<byte>([0x05, 0x1e, 0xc2, 0x3e]);  // router alert, experimental, jumbo (bad here), unknown-skip
            data[1] = 2;
            if (length >= 6)
            {
                data[4] = 1;    // PadN over the rest
                data[5] = (byte)(length - 6);
            }
        }

        return data;
    }

    // ---- transport ----

    private TcpHeader Tcp() => new()
    {
        SourcePort = Port(_spec.TcpSource),
        DestinationPort = Port(_spec.TcpDestination),
        Sequence = _rng.Percent(20) ? 0 : _rng.NextUInt(),
        Acknowledgment = _rng.Percent(40) ? 0 : _rng.NextUInt(),
        Flags = _rng.Percent(85)
            ? _rng.Pick<TcpFlags>([TcpFlags.Syn, TcpFlags.Syn | TcpFlags.Ack, TcpFlags.Ack, TcpFlags.Psh | TcpFlags.Ack, TcpFlags.Fin | TcpFlags.Ack, TcpFlags.Rst, TcpFlags.Rst | TcpFlags.Ack])
            : (TcpFlags)_rng.NextByte(),
        Window = _rng.NextUShort(),
        UrgentPointer = _rng.Percent(90) ? (ushort)0 : _rng.NextUShort(),
        Options = _rng.Percent(_w.TcpOptionsPercent) ? TcpOptions() : [],
    };

    private List<HeaderOption> TcpOptions()
    {
        var list = new List<HeaderOption>();
        int count = _rng.Next(1, 1 + Scaled(4));
        int used = 0;
        for (int i = 0; i < count; i++)
        {
            var o = _rng.Next(0, 5) switch
            {
                0 => HeaderOption.NoOperation,
                1 => new HeaderOption(2, new byte[] { 0x05, 0xb4 }),                     // MSS 1460
                2 => new HeaderOption(3, new byte[] { (byte)_rng.Next(0, 14) }),         // window scale
                3 => new HeaderOption(4, ReadOnlyMemory<byte>.Empty),                     // SACK permitted
                4 => new HeaderOption(8, _rng.Bytes(8)),                                  // timestamps
                _ => new HeaderOption(5, _rng.Bytes(8 * _rng.Next(1, 3))),                // SACK blocks
            };
            if (used + o.Length > Ipv4Header.MaxOptions)
            {
                break;
            }

            used += o.Length;
            list.Add(o);
        }

        return list;
    }

    private IcmpHeader Icmp(bool v6)
    {
        byte type = v6
            ? (_rng.Percent(85) ? _rng.Pick<byte>([128, 129, 1, 2, 3, 135, 136, 133, 134]) : _rng.NextByte())
            : (_rng.Percent(85) ? _rng.Pick<byte>([8, 0, 3, 11, 5]) : _rng.NextByte());
        byte code = _rng.Percent(80) ? (byte)0 : (byte)_rng.Next(0, 15);
        return new IcmpHeader(type, code, _rng.Percent(30) ? 0 : _rng.NextUInt(), v6);
    }

    private ushort Port(Ports? range)
    {
        if (range is { } r)
        {
            if (_rng.Percent(_w.FavouritePortPercent))
            {
                foreach (ushort p in _spec.FavouritePorts)
                {
                    if (r.Contains(p) && _rng.Percent(50))
                    {
                        return p;
                    }
                }
            }

            return (ushort)_rng.Next(r.Low, r.High);
        }

        return _rng.Percent(_w.FavouritePortPercent) ? _rng.Pick(_spec.FavouritePorts) : _rng.NextUShort();
    }

    private IPAddress Ipv4Address() => _rng.Percent(_w.FavouriteAddressPercent)
        ? _rng.Pick(s_ipv4)
        : new IPAddress(_rng.Bytes(4));

    private IPAddress Ipv6Address() => _rng.Percent(_w.FavouriteAddressPercent)
        ? _rng.Pick(s_ipv6)
        : new IPAddress(_rng.Bytes(16));

    // ---- payload ----

    private ReadOnlyMemory<byte> Payload(List<Header> headers)
    {
        int min = _spec.PayloadMin;
        int max = Math.Max(min, min + Scaled(_spec.PayloadMax - min));
        int length = _rng.Percent(25) ? min : _rng.Next(min, max);
        if (headers[^1] is EthernetHeader or VlanTag && length == 0 && _rng.Percent(50))
        {
            length = Math.Clamp(46, min, _spec.PayloadMax);    // an "other" EtherType frame padded to the 60-byte minimum
        }

        return _rng.Percent(30) ? new byte[length] : _rng.Bytes(length);
    }

    /// <summary><paramref name="max"/> scaled by the FsCheck size (0-100).</summary>
    private int Scaled(int max) => max * _size / 100;

    // ---- malformations ----

    private List<MalformationKind> MalformationKinds()
    {
        var list = new List<MalformationKind>();
        foreach (var kind in Enum.GetValues<MalformationKind>())
        {
            if (_spec.MalformationWeight(kind) > 0)
            {
                list.Add(kind);
            }
        }

        return list;
    }

    private MalformationKind PickKind(List<MalformationKind> kinds)
    {
        Span<int> weights = stackalloc int[kinds.Count];
        for (int i = 0; i < kinds.Count; i++)
        {
            weights[i] = _spec.MalformationWeight(kinds[i]);
        }

        return kinds[Math.Max(0, _rng.Weighted(weights))];
    }
}
