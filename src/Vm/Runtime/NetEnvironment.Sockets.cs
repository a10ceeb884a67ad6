using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Runtime;

public sealed partial class NetEnvironment
{
    /// <summary>sizeof(struct bpf_sock): what a program may read through a socket pointer.</summary>
    public const int SocketViewSize = 80;

    // Views live in pinned chunks that never move (a program may hold a socket pointer); 48 unregistered bytes after
    // each view make a read past its end fault instead of landing in the next socket.
    private const int ViewStride = 128;
    private const int ViewsPerChunk = 32;

    // LOOPBACK4_IPV6 (127.0.0.6): the IPv4 address fields of an IPv6 socket bound or connected to a non-mapped address.
    private const uint Loopback4Ipv6 = 0x7f000006;

    private readonly List<NetSocket> _sockets = [];
    private readonly List<byte[]> _viewChunks = [];
    private readonly List<MemoryRegion> _viewRegions = [];

    /// <summary>The sockets, in the order they were added.</summary>
    public IReadOnlyList<NetSocket> Sockets => _sockets;

    /// <summary>Adds a socket for the lookup helpers to find (a listener, an established or time-wait connection, a
    /// request socket, a UDP socket) and returns it as stored: an IPv6 socket whose addresses were left at their IPv4
    /// defaults is stored as a copy with :: instead, so use the returned socket (as a request socket's
    /// <see cref="NetSocket.Listener"/>, or to read its syncookie state).</summary>
    public NetSocket AddSocket(NetSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.LocalAddress.Family != socket.Family || socket.RemoteAddress.Family != socket.Family)
        {
            // Let a caller leave the addresses at their IPv4 default for an IPv6 socket.
            socket = new NetSocket
            {
                Family = socket.Family,
                Type = socket.Type,
                State = socket.State,
                LocalAddress = socket.LocalAddress.IsAny ? new NetAddress(socket.Family, UInt128.Zero) : socket.LocalAddress,
                LocalPort = socket.LocalPort,
                RemoteAddress = socket.RemoteAddress.IsAny ? new NetAddress(socket.Family, UInt128.Zero) : socket.RemoteAddress,
                RemotePort = socket.RemotePort,
                BoundIfindex = socket.BoundIfindex,
                Mark = socket.Mark,
                Priority = socket.Priority,
                RxQueueMapping = socket.RxQueueMapping,
                Ipv6Only = socket.Ipv6Only,
                Listener = socket.Listener,
                UserMss = socket.UserMss,
                SynQueueFull = socket.SynQueueFull,
                AcceptQueueFull = socket.AcceptQueueFull,
                LastSynOverflow = socket.LastSynOverflow,
            };
            if (socket.LocalAddress.Family != socket.Family || socket.RemoteAddress.Family != socket.Family)
            {
                throw new ArgumentException($"socket {socket}: its addresses are not of its family", nameof(socket));
            }
        }

        if (_sockets.Count == _viewChunks.Count * ViewsPerChunk)
        {
            _viewChunks.Add(GC.AllocateArray<byte>((ViewsPerChunk * ViewStride) + 64, pinned: true));
        }

