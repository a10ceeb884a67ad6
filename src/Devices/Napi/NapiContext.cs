using VethXdp.Devices.Frames;
using VethXdp.Devices.Veth;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Devices.Napi;

/// <summary>One simulated CPU: its poll list (softnet_data), its per-device bulk queues and flush list
/// (bpf_net_context), veth's on-stack XDP_TX bulk queue, its backlog, and what happened to the frames it handled.</summary>
/// <remarks>Everything here runs on the worker thread that owns the CPU; CPUs that share a ring run on the same
/// worker (see <see cref="Simulator"/>), so nothing needs a lock and the counters do not depend on thread timing.
/// Nothing on the per-frame paths allocates.</remarks>
public sealed unsafe partial class NapiContext
{
    /// <summary>netdev_budget: frames one net_rx_action may process.</summary>
    public const int NetdevBudget = 300;

    /// <summary>NAPI_POLL_WEIGHT: a poll's budget.</summary>
    public const int NapiWeight = 64;

    /// <summary>-EBADRQC.</summary>
    public const int EBADRQC = 56;

    /// <summary>-ENETDOWN.</summary>
    public const int ENETDOWN = 100;

    private static readonly int[] s_errnos = [Errno.EOPNOTSUPP, Errno.ENXIO, Errno.EINVAL, Errno.EMSGSIZE, ENETDOWN, EBADRQC, Errno.ENOMEM, Errno.ENODEV];

    private readonly BulkQueue[] _bq;
    private readonly int[] _flushList;
    private readonly DevMapEntry[] _entries;
    private NapiInstance[] _list = new NapiInstance[16];
    private int _listHead;
    private int _listCount;
    private NapiInstance[] _repoll = new NapiInstance[16];
    private int _flushCount;

    internal NapiContext(SimWorld world, int id)
    {
        World = world;
        Id = id;
        Pool = world.Pool;
        var devices = world.Devices;
        _bq = new BulkQueue[devices.Count];
        for (int i = 0; i < devices.Count; i++)
        {
            _bq[i] = new BulkQueue(devices[i]);
        }

        _flushList = new int[devices.Count];
        _entries = new DevMapEntry[Math.Max(1, world.MaxDevmapEntries)];
        Backlog = new Backlog { OwnerCpu = id };
        RedirectErrors = new long[devices.Count * (devices.Count + 1) * (s_errnos.Length + 1)];
        XmitErrors = new long[devices.Count * (s_errnos.Length + 1)];
    }

    /// <summary>The CPU number (smp_processor_id()).</summary>
    public int Id { get; }

    /// <summary>The world.</summary>
    public SimWorld World { get; }

    /// <summary>The frame pool (this CPU allocates from partition <see cref="Id"/>).</summary>
    public FramePool Pool { get; }

    /// <summary>The virtual clock bpf_ktime_get_ns reads.</summary>
    public ulong ClockNs { get; internal set; }

    /// <summary>Frames that ended in each <see cref="FrameEnd"/>.</summary>
    public long[] Ends { get; } = new long[FrameEnds.Count];

    /// <summary>Tracepoint hits by <see cref="TracePoint"/>.</summary>
    public long[] TraceCounts { get; } = new long[5];

    /// <summary>Frames the source generated here.</summary>
    public long Generated { get; internal set; }

    /// <summary>Frames created by broadcast clones.</summary>
    public long Cloned { get; internal set; }

    /// <summary>ndo_xdp_xmit calls made from devmap bulk queues (bq_xmit_all with frames to send).</summary>
    public long BulkXmits { get; internal set; }

    /// <summary>skbs copied because their headroom was below XDP_PACKET_HEADROOM.</summary>
    public long HeadroomCopies { get; internal set; }

    internal Backlog Backlog { get; }

    /// <summary>veth's on-stack XDP_TX bulk queue (struct veth_xdp_tx_bq), reused by every veth poll on this CPU.</summary>
    internal XdpDesc[] TxBulk { get; } = new XdpDesc[VethDevice.TxBulkSize];

    internal int TxBulkCount;

    // [devRx, target + 1, errno slot] redirect failures and [target, errno slot] xmit failures, for the diagnosis.
    internal long[] RedirectErrors { get; }

    internal long[] XmitErrors { get; }

    internal static int ErrnoSlots => s_errnos.Length + 1;

    internal static int ErrnoOf(int slot) => slot < s_errnos.Length ? s_errnos[slot] : 0;

