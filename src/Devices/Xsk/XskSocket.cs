using VethXdp.Devices.Frames;
using VethXdp.Devices.Napi;
using VethXdp.Devices.Veth;
using VethXdp.Vm.Maps;

namespace VethXdp.Devices.Xsk;

/// <summary>An AF_XDP socket (struct xdp_sock, net/xdp/xsk.c) in copy mode: its RX ring (the kernel produces frames
/// it copied into chunks from the UMEM's fill ring), its TX ring (the kernel turns descriptors into skbs for the
/// device and returns the chunks on the completion ring), bound to one device queue.</summary>
public sealed unsafe class XskSocket
{
    /// <summary>NET_SKB_PAD: the headroom of the skb xsk_build_skb() allocates.</summary>
    public const int NetSkbPad = 64;

    private readonly XskHub _hub;
    private readonly XskQueue? _rxQ;
    private readonly XskQueue? _txQ;
    private bool _zeroCopy;
    private ushort _flags;

    internal XskSocket(XskHub hub, int fd, XskUmem umem, XskSocketConfig config)
    {
        _hub = hub;
        Fd = fd;
        Umem = umem;
        Name = config.Name;
        if (config.RxSize != 0)
        {
            var m = new XskRingMemory(config.RxSize, 16);
            Rx = new XskConsRing(m);
            _rxQ = new XskQueue(m);
        }

        if (config.TxSize != 0)
        {
            var m = new XskRingMemory(config.TxSize, 16);
            Tx = new XskProdRing(m);
            _txQ = new XskQueue(m);

            // kernel: xsk_setsockopt(XDP_TX_RING): "Tx needs to be explicitly woken up the first time"
            m.Flags |= XskConstants.RingNeedWakeup;
        }
    }

    /// <summary>The socket's file descriptor (what user space writes into an XSKMAP).</summary>
    public int Fd { get; }

    /// <summary>A name for reports.</summary>
    public string? Name { get; private set; }

    /// <summary>The UMEM.</summary>
    public XskUmem Umem { get; }

    /// <summary>The RX ring (user side), or null.</summary>
    public XskConsRing? Rx { get; }

    /// <summary>The TX ring (user side), or null.</summary>
    public XskProdRing? Tx { get; }

    /// <summary>XSK_READY / XSK_BOUND / XSK_UNBOUND.</summary>
    public XskState State { get; private set; }

    /// <summary>The bound device, or null.</summary>
    public NetDevice? Device { get; private set; }

    /// <summary>The bound queue.</summary>
    public uint QueueId { get; private set; }

    /// <summary>Always false: every simulated device is copy mode (see <see cref="Bind"/>).</summary>
    public bool ZeroCopy => _zeroCopy;

    /// <summary>xs->rx_dropped.</summary>
    public ulong RxDropped { get; private set; }

    /// <summary>xs->rx_queue_full.</summary>
    public ulong RxQueueFull { get; private set; }

    /// <summary>Frames put on the RX ring.</summary>
    public ulong RxFrames { get; private set; }

    /// <summary>Frames sent from the TX ring (skbs handed to the device).</summary>
    public ulong TxFrames { get; private set; }

    /// <summary>Redirects refused by xsk_rcv_check() with -EINVAL: the frame came from another device or queue.</summary>
    public ulong RxWrongQueue { get; private set; }

    /// <summary>Redirects refused by xsk_rcv_check() with -ENXIO: the socket is not bound.</summary>
    public ulong RxNotBound { get; private set; }

    /// <summary>Frames dropped because no fill chunk was available (part of rx_dropped).</summary>
    public ulong RxNoChunk { get; private set; }

    internal int FlushCpu = -1;

    /// <summary>getsockopt(XDP_STATISTICS).</summary>
    public XskStatistics Statistics => new(
        RxDropped, _rxQ?.InvalidDescs ?? 0, _txQ?.InvalidDescs ?? 0, RxQueueFull,
        State == XskState.Ready ? 0 : Umem.FillQueue.QueueEmptyDescs, _txQ?.QueueEmptyDescs ?? 0);

