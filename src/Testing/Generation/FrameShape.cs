using VethXdp.Testing.Model;

namespace VethXdp.Testing.Generation;

/// <summary>Reads a frame model's shape (tags, tunnels, innermost layers, ports) against a spec's constraints.</summary>
internal static class FrameShape
{
    public static bool Admits(FrameSpec spec, Frame frame)
    {
        var h = frame.Headers;
        // A cut frame is truncated (IhlBeyondFrame cuts long frames after the IPv4 header too).
        if (frame.Cut is not null && frame.Length < frame.FullLength
            && spec.MalformationWeight(MalformationKind.Truncated) == 0 && spec.MalformationWeight(MalformationKind.IhlBeyondFrame) == 0)
        {
            return false;
        }

        if (h.Count == 0)
        {
            return spec.MalformationWeight(MalformationKind.RandomBytes) > 0;
        }

        if (h[0] is not EthernetHeader)
        {
            return false;
        }

        int i = 1;
        while (i < h.Count && h[i] is VlanTag)
        {
            i++;
        }

        var tags = (i - 1) switch { 0 => TagKinds.Untagged, 1 => TagKinds.Vlan, 2 => TagKinds.QinQ, _ => TagKinds.None };
        if ((spec.EffectiveTags & tags) == 0)
        {
            return false;
        }

        if (spec.EffectiveTunnels == TunnelKinds.None && IsTunnelled(frame))
        {
            return false;
        }

        var l3 = spec.EffectiveL3;
        int innermostIp = -1;
        bool sawL3 = false;
        for (int k = 1; k < h.Count; k++)
        {
            var kind = h[k] switch
            {
                Ipv4Header => L3Kinds.Ipv4,
                Ipv6Header => L3Kinds.Ipv6,
                ArpHeader => L3Kinds.Arp,
                _ => L3Kinds.None,
            };
            if (kind == L3Kinds.None)
            {
                continue;
            }

            sawL3 = true;
            if ((l3 & kind) == 0)
            {
                return false;
            }

            if (kind != L3Kinds.Arp)
            {
                innermostIp = k;
            }
        }

        if (!sawL3)
        {
            return (l3 & L3Kinds.Other) != 0;
        }

        if (innermostIp < 0)
        {
            return true;
        }

        var transport = InnermostTransport(h, innermostIp);
        var l4 = transport switch
        {
            TcpHeader => L4Kinds.Tcp,
            UdpHeader => L4Kinds.Udp,
            IcmpHeader => L4Kinds.Icmp,
            _ => L4Kinds.Other,
        };
        if ((spec.EffectiveL4 & l4) == 0)
        {
            return false;
        }

        return transport switch
        {
            TcpHeader tcp => In(spec.TcpSource, tcp.SourcePort) && In(spec.TcpDestination, tcp.DestinationPort),
            UdpHeader udp => In(spec.UdpSource, udp.SourcePort) && In(spec.UdpDestination, udp.DestinationPort),
            _ => true,
        };
    }

    /// <summary>The transport header after the innermost IP header (a VXLAN carrier's UDP does not count), or null.</summary>
    public static Header? InnermostTransport(IReadOnlyList<Header> headers, int innermostIp)
    {
        for (int k = innermostIp + 1; k < headers.Count; k++)
        {
            switch (headers[k])
            {
                case TcpHeader or IcmpHeader:
                    return headers[k];
                case UdpHeader when k + 1 >= headers.Count || headers[k + 1] is not VxlanHeader:
                    return headers[k];
            }
        }

        return null;
    }

    public static bool IsTunnelled(Frame frame)
    {
        int ips = 0;
        foreach (var h in frame.Headers)
        {
            switch (h)
            {
                case GreHeader or VxlanHeader:
                    return true;
                case Ipv4Header or Ipv6Header:
                    ips++;
                    break;
            }
        }

        return ips > 1;
    }

    private static bool In(Ports? range, ushort port) => range is not { } r || r.Contains(port);
}
