using VethXdp.Devices.Frames;
using VethXdp.Devices.Napi;
using VethXdp.Devices.Rings;
using VethXdp.Vm.Runtime;

namespace VethXdp.Devices.Veth;

/// <summary>One veth receive queue (struct veth_rq): the ptr_ring the peer produces into, its NAPI (veth_poll) and its
/// counters (struct veth_stats).</summary>
public sealed class VethRq : NapiInstance
{
    /// <summary>The ptr_ring (VETH_RING_SIZE entries). A field: use through ref.</summary>
    internal DescRing Ring = new(VethDevice.RingSize);

    internal ulong XdpPackets, XdpBytes, RxDrops, XdpRedirect, XdpDrops, XdpTx, XdpTxErr, PeerTqXdpXmit, PeerTqXdpXmitErr;

    internal VethRq(VethDevice dev, int index)
    {
        Dev = dev;
        Index = index;
    }

    /// <summary>The device.</summary>
    public VethDevice Dev { get; }

    /// <summary>The queue index.</summary>
    public int Index { get; }

    internal override bool HasWork => !Ring.IsEmpty;

    internal override int Poll(NapiContext cpu, int budget)
    {
        // kernel: veth_poll() -> veth_xdp_rcv() -> veth_xdp_rcv_one() / veth_xdp_rcv_skb()
        var prog = Dev.Native?.PerCpu[cpu.Id];
        bool generic = Dev.Generic is not null;
        bool bulk = Dev.Profile.VethTxBulk;
        int done = 0;
        int tx = 0;
        int redirects = 0;
        cpu.TxBulkCount = 0;
        while (done < budget && Ring.TryDequeue(out var d))
        {
            done++;
            XdpBytes += d.Length;
            if (prog is null)
            {
                // No program: an skb as it came (veth_xdp_rcv_skb), or one built around the xdp_frame
                // (veth_xdp_rcv_one -> xdp_build_skb_from_frame), through GRO into the stack.
                cpu.NapiGroReceive(this, Dev, d with { Ifindex = Dev.Ifindex }, Index, generic);
                continue;
            }

            if (d.Skb && d.Headroom < FramePool.Headroom && !cpu.CopyToFreshFrame(ref d))
            {
                RxDrops++;
                cpu.End(d, FrameEnd.XdpDrop);
                continue;
            }

            uint act = prog.Run(cpu.Pool, ref d, (uint)Dev.Ifindex, (uint)Index, 0, cpu.ClockNs);
            switch ((XdpAction)act)
            {
                case XdpAction.Pass:
                    cpu.VethXdpPass(this, Dev, d with { Ifindex = Dev.Ifindex }, Index);
                    break;
                case XdpAction.Tx:
                    tx++;
                    if (bulk)
                    {
                        // veth_xdp_tx(): into the on-stack bulk queue, flushed when full and at the end of the poll.
                        if (cpu.TxBulkCount == VethDevice.TxBulkSize)
                        {
                            FlushTxBulk(cpu);
                        }

                        cpu.TxBulk[cpu.TxBulkCount++] = d;
                    }
                    else
                    {
                        // 4.19: veth_xdp_tx() -> veth_xdp_xmit(dev, 1, ...): the producer lock per frame.
                        cpu.TxBulk[0] = d;
                        int sent = Dev.XdpXmit(cpu, cpu.TxBulk.AsSpan(0, 1), flush: false, ndoXmit: false, FrameEnd.XdpXmitErr);
                        if (sent < 0)
                        {
                            cpu.Trace(TracePoint.XdpException);
                            RxDrops++;
                            cpu.End(d, FrameEnd.XdpTxErr);
                        }
                        else
                        {
                            XdpTx += (ulong)sent;
                        }
                    }

                    break;
                case XdpAction.Redirect:
                    if (cpu.XdpDoRedirect(Dev, d, prog) == 0)
                    {
                        redirects++;
                        XdpRedirect++;
                    }
                    else
                    {
                        RxDrops++;
                        cpu.End(d, FrameEnd.XdpRedirectErr);
                    }

                    break;
                case XdpAction.Drop:
                    XdpDrops++;
                    cpu.End(d, FrameEnd.XdpDrop);
                    break;
                default:
                    cpu.Trace(TracePoint.XdpException);
                    XdpDrops++;
                    cpu.End(d, FrameEnd.XdpAborted);
                    break;
            }
        }

        XdpPackets += (ulong)done;
        if (tx > 0)
        {
            // veth_xdp_flush(): the rest of the bulk, then kick the peer's NAPI if the peer has an XDP program.
            if (bulk)
            {
                FlushTxBulk(cpu);
            }

            if (Dev.Peer is { } peer)
            {
                var peerRq = peer.Rq[cpu.Id % peer.Rq.Length];
                if (peer.Native is not null)
                {
                    cpu.ScheduleVethRq(peerRq);
                }
            }
        }

        if (redirects > 0)
        {
            cpu.XdpDoFlush();
        }

        return done;
    }

    private void FlushTxBulk(NapiContext cpu)
    {
        // kernel: veth_xdp_flush_bq()
        int count = cpu.TxBulkCount;
        if (count == 0)
        {
            return;
        }

        var frames = cpu.TxBulk.AsSpan(0, count);
        int sent = Dev.XdpXmit(cpu, frames, flush: false, ndoXmit: false, FrameEnd.XdpTxErr);
        if (sent < 0)
        {
            sent = 0;
            foreach (ref readonly var f in frames)
            {
                cpu.End(f, FrameEnd.XdpTxErr);
            }
        }

        if (sent < count)
        {
            cpu.Trace(TracePoint.XdpBulkTxErr);
        }

        XdpTx += (ulong)sent;
        XdpTxErr += (ulong)(count - sent);
        cpu.TxBulkCount = 0;
    }
}