    /// <summary>bind(): to queue <paramref name="queue"/> of <paramref name="dev"/>. 0 or a negative errno; the reason
    /// of a failure is in <see cref="LastError"/>.</summary>
    public int Bind(NetDevice dev, uint queue, ushort flags)
    {
        ArgumentNullException.ThrowIfNull(dev);
        // kernel: xsk_bind()
        if ((flags & ~(XskConstants.SharedUmem | XskConstants.Copy | XskConstants.ZeroCopy | XskConstants.UseNeedWakeup)) != 0)
        {
            return Fail(-Errno.EINVAL, "unknown sxdp_flags");
        }

        if (State != XskState.Ready)
        {
            return Fail(-Errno.EBUSY, "the socket is already bound");
        }

        if (Rx is null && Tx is null)
        {
            return Fail(-Errno.EINVAL, "neither an RX nor a TX ring");
        }

        if ((flags & XskConstants.SharedUmem) != 0 || Umem.Owner is not null)
        {
            return Fail(-Errno.EINVAL, "XDP_SHARED_UMEM is not simulated: give every socket its own UMEM");
        }

        // kernel: xp_assign_dev()
        if ((flags & XskConstants.ZeroCopy) != 0 && (flags & XskConstants.Copy) != 0)
        {
            return Fail(-Errno.EINVAL, "XDP_ZEROCOPY and XDP_COPY together");
        }

        if (_hub.PoolAt(dev, queue) is not null)
        {
            return Fail(-Errno.EBUSY, $"{dev.Name} queue {queue} already has an AF_XDP socket (xsk_get_pool_from_qid)");
        }

        if (queue >= (uint)Math.Max(dev.RxQueueCount, dev.TxQueueCount))
        {
            return Fail(-Errno.EINVAL, $"{dev.Name} has no queue {queue} (xsk_reg_pool_at_qid)");
        }

        if ((flags & XskConstants.ZeroCopy) != 0)
        {
            // veth's xdp_features are BASIC | REDIRECT | NDO_XMIT | RX_SG: no NETDEV_XDP_ACT_XSK_ZEROCOPY.
            string why = dev is VethDevice
                ? $"{dev.Name}: veth does not support zero-copy AF_XDP: its xdp_features lack NETDEV_XDP_ACT_XSK_ZEROCOPY (xp_assign_dev: -EOPNOTSUPP); bind with XDP_COPY or no mode flag"
                : $"{dev.Name}: zero-copy AF_XDP is not simulated (xp_assign_dev: -EOPNOTSUPP); bind with XDP_COPY";
            return Fail(-Errno.EOPNOTSUPP, why);
        }

        _flags = flags;
        _zeroCopy = false; // copy mode: no simulated driver offers NETDEV_XDP_ACT_XSK_ZEROCOPY
        Device = dev;
        QueueId = queue;
        Umem.Owner = this;
        Name ??= dev.Name + ":" + queue.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _hub.Register(this);
        State = XskState.Bound;
        return 0;
    }

    /// <summary>Why the last call failed.</summary>
    public string? LastError { get; private set; }

    /// <summary>XDP_USE_NEED_WAKEUP was given at bind.</summary>
    public bool UsesNeedWakeup => (_flags & XskConstants.UseNeedWakeup) != 0;

    /// <summary>close(): unbinds and removes the socket from every XSKMAP slot that holds it.</summary>
    public void Close()
    {
        // kernel: xsk_release() -> xsk_delete_from_maps(), xsk_unbind_dev()
        _hub.Unregister(this);
        if (State == XskState.Bound)
        {
            State = XskState.Unbound;
        }

        Umem.Owner = null;
    }

    private int Fail(int errno, string why)
    {
        LastError = why;
        return errno;
    }