    /// <summary>True while NAPIs are scheduled here.</summary>
    public bool HasScheduledWork => _listCount > 0;

    /// <summary>Frees <paramref name="d"/>'s frame; it ended as <paramref name="end"/>.</summary>
    public void End(in XdpDesc d, FrameEnd end)
    {
        if (d.Skb)
        {
            FreeSkb(d, end);
        }

        Pool.Free(d.Frame);
        Ends[(int)end]++;
    }

    internal void Trace(TracePoint tp) => TraceCounts[(int)tp]++;

    internal void Capture(NetDevice dev, in XdpDesc d, bool outbound)
    {
        if (World.Capture is { } capture)
        {
            capture.Write(dev, Pool.Data(d), ClockNs, outbound);
        }
    }

    // ---- NAPI scheduling (napi_schedule / net_rx_action) ----

    /// <summary>napi_schedule(): puts <paramref name="napi"/> on its owner CPU's poll list unless it is on one.</summary>
    internal void Schedule(NapiInstance napi)
    {
        if (napi.Scheduled)
        {
            return;
        }

        napi.Scheduled = true;
        World.Cpu(napi.OwnerCpu).Append(napi);
    }

    internal void ScheduleVethRq(VethRq rq) => Schedule(rq);

    private void Append(NapiInstance napi)
    {
        if (_listCount == _list.Length)
        {
            var bigger = new NapiInstance[_list.Length * 2];
            for (int i = 0; i < _listCount; i++)
            {
                bigger[i] = _list[(_listHead + i) % _list.Length];
            }

            _list = bigger;
            _listHead = 0;
        }

        _list[(_listHead + _listCount) % _list.Length] = napi;
        _listCount++;
    }

    private NapiInstance Take()
    {
        var napi = _list[_listHead];
        _listHead = (_listHead + 1) % _list.Length;
        _listCount--;
        return napi;
    }

    /// <summary>One net_rx_action: polls the scheduled NAPIs in order, 64 frames each, until the list is empty or
    /// netdev_budget is spent; a NAPI that used its whole weight goes to the end of the list for the next round.
    /// Returns the frames processed.</summary>
    public int NetRxAction()
    {
        // kernel: net_rx_action() / napi_poll()
        int budget = NetdevBudget;
        int repoll = 0;
        int total = 0;
        while (_listCount > 0 && budget > 0)
        {
            var napi = Take();
            int work = napi.Poll(this, NapiWeight);
            if (napi.Gro.Pending)
            {
                NapiGroFlush(napi);
            }
            budget -= work;
            total += work;
            if (work == NapiWeight)
            {
                if (repoll == _repoll.Length)
                {
                    Array.Resize(ref _repoll, _repoll.Length * 2);
                }

                _repoll[repoll++] = napi;
            }
            else
            {
                // napi_complete_done(); veth_poll() reschedules when its ring filled meanwhile.
                napi.Scheduled = false;
                if (napi.HasWork)
                {
                    Schedule(napi);
                }
            }
        }

        for (int i = 0; i < repoll; i++)
        {
            Append(_repoll[i]);
            _repoll[i] = null!;
        }

        return total;
    }

    // ---- native XDP redirect (net/core/filter.c, kernel/bpf/devmap.c) ----

