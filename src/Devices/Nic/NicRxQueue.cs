using VethXdp.Devices.Frames;
using VethXdp.Devices.Napi;
using VethXdp.Devices.Rings;
using VethXdp.Vm.Runtime;

namespace VethXdp.Devices.Nic;

/// <summary>One NIC receive queue: its descriptor ring and its NAPI poll (the driver's clean_rx_irq with XDP).</summary>
public sealed class NicRxQueue : NapiInstance
{
    /// <summary>The descriptor ring the hardware fills. A field: use through ref.</summary>
    internal DescRing Ring;

    /// <summary>The XDP_TX ring of this queue (drained at the end of every poll: the doorbell). A field.</summary>
    internal DescRing TxRing;

    internal ulong RxPackets, RxBytes, XdpPackets, XdpDrops, XdpTx, XdpTxErr, XdpRedirect, XdpAborted, RxMissed;

    internal NicRxQueue(PhysicalNic nic, int index, int ringSize)
    {
        Nic = nic;
        Index = index;
        Ring = new DescRing(ringSize);
        TxRing = new DescRing(ringSize);
    }

    /// <summary>The NIC.</summary>
    public PhysicalNic Nic { get; }

    /// <summary>The queue index (xdp_md.rx_queue_index).</summary>
    public int Index { get; }

    internal override bool HasWork => !Ring.IsEmpty;

    /// <summary>The hardware writes a received frame into the ring (DMA done by the caller); false when full.</summary>
    internal bool Receive(in XdpDesc d) => Ring.TryEnqueue(d);

    internal override int Poll(NapiContext cpu, int budget)
    {
        // kernel: i40e_clean_rx_irq() / mlx5e_poll_rx_cq() with i40e_run_xdp(): one program run per frame, then
        // xdp_do_flush() once when anything was redirected, and the XDP ring's tail bump.
        int done = 0;
        bool redirected = false;
        var native = Nic.Native?.PerCpu[cpu.Id];
        var generic = Nic.Generic;
        while (done < budget && Ring.TryDequeue(out var d))
        {
            done++;
            RxPackets++;
            RxBytes += d.Length;
            cpu.Capture(Nic, d, outbound: false);
            if (native is null)
            {
                // No driver program: an skb goes up (generic XDP, if attached, runs there).
                cpu.NapiGroReceive(this, Nic, d with { Ifindex = Nic.Ifindex }, Index, generic is not null);
                continue;
            }

            XdpPackets++;
            uint act = native.Run(cpu.Pool, ref d, (uint)Nic.Ifindex, (uint)Index, 0, cpu.ClockNs);
            switch ((XdpAction)act)
            {
                case XdpAction.Pass:
                    cpu.NapiGroReceive(this, Nic, d with { Ifindex = Nic.Ifindex }, Index, runGeneric: false);
                    break;
                case XdpAction.Tx:
                    if (TxRing.TryEnqueue(d))
                    {
                        XdpTx++;
                    }
                    else
                    {
                        XdpTxErr++;
                        cpu.Trace(TracePoint.XdpException);
                        cpu.End(d, FrameEnd.XdpTxErr);
                    }

                    break;
                case XdpAction.Redirect:
                    if (cpu.XdpDoRedirect(Nic, d, native) == 0)
                    {
                        XdpRedirect++;
                        redirected = true;
                    }
                    else
                    {
                        // i40e: xdp_do_redirect failed: the frame is consumed (recycled); only the tracepoint sees it.
                        cpu.End(d, FrameEnd.XdpRedirectErr);
                    }

                    break;
                case XdpAction.Drop:
                    XdpDrops++;
                    cpu.End(d, FrameEnd.XdpDrop);
                    break;
                default:
                    XdpAborted++;
                    cpu.Trace(TracePoint.XdpException);
                    cpu.End(d, FrameEnd.XdpAborted);
                    break;
            }
        }

        if (redirected)
        {
            cpu.XdpDoFlush();
        }

        while (TxRing.TryDequeue(out var t))
        {
            Nic.Wire(cpu, t);
        }

        return done;
    }
}
