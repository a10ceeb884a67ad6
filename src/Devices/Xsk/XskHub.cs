using VethXdp.Devices.Frames;
using VethXdp.Devices.Napi;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;

namespace VethXdp.Devices.Xsk;

/// <summary>The AF_XDP side of one <see cref="SimWorld"/>: its sockets (and the fds XSKMAPs hold), the buffer pools
/// registered per device queue, the per-CPU xskmap flush lists, and the user-space applications the simulator runs.</summary>
public sealed class XskHub : IDisposable
{
    private readonly SimWorld _world;
    private readonly List<XskSocket> _sockets = [];
    private readonly Dictionary<(int Ifindex, uint Queue), XskSocket> _pools = [];
    private readonly List<(IXskApp App, int Cpu)> _apps = [];
    private readonly List<XskUmem> _umems = [];
    private readonly XskSocket[][] _flush;
    private readonly int[] _flushCount;
    private readonly long[] _transmitted;
    private int _nextFd = 100;

    private XskHub(SimWorld world)
    {
        _world = world;
        _flush = new XskSocket[world.CpuCount][];
        _flushCount = new int[world.CpuCount];
        _transmitted = new long[world.CpuCount * 8];
        for (int c = 0; c < world.CpuCount; c++)
        {
            _flush[c] = new XskSocket[4];
        }
    }

    /// <summary>The hub of <paramref name="world"/> (created on first use; every XSKMAP of the world's objects then
    /// resolves socket fds through it).</summary>
    public static XskHub Of(SimWorld world)
    {
        ArgumentNullException.ThrowIfNull(world);
        return world.Xsk ??= new XskHub(world);
    }

    /// <summary>The sockets, in creation order.</summary>
    public IReadOnlyList<XskSocket> Sockets => _sockets;

    /// <summary>The applications.</summary>
    public IEnumerable<IXskApp> Apps => _apps.Select(a => a.App);

    /// <summary>True when user-space applications run.</summary>
    public bool HasApps => _apps.Count > 0;

    /// <summary>Frames user space transmitted (new skbs built from TX descriptors).</summary>
    public long Transmitted
    {
        get
        {
            long n = 0;
            for (int i = 0; i < _transmitted.Length; i += 8)
            {
                n += _transmitted[i];
            }

            return n;
        }
    }

    /// <summary>xsk_umem__create() in this world (disposed with it).</summary>
    public XskUmem CreateUmem(ulong size, XskUmemConfig? config = null)
    {
        var u = XskUmem.Create(size, config);
        _umems.Add(u);
        return u;
    }

    /// <summary>xsk_socket__create(): a socket with the configured rings on <paramref name="umem"/>, bound to queue
    /// <paramref name="queue"/> of <paramref name="dev"/>.</summary>
    /// <exception cref="XskException">bind failed (the errno and the reason).</exception>
    public XskSocket CreateSocket(NetDevice dev, uint queue, XskUmem umem, XskSocketConfig? config = null)
    {
        ArgumentNullException.ThrowIfNull(dev);
        ArgumentNullException.ThrowIfNull(umem);
        var c = config ?? new XskSocketConfig();
        var s = new XskSocket(this, _nextFd++, umem, c);
        int err = s.Bind(dev, queue, c.BindFlags);
        if (err != 0)
        {
            throw new XskException(err, s.LastError ?? "bind failed");
        }

        return s;
    }

    /// <summary>A socket that is created but not bound (for tests of the unbound paths).</summary>
    public XskSocket CreateUnboundSocket(XskUmem umem, XskSocketConfig? config = null)
    {
        ArgumentNullException.ThrowIfNull(umem);
        var s = new XskSocket(this, _nextFd++, umem, config ?? new XskSocketConfig());
        _sockets.Add(s);
        return s;
    }