    /// <summary>xdp_do_redirect(): acts on the redirect info the program left; 0, or a negative errno (the caller
    /// frees the frame).</summary>
    internal int XdpDoRedirect(NetDevice devRx, in XdpDesc d, XdpProgramInstance prog)
    {
        // kernel: __xdp_do_redirect_frame()
        ref var ri = ref prog.Env.Redirect;
        int err;
        int target = -1;
        switch (ri.MapType)
        {
            case MapType.Devmap:
            case MapType.DevmapHash:
                if ((ri.Flags & XdpHelpers.BroadcastFlag) != 0)
                {
                    err = World.Profile.Broadcast && ri.Map is { } map
                        ? DevMapEnqueueMulti(d, devRx, map, (ri.Flags & XdpHelpers.ExcludeIngressFlag) != 0)
                        : -Errno.EINVAL;
                }
                else
                {
                    var dev = World.Device((int)ri.TargetValue);
                    target = dev?.Index ?? -1;
                    err = dev is null ? -Errno.ENODEV : XdpEnqueue(dev, d, devRx, World.EgressProgram(ri.Map, ri.TargetIndex, Id));
                }

                break;
            case MapType.Unspec when ri.MapId == RedirectState.IfindexMapId:
            {
                var fwd = World.Device((int)ri.TargetIndex);
                target = fwd?.Index ?? -1;
                if (fwd is null)
                {
                    err = -Errno.EINVAL;
                }
                else if (World.Profile.IfindexRedirectBulked)
                {
                    err = XdpEnqueue(fwd, d, devRx, null);
                }
                else
                {
                    err = TxXdpDirect(fwd, d);
                }

                break;
            }

            case MapType.Xskmap when World.Xsk is { } xsk: // xsk: __xdp_do_redirect_xsk()
                return xsk.Redirect(this, devRx, d, prog, generic: false);
            case MapType.Cpumap:
            case MapType.Xskmap:
                // Not simulated: CPU map kthreads and AF_XDP sockets (docs/differences.md).
                err = -Errno.EOPNOTSUPP;
                break;
            default:
                err = -EBADRQC;
                break;
        }

        ri.MapId = 0;
        ri.MapType = MapType.Unspec;
        if (err == 0)
        {
            Trace(TracePoint.XdpRedirect);
        }
        else
        {
            Trace(TracePoint.XdpRedirectErr);
            RedirectErrors[(((devRx.Index * (World.Devices.Count + 1)) + target + 1) * ErrnoSlots) + Slot(err)]++;
        }

        return err;
    }

    private int XdpEnqueue(NetDevice dev, in XdpDesc d, NetDevice devRx, XdpProgramInstance? prog)
    {
        // kernel: __xdp_enqueue()
        if (World.Profile.XdpFeatures ? !dev.AdvertisesNdoXmit : !dev.HasNdoXdpXmit)
        {
            return -Errno.EOPNOTSUPP;
        }

        int err = OkFwdDev(dev, d.Length);
        if (err != 0)
        {
            return err;
        }

        BqEnqueue(dev, d, devRx, prog);
        return 0;
    }

    private static int OkFwdDev(NetDevice dev, int length)
    {
        // kernel: xdp_ok_fwd_dev()
        if (!dev.Up)
        {
            return -ENETDOWN;
        }

        return (uint)length > dev.MaxForwardLength ? -Errno.EMSGSIZE : 0;
    }

    // 4.19: bpf_redirect(ifindex) transmits the one frame at once with XDP_XMIT_FLUSH (__bpf_tx_xdp()).
    private int TxXdpDirect(NetDevice dev, in XdpDesc d)
    {
        if (!dev.HasNdoXdpXmit)
        {
            return -Errno.EOPNOTSUPP;
        }

        int err = OkFwdDev(dev, d.Length);
        if (err != 0)
        {
            return err;
        }

        TxBulk[VethDevice.TxBulkSize - 1] = d;
        int sent = dev.XdpXmit(this, TxBulk.AsSpan(VethDevice.TxBulkSize - 1, 1), flush: true, ndoXmit: true, FrameEnd.XdpXmitErr);
        return sent < 0 ? sent : 0;
    }

    private void BqEnqueue(NetDevice dev, in XdpDesc d, NetDevice devRx, XdpProgramInstance? prog)
    {
        // kernel: bq_enqueue()
        var bq = _bq[dev.Index];
        if (bq.Count == BulkQueue.BulkSize)
        {
            BqXmitAll(bq, flush: false);
        }

        if (bq.DevRx is null)
        {
            bq.DevRx = devRx;
            bq.Prog = prog;
            _flushList[_flushCount++] = dev.Index;
        }

        bq.Q[bq.Count++] = d;
    }

    private void BqXmitAll(BulkQueue bq, bool flush)
    {
        // kernel: bq_xmit_all()
        int cnt = bq.Count;
        if (cnt == 0)
        {
            return;
        }

        var frames = bq.Q.AsSpan(0, cnt);
        int toSend = cnt;
        if (bq.Prog is { } prog)
        {
            toSend = DevMapProgRun(prog, frames, bq.Dev, bq.DevRx!);
        }

        int sent = 0;
        if (toSend > 0)
        {
            BulkXmits++;
            sent = bq.Dev.XdpXmit(this, frames[..toSend], flush, ndoXmit: true, FrameEnd.XdpXmitErr);
            if (sent < 0)
            {
                XmitErrors[(bq.Dev.Index * ErrnoSlots) + Slot(sent)] += toSend;
                foreach (ref readonly var f in frames[..toSend])
                {
                    End(f, FrameEnd.XdpXmitErr);
                }

                sent = 0;
            }
            else if (sent < toSend)
            {
                XmitErrors[(bq.Dev.Index * ErrnoSlots) + ErrnoSlots - 1] += toSend - sent;
            }
        }

        if (sent < cnt)
        {
            Trace(TracePoint.XdpDevmapXmitErr);
        }

        bq.Count = 0;
    }