        _sockets.Add(socket);
        int index = _sockets.Count - 1;
        _viewRegions.Add(new MemoryRegion(ViewAddress(index), SocketViewSize, RegionKind.MapValue, Writable: false, $"socket {index} ({socket})"));
        WriteView(index);
        return socket;
    }

    /// <summary>The memory region of socket <paramref name="index"/>'s <c>struct bpf_sock</c> view (read only).</summary>
    public MemoryRegion SocketRegion(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _sockets.Count);
        return _viewRegions[index];
    }

    /// <summary>Registers the socket views with <paramref name="regions"/> (the runner does this with the maps' regions,
    /// so a socket pointer stays valid in every call frame).</summary>
    public void RegisterRegions(RegionTable regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        for (int i = 0; i < _sockets.Count; i++)
        {
            regions.Add(SocketRegion(i));
        }
    }

    /// <summary>The address of socket <paramref name="index"/>'s view: what the lookup helpers return.</summary>
    public unsafe ulong ViewAddress(int index)
    {
        var chunk = _viewChunks[index / ViewsPerChunk];
        ulong start = (ulong)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(chunk));
        ulong aligned = (start + 63) & ~63UL;
        return aligned + (ulong)((index % ViewsPerChunk) * ViewStride);
    }

    /// <summary>The index of the socket whose view starts at <paramref name="address"/>, or -1.</summary>
    public int FindSocketAt(ulong address)
    {
        for (int c = 0; c < _viewChunks.Count; c++)
        {
            ulong first = ViewAddress(c * ViewsPerChunk);
            ulong offset = address - first;
            if (offset < ViewsPerChunk * ViewStride && offset % ViewStride == 0)
            {
                int index = (c * ViewsPerChunk) + (int)(offset / ViewStride);
                return index < _sockets.Count ? index : -1;
            }
        }

        return -1;
    }

    /// <summary>The index of <paramref name="socket"/>, or -1.</summary>
    public int IndexOf(NetSocket socket) => _sockets.IndexOf(socket);

    /// <summary>Refreshes socket <paramref name="index"/>'s <c>struct bpf_sock</c> view from the socket (the lookup
    /// helpers call this before they return it). kernel: bpf_sock_convert_ctx_access().</summary>
    public unsafe void WriteView(int index)
    {
        var s = _sockets[index];
        var v = new Span<byte>((void*)ViewAddress(index), SocketViewSize);
        v.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(v, (uint)s.BoundIfindex);
        BinaryPrimitives.WriteUInt32LittleEndian(v[4..], (uint)s.Family);
        BinaryPrimitives.WriteUInt32LittleEndian(v[8..], (uint)s.Type);
        BinaryPrimitives.WriteUInt32LittleEndian(v[12..], s.Protocol);
        BinaryPrimitives.WriteUInt32LittleEndian(v[16..], s.Mark);
        BinaryPrimitives.WriteUInt32LittleEndian(v[20..], s.Priority);
        if (s.Family == NetFamily.Inet)
        {
            s.LocalAddress.WriteTo(v[24..]);
            s.RemoteAddress.WriteTo(v[52..]);
        }
        else
        {
            if (!s.LocalAddress.IsAny)
            {
                BinaryPrimitives.WriteUInt32BigEndian(v[24..], Loopback4Ipv6);
            }

            if (!s.RemoteAddress.IsAny)
            {
                BinaryPrimitives.WriteUInt32BigEndian(v[52..], Loopback4Ipv6);
            }

            s.LocalAddress.WriteTo(v[28..]);
            s.RemoteAddress.WriteTo(v[56..]);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(v[44..], s.LocalPort);
        BinaryPrimitives.WriteUInt16BigEndian(v[48..], s.RemotePort);
        BinaryPrimitives.WriteUInt32LittleEndian(v[72..], (uint)s.State);
        BinaryPrimitives.WriteInt32LittleEndian(v[76..], s.RxQueueMapping);
    }

    /// <summary>The socket the kernel's lookup finds for a packet from <paramref name="source"/>:<paramref name="sourcePort"/>
    /// to <paramref name="destination"/>:<paramref name="destinationPort"/> (ports in host order) received on
    /// <paramref name="dif"/>, or -1. TCP (__inet_lookup): an established, time-wait or request socket with the exact
    /// four-tuple, else the best listener. UDP (__udp4_lib_lookup / __udp6_lib_lookup): the best-scoring socket.
    /// Listeners and UDP sockets bound to the address win over wildcard ones; an IPv6 socket that is not IPV6_V6ONLY and
    /// is bound to :: also takes IPv4.</summary>
    public int LookupSocket(bool tcp, NetAddress source, ushort sourcePort, NetAddress destination, ushort destinationPort, int dif)
    {
        if (tcp)
        {
            for (int i = 0; i < _sockets.Count; i++)
            {
                var s = _sockets[i];
                if (s.Type == NetSocketType.Stream && s.State is not (NetSocketState.Listen or NetSocketState.Close)
                    && s.Family == destination.Family && s.LocalPort == destinationPort && s.RemotePort == sourcePort
                    && s.LocalAddress == destination && s.RemoteAddress == source && BoundDevMatches(s, dif))
                {
                    return i;
                }
            }
        }

        int found = BestSocket(tcp, source, sourcePort, destination, destinationPort, dif, wildcard: false);
        return found >= 0 ? found : BestSocket(tcp, source, sourcePort, destination, destinationPort, dif, wildcard: true);
    }

    // One pass of the listener / UDP lookup: sockets bound to the destination address, or (wildcard) to the any address.
    private int BestSocket(bool tcp, NetAddress source, ushort sourcePort, NetAddress destination, ushort destinationPort, int dif, bool wildcard)
    {
        int best = -1;
        int bestScore = -1;
        for (int i = 0; i < _sockets.Count; i++)
        {
            var s = _sockets[i];
            if (s.LocalPort != destinationPort || !BoundDevMatches(s, dif))
            {
                continue;
            }

            if (tcp ? s.Type != NetSocketType.Stream || s.State != NetSocketState.Listen : s.Type != NetSocketType.Dgram)
            {
                continue;
            }

            bool familyOk = s.Family == destination.Family
                || (destination.Family == NetFamily.Inet && s.Family == NetFamily.Inet6 && !s.Ipv6Only && s.LocalAddress.IsAny);
            if (!familyOk || (wildcard ? !s.LocalAddress.IsAny : s.LocalAddress.Family != destination.Family || s.LocalAddress != destination))
            {
                continue;
            }

            int score;
            if (tcp)
            {
                // kernel: compute_score() in inet_hashtables.c / inet6_hashtables.c.
                score = (s.BoundIfindex != 0 ? 2 : 1) + (destination.Family == NetFamily.Inet && s.Family == NetFamily.Inet ? 1 : 0);
            }
            else
            {
                // kernel: compute_score() in udp.c / udp_ipv6.c.
                score = destination.Family == NetFamily.Inet ? (s.Family == NetFamily.Inet ? 2 : 1) : 0;
                if (!s.RemoteAddress.IsAny)
                {
                    if (s.RemoteAddress.Family != source.Family || s.RemoteAddress != source)
                    {
                        continue;
                    }

                    score += 4;
                }

                if (s.RemotePort != 0)
                {
                    if (s.RemotePort != sourcePort)
                    {
                        continue;
                    }

                    score += 4;
                }

                if (s.BoundIfindex != 0)
                {
                    score += 4;
                }
            }

            if (score > bestScore)
            {
                best = i;
                bestScore = score;
            }
        }

        return best;
    }

    // inet_bound_dev_eq() with sdif 0: an unbound socket matches every device.
    private static bool BoundDevMatches(NetSocket s, int dif) => s.BoundIfindex == 0 || s.BoundIfindex == dif;
}