    /// <summary>bpf_map_update_elem(xskmap, &amp;key, &amp;fd, BPF_ANY): 0 or a negative errno (xsk_map_update_elem).</summary>
    public int SetSlot(XskMap map, uint key, XskSocket socket)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(socket);
        map.SocketResolver ??= Resolve;
        Span<byte> k = stackalloc byte[4];
        Span<byte> v = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(k, key);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(v, socket.Fd);
        return map.UserUpdate(k, v, 0);
    }

    /// <summary>The socket with <paramref name="fd"/>, or null (the XSKMAP's fd resolver).</summary>
    public object? Resolve(uint fd)
    {
        foreach (var s in _sockets)
        {
            if ((uint)s.Fd == fd && s.State != XskState.Unbound)
            {
                return s;
            }
        }

        return null;
    }

    /// <summary>Runs <paramref name="app"/> every round on simulated CPU <paramref name="cpu"/>.</summary>
    public void AddApp(IXskApp app, int cpu = 0)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cpu, _world.CpuCount);
        _apps.Add((app, cpu));
    }

    internal XskSocket? PoolAt(NetDevice dev, uint queue) => _pools.GetValueOrDefault((dev.Ifindex, queue));

    internal void Register(XskSocket s)
    {
        _pools[(s.Device!.Ifindex, s.QueueId)] = s;
        if (!_sockets.Contains(s))
        {
            _sockets.Add(s);
        }
    }

    internal void Unregister(XskSocket s)
    {
        if (s.Device is { } d)
        {
            _pools.Remove((d.Ifindex, s.QueueId));
        }

        // kernel: xsk_delete_from_maps()
        Span<byte> key = stackalloc byte[4];
        foreach (var obj in _world.ObjectsForXsk)
        {
            foreach (var map in obj.Maps)
            {
                if (map is XskMap x)
                {
                    for (uint k = 0; k < x.Spec.MaxEntries; k++)
                    {
                        if (x.TryGetRedirectTarget(k, out _, out var o) && ReferenceEquals(o, s))
                        {
                            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(key, k);
                            x.UserDelete(key);
                        }
                    }
                }
            }
        }
    }

    internal void CountTransmitted(int cpu) => _transmitted[cpu * 8]++;

    /// <summary>__xdp_do_redirect_xsk(): the frame to the socket in the XSKMAP slot bpf_redirect_map chose. 0, or a
    /// negative errno (the caller drops the frame and counts it as xdp_do_redirect does).</summary>
    internal int Redirect(NapiContext cpu, NetDevice devRx, in XdpDesc d, XdpProgramInstance prog, bool generic)
    {
        ref var ri = ref prog.Env.Redirect;
        var map = ri.Map as XskMap;
        uint key = ri.TargetIndex;
        ri.MapId = 0;
        ri.MapType = MapType.Unspec;
        XskSocket? xs = null;
        if (map is not null && map.TryGetRedirectTarget(key, out _, out var o))
        {
            xs = o as XskSocket;
        }

        int err = xs is null ? -Errno.ENXIO : xs.Rcv(cpu.Pool, devRx, prog.LastRxQueue, d);
        if (err != 0)
        {
            cpu.Trace(TracePoint.XdpRedirectErr);
            return err;
        }

        cpu.Trace(TracePoint.XdpRedirect);
        if (generic)
        {
            // kernel: xsk_generic_rcv() flushes at once
            xs!.Flush();
        }
        else if (xs!.FlushCpu < 0)
        {
            // kernel: __xsk_map_redirect(): onto this CPU's xskmap_flush_list
            var list = _flush[cpu.Id];
            if (_flushCount[cpu.Id] == list.Length)
            {
                Array.Resize(ref _flush[cpu.Id], list.Length * 2);
            }

            _flush[cpu.Id][_flushCount[cpu.Id]++] = xs;
            xs.FlushCpu = cpu.Id;
        }

        // The kernel frame is freed (xdp_return_buff / consume_skb): user space owns the copy.
        cpu.End(d, FrameEnd.Xsk);
        return 0;
    }

    /// <summary>__xsk_map_flush(): publishes the RX rings of the sockets this CPU redirected to.</summary>
    internal void Flush(NapiContext cpu)
    {
        int n = _flushCount[cpu.Id];
        if (n == 0)
        {
            return;
        }

        var list = _flush[cpu.Id];
        for (int i = 0; i < n; i++)
        {
            list[i].Flush();
            list[i].FlushCpu = -1;
            list[i] = null!;
        }

        _flushCount[cpu.Id] = 0;
    }

    /// <summary>Runs the applications of <paramref name="cpu"/>; true when any did work or has work queued.</summary>
    internal bool RunApps(NapiContext cpu)
    {
        bool busy = false;
        foreach (var (app, c) in _apps)
        {
            if (c == cpu.Id)
            {
                busy |= app.Run(cpu);
            }
        }

        return busy;
    }

    /// <summary>Disposes the UMEMs and rings.</summary>
    public void Dispose()
    {
        foreach (var u in _umems)
        {
            u.Dispose();
        }
    }
}