    private int DevMapProgRun(XdpProgramInstance prog, Span<XdpDesc> frames, NetDevice dev, NetDevice devRx)
    {
        // kernel: dev_map_bpf_prog_run(): the entry's program on each frame, egress_ifindex = the target.
        int kept = 0;
        for (int i = 0; i < frames.Length; i++)
        {
            var f = frames[i];
            uint act = prog.Run(Pool, ref f, (uint)devRx.Ifindex, 0, (uint)dev.Ifindex, ClockNs);
            switch ((XdpAction)act)
            {
                case XdpAction.Pass:
                    frames[kept++] = f;
                    break;
                case XdpAction.Drop:
                    End(f, FrameEnd.XdpDrop);
                    break;
                default:
                    Trace(TracePoint.XdpException);
                    End(f, FrameEnd.XdpAborted);
                    break;
            }
        }

        return kept;
    }

    /// <summary>xdp_do_flush(): transmits every bulk queue on the flush list with XDP_XMIT_FLUSH.</summary>
    internal void XdpDoFlush()
    {
        // kernel: __dev_flush()
        for (int i = 0; i < _flushCount; i++)
        {
            var bq = _bq[_flushList[i]];
            BqXmitAll(bq, flush: true);
            bq.DevRx = null;
            bq.Prog = null;
        }

        _flushCount = 0;
        World.Xsk?.Flush(this); // xsk: __xsk_map_flush()
    }

    private int DevMapEnqueueMulti(in XdpDesc d, NetDevice devRx, BpfMap map, bool excludeIngress)
    {
        // kernel: dev_map_enqueue_multi(): n-1 clones and the original to the last valid target.
        int n = CopyEntries(map);
        NetDevice? last = null;
        XdpProgramInstance? lastProg = null;
        for (int i = 0; i < n; i++)
        {
            var dev = World.Device((int)_entries[i].Ifindex);
            if (dev is null || (excludeIngress && dev.Ifindex == devRx.Ifindex) || !IsValidDst(dev, d))
            {
                continue;
            }

            if (last is null)
            {
                last = dev;
                lastProg = World.EgressProgram(map, _entries[i].Key, Id);
                continue;
            }

            if (!TryClone(d, out var clone))
            {
                return -Errno.ENOMEM;
            }

            BqEnqueue(last, clone, devRx, lastProg);
            last = dev;
            lastProg = World.EgressProgram(map, _entries[i].Key, Id);
        }

        if (last is not null)
        {
            BqEnqueue(last, d, devRx, lastProg);
        }
        else
        {
            End(d, FrameEnd.BroadcastNoTarget);
        }

        return 0;
    }

    private bool IsValidDst(NetDevice dev, in XdpDesc d)
    {
        // kernel: is_valid_dst()
        if (World.Profile.XdpFeatures ? !dev.AdvertisesNdoXmit : !dev.HasNdoXdpXmit)
        {
            return false;
        }

        return OkFwdDev(dev, d.Length) == 0;
    }

    private int CopyEntries(BpfMap map) => map switch
    {
        DevMap dm => dm.CopyEntries(_entries),
        DevMapHash dh => dh.CopyEntries(_entries),
        _ => 0,
    };

    private bool TryClone(in XdpDesc d, out XdpDesc clone)
    {
        // kernel: xdpf_clone(): a new page, the frame copied at the same headroom.
        int f = Pool.Alloc(Id);
        if (f < 0)
        {
            clone = default;
            return false;
        }

        Buffer.MemoryCopy(Pool.FrameStart(d.Frame) + d.Headroom, Pool.FrameStart(f) + d.Headroom, FramePool.FrameSize - d.Headroom, d.Length);
        clone = d with { Frame = f };
        if (d.Skb)
        {
            MoveSkbHead(d.Frame, f, 0, keepSource: true);
        }

        Cloned++;
        return true;
    }

