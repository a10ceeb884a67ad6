using VethXdp.Devices.Frames;
using VethXdp.Devices.Rings;

namespace VethXdp.Devices.Napi;

/// <summary>A CPU's backlog (softnet_data.input_pkt_queue and its process_backlog NAPI): skbs netif_rx queued,
/// delivered to netif_receive_skb of their device, 64 per poll (dev_rx_weight).</summary>
internal sealed class Backlog : NapiInstance
{
    /// <summary>net.core.netdev_max_backlog.</summary>
    public const int MaxBacklog = 1000;

    public DescRing Ring = new(1024);

    internal override bool HasWork => !Ring.IsEmpty;

    internal override int Poll(NapiContext cpu, int budget)
    {
        // kernel: process_backlog(): each skb of input_pkt_queue to __netif_receive_skb(), 64 (dev_rx_weight) a poll
        int done = 0;
        while (done < budget && Ring.TryDequeue(out var skb))
        {
            done++;
            var dev = cpu.World.Device(skb.Ifindex);
            if (dev is null)
            {
                cpu.End(skb, FrameEnd.Stack);
                continue;
            }

            cpu.NetifReceiveSkb(dev, skb, dev.Generic is not null);
        }

        return done;
    }
}