    /// <summary>xsk_rcv() in copy mode: checks, copies the frame into a chunk from the fill ring and reserves an RX
    /// descriptor. 0 or a negative errno (the caller drops the frame).</summary>
    internal int Rcv(FramePool pool, NetDevice dev, uint queue, in XdpDesc d)
    {
        // kernel: xsk_rcv_check()
        if (State != XskState.Bound)
        {
            RxNotBound++;
            return -Errno.ENXIO;
        }

        if (!ReferenceEquals(Device, dev) || QueueId != queue)
        {
            RxWrongQueue++;
            return -Errno.EINVAL;
        }

        if (_rxQ is null)
        {
            // No RX ring: xskq_prod_is_full(NULL) treats it as full.
            RxQueueFull++;
            return -Errno.ENOSPC;
        }

        // kernel: __xsk_rcv()
        uint len = d.Length;
        if (len > Umem.RxFrameSize)
        {
            RxDropped++;
            return -Errno.ENOSPC;
        }

        if (!Umem.TryAlloc(out ulong chunk))
        {
            RxDropped++;
            RxNoChunk++;
            return -Errno.ENOMEM;
        }

        ulong handle = chunk + Umem.Headroom + XskConstants.PacketHeadroom;
        Buffer.MemoryCopy(pool.FrameStart(d.Frame) + d.Headroom, Umem.Area + handle, Umem.ChunkSize - (handle - chunk), len);
        int err = _rxQ.ProdReserveDesc(handle, len);
        if (err != 0)
        {
            // kernel: __xsk_rcv_zc(): rx_queue_full++, and xsk_buff_free() puts the chunk on the free list
            RxQueueFull++;
            Umem.Free(chunk);
            return err;
        }

        RxFrames++;
        return 0;
    }

    /// <summary>xsk_flush(): publishes the RX producer and the fill ring's consumer.</summary>
    internal void Flush()
    {
        _rxQ?.ProdSubmit();
        Umem.FillQueue.ConsPublish();
    }

    /// <summary>sendto(fd, NULL, 0, MSG_DONTWAIT) in copy mode (xsk_sendmsg -> xsk_generic_xmit): up to
    /// TX_BATCH_SIZE descriptors from the TX ring become skbs for the device's queue; each chunk goes back on the
    /// completion ring when the device has taken the skb. 0, -EAGAIN (more left), -ENXIO, -ENETDOWN, -ENOBUFS, -EBUSY.</summary>
    public int SendTo(NapiContext cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        // kernel: __xsk_sendmsg() -> xsk_xmit() -> xsk_generic_xmit()
        if (State != XskState.Bound)
        {
            return -Errno.ENXIO;
        }

        var dev = Device!;
        if (!dev.Up)
        {
            return -NapiContext.ENETDOWN;
        }

        if (_txQ is null)
        {
            return -XskConstants.ENOBUFS;
        }

        if (QueueId >= (uint)dev.TxQueueCount)
        {
            return 0;
        }

        int budget = XskConstants.TxBatchSize;
        var cq = Umem.CompletionQueue;
        var pool = cpu.Pool;
        while (_txQ.ConsPeekDesc(Umem, out var desc))
        {
            if (budget-- == 0)
            {
                return -Errno.EAGAIN;
            }

            // The completion slot is reserved first: backpressure instead of buffering.
            if (cq.ProdReserve() != 0)
            {
                return 0;
            }

            int frame = pool.Alloc(cpu.Id);
            if (frame < 0)
            {
                cq.ProdCancel();
                return -XskConstants.ENOBUFS;
            }

            // kernel: xsk_build_skb(): copy the descriptor's bytes into a fresh skb (NET_SKB_PAD of headroom)
            Buffer.MemoryCopy(Umem.Area + desc.Addr, pool.FrameStart(frame) + NetSkbPad, FramePool.FrameSize - NetSkbPad, desc.Len);
            var skb = cpu.XskBuildSkb(dev, frame, NetSkbPad, (int)desc.Len, (int)QueueId);
            _txQ.ConsRelease();
            TxFrames++;
            _hub.CountTransmitted(cpu.Id);

            // __dev_direct_xmit() -> ndo_start_xmit; veth_forward_skb() orphans the skb at once, so the destructor
            // (xsk_destruct_skb) puts the address on the completion ring now.
            bool taken = dev.StartXmit(cpu, skb);
            cq.ProdSubmitAddr(desc.Addr);
            if (!taken)
            {
                cpu.End(skb, FrameEnd.TxDropped);
                return -Errno.EBUSY;
            }
        }

        _txQ.QueueEmptyDescs++;
        return 0;
    }

    /// <summary>poll(): in copy mode it drives TX as sendto() does, then reports readable (RX ring not empty).</summary>
    public bool Poll(NapiContext cpu)
    {
        if (State != XskState.Bound)
        {
            return false;
        }

        if (Tx is not null)
        {
            SendTo(cpu);
        }

        return Rx is not null && Rx.Pending > 0;
    }
}