    /// <summary>Moves <paramref name="d"/> to a fresh frame at XDP_PACKET_HEADROOM (pskb_expand_head); false when no
    /// frame is free.</summary>
    internal bool CopyToFreshFrame(ref XdpDesc d)
    {
        int f = Pool.Alloc(Id);
        if (f < 0)
        {
            return false;
        }

        Buffer.MemoryCopy(Pool.FrameStart(d.Frame) + d.Headroom, Pool.FrameStart(f) + FramePool.Headroom, FramePool.FrameSize - FramePool.Headroom, d.Length);
        if (d.Skb)
        {
            MoveSkbHead(d.Frame, f, FramePool.Headroom - d.Headroom, keepSource: false);
        }

        Pool.Free(d.Frame);
        d = d with { Frame = f, Headroom = FramePool.Headroom };
        HeadroomCopies++;
        return true;
    }

    // ---- the skb side: generic XDP, the stack, netif_rx ----

    // __netif_receive_skb_core() from do_xdp_generic() on: generic XDP when attached (and runGeneric), then the
    // rx_handler or the packet type.
    private void ReceiveSkb(NetDevice dev, XdpDesc skb, bool runGeneric)
    {
        var generic = runGeneric ? dev.Generic : null;
        if (generic is null)
        {
            DeliverUp(dev, skb);
            return;
        }

        ref var head = ref Skbs[skb.Frame];
        ushort origProto = head.Protocol;
        byte origPktType = head.PktType;

        // kernel: do_xdp_generic() -> netif_receive_generic_xdp(): 256 bytes of headroom, copying when short.
        if (skb.Headroom < FramePool.Headroom && !CopyToFreshFrame(ref skb))
        {
            End(skb, FrameEnd.XdpDrop);
            return;
        }

        var prog = generic.PerCpu[Id];
        uint act = prog.Run(Pool, ref skb, (uint)dev.Ifindex, 0, 0, ClockNs);
        switch ((XdpAction)act)
        {
            case XdpAction.Pass:
                SkbAfterXdp(dev, ref skb, onlyIfChanged: true, origProto, origPktType);
                DeliverUp(dev, skb);
                break;
            case XdpAction.Tx:
                GenericXdpTx(dev, skb);
                break;
            case XdpAction.Redirect:
                int err = XdpDoGenericRedirect(dev, skb, prog);
                if (err != 0)
                {
                    End(skb, FrameEnd.XdpRedirectErr);
                }

                break;
            case XdpAction.Drop:
                End(skb, FrameEnd.XdpDrop);
                break;
            default:
                Trace(TracePoint.XdpException);
                End(skb, FrameEnd.XdpAborted);
                break;
        }
    }

    // kernel: __netif_receive_skb_core() after generic XDP: a bridge port's rx_handler (br_handle_frame) takes the skb,
    // else it is delivered to the stack.
    private void DeliverUp(NetDevice dev, in XdpDesc skb)
    {
        if (dev.Master is { } bridge)
        {
            bridge.Receive(this, dev, skb);
            return;
        }

        DeliverPtype(dev, skb);
    }

    /// <summary>skb_clone() / xdpf_clone(): a copy of <paramref name="d"/> in a fresh frame of this CPU, counted as
    /// cloned; false when no frame is free.</summary>
    internal bool TryCloneFrame(in XdpDesc d, out XdpDesc clone) => TryClone(d, out clone);

    private void GenericXdpTx(NetDevice dev, in XdpDesc skb)
    {
        // kernel: generic_xdp_tx(): the device's ndo_start_xmit.
        if (!dev.StartXmit(this, skb))
        {
            Trace(TracePoint.XdpException);
            dev.Count(Id, NetDevice.StatDropped, 1);
            End(skb, FrameEnd.XdpTxErr);
        }
    }

