using System.Runtime.InteropServices;

namespace VethXdp.Devices.Skb;

/// <summary>The fields of struct sk_buff that the receive, bridge and transmit paths set and read, in a record of the
/// kernel's size (224 bytes on x86_64) with the control buffer cb[48] at the kernel's offset (40). One record per data
/// buffer (frame), kept in the world's <see cref="SkbHeads"/>; offsets count from the buffer's start (skb->head).
/// Everything before <see cref="Tail"/> (offset 184, offsetof(struct sk_buff, tail)) is what napi_build_skb() and
/// __alloc_skb() clear; the rest is set field by field by __build_skb_around().</summary>
[StructLayout(LayoutKind.Explicit, Size = SkbHeads.SizeofSkBuff)]
internal unsafe struct SkBuff
{
    /// <summary>skb->cb: the layers' private control block (napi_gro_cb, br_input_skb_cb, inet_skb_parm,
    /// qdisc_skb_cb).</summary>
    [FieldOffset(40)]
    public fixed byte Cb[48];

    /// <summary>skb->tstamp (ns).</summary>
    [FieldOffset(0)]
    public ulong Tstamp;

    /// <summary>skb->dev, as an ifindex.</summary>
    [FieldOffset(8)]
    public int Ifindex;

    /// <summary>skb->skb_iif: the ifindex the skb last arrived on (set by __netif_receive_skb_core).</summary>
    [FieldOffset(12)]
    public int SkbIif;

    /// <summary>skb->len: bytes from skb->data.</summary>
    [FieldOffset(16)]
    public uint Len;

    /// <summary>skb->data_len: bytes in frags (always 0 here: linear skbs).</summary>
    [FieldOffset(20)]
    public uint DataLen;

    /// <summary>skb->mac_len.</summary>
    [FieldOffset(24)]
    public ushort MacLen;

    /// <summary>skb->queue_mapping.</summary>
    [FieldOffset(26)]
    public ushort QueueMapping;

    /// <summary>skb->hash.</summary>
    [FieldOffset(28)]
    public uint Hash;

    /// <summary>skb->priority.</summary>
    [FieldOffset(32)]
    public uint Priority;

    /// <summary>skb->mark.</summary>
    [FieldOffset(36)]
    public uint Mark;

    /// <summary>skb->protocol, host order (ETH_P_*).</summary>
    [FieldOffset(88)]
    public ushort Protocol;

    /// <summary>skb->vlan_all's TCI (0: no accelerated tag).</summary>
    [FieldOffset(90)]
    public ushort VlanTci;

    /// <summary>skb->pkt_type (PACKET_*).</summary>
    [FieldOffset(92)]
    public byte PktType;

    /// <summary>skb->ip_summed (CHECKSUM_*).</summary>
    [FieldOffset(93)]
    public byte IpSummed;

    /// <summary>skb->l4_hash.</summary>
    [FieldOffset(94)]
    public bool L4Hash;

    /// <summary>skb->cloned.</summary>
    [FieldOffset(95)]
    public bool Cloned;

    /// <summary>skb->pp_recycle (skb_mark_for_recycle).</summary>
    [FieldOffset(96)]
    public bool PpRecycle;

    /// <summary>skb->alloc_cpu.</summary>
    [FieldOffset(98)]
    public ushort AllocCpu;

    /// <summary>skb->truesize: SKB_TRUESIZE of the buffer.</summary>
    [FieldOffset(208)]
    public uint Truesize;

    /// <summary>skb->users (refcount).</summary>
    [FieldOffset(212)]
    public int Users;

    /// <summary>skb->data - skb->head.</summary>
    [FieldOffset(192)]
    public int Data;

    /// <summary>skb->tail - skb->head.</summary>
    [FieldOffset(184)]
    public int Tail;

    /// <summary>skb->end - skb->head (where skb_shared_info starts).</summary>
    [FieldOffset(188)]
    public int End;

    /// <summary>skb->mac_header (<see cref="Unset"/> until set).</summary>
    [FieldOffset(180)]
    public ushort MacHeader;

    /// <summary>skb->network_header.</summary>
    [FieldOffset(178)]
    public ushort NetworkHeader;

    /// <summary>skb->transport_header (<see cref="Unset"/> until set).</summary>
    [FieldOffset(176)]
    public ushort TransportHeader;

    /// <summary>(typeof(skb->mac_header))~0U: a header offset that is not set.</summary>
    public const ushort Unset = 0xffff;

    /// <summary>PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST (include/uapi/linux/if_packet.h).</summary>
    public const byte PacketHost = 0, PacketBroadcast = 1, PacketMulticast = 2, PacketOtherHost = 3;

    /// <summary>CHECKSUM_NONE, CHECKSUM_UNNECESSARY, CHECKSUM_COMPLETE, CHECKSUM_PARTIAL.</summary>
    public const byte ChecksumNone = 0, ChecksumUnnecessary = 1, ChecksumComplete = 2, ChecksumPartial = 3;
}
