namespace VethXdp.Devices.Skb;

/// <summary>The fields of struct sk_buff that the receive, bridge and transmit paths set and read. One record per data
/// buffer (frame), kept in the world's <see cref="SkbHeads"/>; offsets count from the buffer's start (skb->head).
/// Everything above <see cref="Truesize"/> is what napi_build_skb() clears (memset to offsetof(struct sk_buff, tail));
/// the rest is set field by field by __build_skb_around().</summary>
internal struct SkBuff
{
    /// <summary>skb->tstamp (ns).</summary>
    public ulong Tstamp;

    /// <summary>skb->dev, as an ifindex.</summary>
    public int Ifindex;

    /// <summary>skb->skb_iif: the ifindex the skb last arrived on (set by __netif_receive_skb_core).</summary>
    public int SkbIif;

    /// <summary>skb->len: bytes from skb->data.</summary>
    public uint Len;

    /// <summary>skb->data_len: bytes in frags (always 0 here: linear skbs).</summary>
    public uint DataLen;

    /// <summary>skb->mac_len.</summary>
    public ushort MacLen;

    /// <summary>skb->queue_mapping.</summary>
    public ushort QueueMapping;

    /// <summary>skb->hash.</summary>
    public uint Hash;

    /// <summary>skb->priority.</summary>
    public uint Priority;

    /// <summary>skb->mark.</summary>
    public uint Mark;

    /// <summary>skb->protocol, host order (ETH_P_*).</summary>
    public ushort Protocol;

    /// <summary>skb->vlan_all's TCI (0: no accelerated tag).</summary>
    public ushort VlanTci;

    /// <summary>skb->pkt_type (PACKET_*).</summary>
    public byte PktType;

    /// <summary>skb->ip_summed (CHECKSUM_*).</summary>
    public byte IpSummed;

    /// <summary>skb->l4_hash.</summary>
    public bool L4Hash;

    /// <summary>skb->cloned.</summary>
    public bool Cloned;

    /// <summary>skb->pp_recycle (skb_mark_for_recycle).</summary>
    public bool PpRecycle;

    /// <summary>skb->alloc_cpu.</summary>
    public ushort AllocCpu;

    // ---- from here on: set by __build_skb_around(), not cleared ----

    /// <summary>skb->truesize: SKB_TRUESIZE of the buffer.</summary>
    public uint Truesize;

    /// <summary>skb->users (refcount).</summary>
    public int Users;

    /// <summary>skb->data - skb->head.</summary>
    public int Data;

    /// <summary>skb->tail - skb->head.</summary>
    public int Tail;

    /// <summary>skb->end - skb->head (where skb_shared_info starts).</summary>
    public int End;

    /// <summary>skb->mac_header (<see cref="Unset"/> until set).</summary>
    public ushort MacHeader;

    /// <summary>skb->network_header.</summary>
    public ushort NetworkHeader;

    /// <summary>skb->transport_header (<see cref="Unset"/> until set).</summary>
    public ushort TransportHeader;

    /// <summary>(typeof(skb->mac_header))~0U: a header offset that is not set.</summary>
    public const ushort Unset = 0xffff;

    /// <summary>PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST (include/uapi/linux/if_packet.h).</summary>
    public const byte PacketHost = 0, PacketBroadcast = 1, PacketMulticast = 2, PacketOtherHost = 3;

    /// <summary>CHECKSUM_NONE, CHECKSUM_UNNECESSARY, CHECKSUM_COMPLETE, CHECKSUM_PARTIAL.</summary>
    public const byte ChecksumNone = 0, ChecksumUnnecessary = 1, ChecksumComplete = 2, ChecksumPartial = 3;
}