    private int XdpDoGenericRedirect(NetDevice dev, in XdpDesc skb, XdpProgramInstance prog)
    {
        // kernel: xdp_do_generic_redirect(): no bulking; the skb goes out at once.
        ref var ri = ref prog.Env.Redirect;
        int err;
        int target = -1;
        switch (ri.MapType)
        {
            case MapType.Devmap:
            case MapType.DevmapHash:
                if ((ri.Flags & XdpHelpers.BroadcastFlag) != 0)
                {
                    err = World.Profile.Broadcast && ri.Map is { } map
                        ? GenericRedirectMulti(dev, skb, map, (ri.Flags & XdpHelpers.ExcludeIngressFlag) != 0)
                        : -Errno.EINVAL;
                }
                else
                {
                    var fwd = World.Device((int)ri.TargetValue);
                    target = fwd?.Index ?? -1;
                    err = fwd is null ? -Errno.ENODEV : GenericRedirectTo(fwd, dev, skb, World.EgressProgram(ri.Map, ri.TargetIndex, Id));
                }

                break;
            case MapType.Unspec when ri.MapId == RedirectState.IfindexMapId:
            {
                var fwd = World.Device((int)ri.TargetIndex);
                target = fwd?.Index ?? -1;
                err = fwd is null ? -Errno.EINVAL : GenericRedirectTo(fwd, dev, skb, null);
                break;
            }

            case MapType.Xskmap when World.Xsk is { } xsk: // xsk: xsk_generic_rcv()
                return xsk.Redirect(this, dev, skb, prog, generic: true);
            case MapType.Cpumap:
            case MapType.Xskmap:
                err = -Errno.EOPNOTSUPP;
                break;
            default:
                err = -EBADRQC;
                break;
        }

        ri.MapId = 0;
        ri.MapType = MapType.Unspec;
        if (err == 0)
        {
            Trace(TracePoint.XdpRedirect);
        }
        else
        {
            Trace(TracePoint.XdpRedirectErr);
            RedirectErrors[(((dev.Index * (World.Devices.Count + 1)) + target + 1) * ErrnoSlots) + Slot(err)]++;
        }

        return err;
    }

    private int GenericRedirectTo(NetDevice fwd, NetDevice devRx, XdpDesc skb, XdpProgramInstance? egress)
    {
        // kernel: dev_map_generic_redirect()
        int err = OkFwdDev(fwd, skb.Length);
        if (err != 0)
        {
            return err;
        }

        if (egress is not null)
        {
            uint act = egress.Run(Pool, ref skb, (uint)devRx.Ifindex, 0, (uint)fwd.Ifindex, ClockNs);
            if ((XdpAction)act != XdpAction.Pass)
            {
                if ((XdpAction)act != XdpAction.Drop)
                {
                    Trace(TracePoint.XdpException);
                }

                End(skb, (XdpAction)act == XdpAction.Drop ? FrameEnd.XdpDrop : FrameEnd.XdpAborted);
                return 0;
            }
        }

        GenericXdpTx(fwd, skb with { Ifindex = fwd.Ifindex });
        return 0;
    }

    private int GenericRedirectMulti(NetDevice devRx, in XdpDesc skb, BpfMap map, bool excludeIngress)
    {
        // kernel: dev_map_redirect_multi()
        int n = CopyEntries(map);
        NetDevice? last = null;
        XdpProgramInstance? lastProg = null;
        for (int i = 0; i < n; i++)
        {
            var dev = World.Device((int)_entries[i].Ifindex);
            if (dev is null || (excludeIngress && dev.Ifindex == devRx.Ifindex))
            {
                continue;
            }

            if (last is null)
            {
                last = dev;
                lastProg = World.EgressProgram(map, _entries[i].Key, Id);
                continue;
            }

            if (!TryClone(skb, out var clone))
            {
                return -Errno.ENOMEM;
            }

            if (GenericRedirectTo(last, devRx, clone, lastProg) != 0)
            {
                End(clone, FrameEnd.XdpRedirectErr);
            }

            last = dev;
            lastProg = World.EgressProgram(map, _entries[i].Key, Id);
        }

        if (last is null)
        {
            End(skb, FrameEnd.BroadcastNoTarget);
            return 0;
        }

        return GenericRedirectTo(last, devRx, skb, lastProg);
    }

    /// <summary>netif_rx(): onto this CPU's backlog; false (and the skb dropped) when it is over netdev_max_backlog.</summary>
    internal bool NetifRx(in XdpDesc skb)
    {
        if (Backlog.Ring.Count >= Backlog.MaxBacklog || !Backlog.Ring.TryEnqueue(skb))
        {
            End(skb, FrameEnd.BacklogDrop);
            return false;
        }

        Schedule(Backlog);
        return true;
    }

    private static int Slot(int err)
    {
        int e = -err;
        for (int i = 0; i < s_errnos.Length; i++)
        {
            if (s_errnos[i] == e)
            {
                return i;
            }
        }

        return s_errnos.Length;
    }
}
