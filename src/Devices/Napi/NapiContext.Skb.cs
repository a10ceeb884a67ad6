using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using VethXdp.Devices.Frames;
using VethXdp.Devices.Skb;

namespace VethXdp.Devices.Napi;

// The sk_buff side of a CPU: building skbs around frames (napi_build_skb, __alloc_skb), eth_type_trans, GRO and the
// rx_list batch, __netif_receive_skb_core, ip_rcv_core / ip6_rcv_core, __dev_forward_skb and dev_queue_xmit, and
// freeing (kfree_skb_reason / consume_skb). See docs/scenarios.md "The skb path".
public sealed unsafe partial class NapiContext
{
    private const ushort EthPIp = 0x0800, EthPIpv6 = 0x86dd, EthPArp = 0x0806, EthP8021Q = 0x8100, EthP8021AD = 0x88a8;
    private const ushort EthP8023Min = 0x0600, EthP8023 = 0x0001, EthP8022 = 0x0004;
    private const int EthHlen = 14;
    private const byte TcpFlagFin = 0x01, TcpFlagSyn = 0x02, TcpFlagRst = 0x04, TcpFlagPsh = 0x08, TcpFlagUrg = 0x20;

    // sizeof(struct napi_gro_cb), where its count sits; sizeof(struct inet_skb_parm) / (struct inet6_skb_parm)
    private const int NapiGroCbSize = 40, NapiGroCbCount = 22, InetSkbParmSize = 24, Inet6SkbParmSize = 24;

    private SkbHeads? _skbs;

    internal SkbHeads Skbs => _skbs ??= World.Skbs;

    /// <summary>skbs built or allocated on this CPU (napi_build_skb, __alloc_skb, skb copies).</summary>
    internal long SkbsAllocated;

    /// <summary>skbs freed with a drop reason (kfree_skb_reason) and consumed (consume_skb) on this CPU.</summary>
    internal long SkbsDropped, SkbsConsumed;

    /// <summary>softnet_data.processed: skbs __netif_receive_skb_core() took.</summary>
    internal long SoftnetProcessed;

    /// <summary>IPSTATS_MIB_INRECEIVES, _INHDRERRORS, _CSUMERRORS, _INTRUNCATEDPKTS (IPv4 and IPv6 together).</summary>
    internal long IpInReceives, IpInHdrErrors, IpCsumErrors, IpInTruncatedPkts;

    /// <summary>dev_core_stats rx_nohandler: skbs no packet type took.</summary>
    internal long RxNoHandler;

    // ---- allocation and freeing ----

    /// <summary>napi_build_skb() around the frame a driver received on <paramref name="dev"/>'s queue
    /// <paramref name="rxQueue"/>, then skb_reserve / __skb_put to the frame, skb_record_rx_queue and
    /// eth_type_trans (the driver's skb, veth's xdp_build_skb_from_frame).</summary>
    internal void BuildSkb(NetDevice dev, ref XdpDesc d, int rxQueue)
    {
        // kernel: __napi_build_skb(): a head from the per-CPU cache, cleared up to 'tail' (the assignment below is that
        // memset), then __build_skb_around() for the page-sized buffer and skb_mark_for_recycle()
        ref var skb = ref Skbs[d.Frame];
        ClearToTail(ref skb);
        BuildSkbAround(ref skb, d.Frame, FramePool.FrameSize);
        skb.PpRecycle = true;
        skb.Data = d.Headroom;
        skb.Tail = d.Headroom + d.Length;
        skb.Len = d.Length;
        skb.QueueMapping = (ushort)(rxQueue + 1);
        skb.Protocol = EthTypeTrans(ref skb, dev, d.Frame);
        d = d with { Skb = true, Ifindex = dev.Ifindex };
    }

    /// <summary>xsk_build_skb() in copy mode: sock_alloc_send_skb() -> __alloc_skb() for
    /// <paramref name="headroom"/> + <paramref name="len"/> bytes in <paramref name="frame"/> (the caller copies the
    /// chunk's bytes there, skb_store_bits), skb_reserve, skb_put, skb->dev, and the queue __dev_direct_xmit() sets.</summary>
    internal XdpDesc XskBuildSkb(NetDevice dev, int frame, int headroom, int len, int queue)
    {
        // kernel: __alloc_skb(): memset(skb, 0, offsetof(struct sk_buff, tail)), a kmalloc'ed buffer of
        // SKB_DATA_ALIGN(size) + SKB_DATA_ALIGN(sizeof(struct skb_shared_info)), __finalize_skb_around()
        ref var skb = ref Skbs[frame];
        ClearToTail(ref skb);
        BuildSkbAround(ref skb, frame, KmallocSize(SkbHeads.DataAlign(headroom + len) + SkbHeads.DataAlign(FramePool.SharedInfoSize)));
        skb.Data = headroom;
        skb.Tail = headroom + len;
        skb.Len = (uint)len;
        skb.Ifindex = dev.Ifindex;
        skb.QueueMapping = (ushort)queue;
        return new XdpDesc(frame, (ushort)headroom, (ushort)len, dev.Ifindex, Skb: true);
    }

    // kernel: __build_skb_around() / __finalize_skb_around(): truesize, users, head/data/tail/end, the unset header
    // offsets, and skb_shared_info cleared up to dataref, dataref = 1
    private void BuildSkbAround(ref SkBuff skb, int frame, int bufferSize)
    {
        int size = bufferSize - SkbHeads.DataAlign(FramePool.SharedInfoSize);
        skb.Truesize = SkbHeads.Truesize(size);
        skb.Users = 1;
        skb.Data = 0;
        skb.Tail = 0;
        skb.End = size;
        skb.MacHeader = SkBuff.Unset;
        skb.TransportHeader = SkBuff.Unset;
        skb.AllocCpu = (ushort)Id;
        byte* shinfo = Pool.FrameStart(frame) + size;
        new Span<byte>(shinfo, SkbHeads.OffsetofDataref).Clear();
        *(int*)(shinfo + SkbHeads.OffsetofDataref) = 1;
        SkbsAllocated++;
    }

    // memset(skb, 0, offsetof(struct sk_buff, tail))
    private static void ClearToTail(ref SkBuff skb) =>
        Unsafe.InitBlockUnaligned(ref Unsafe.As<SkBuff, byte>(ref skb), 0, SkbHeads.OffsetofTail);

    /// <summary>memset() of the first <paramref name="size"/> bytes of skb->cb, as a layer takes the control block
    /// over (br_input_skb_cb in br_handle_frame, inet_skb_parm in ip_rcv_core, napi_gro_cb in dev_gro_receive).</summary>
    internal void ClearCb(in XdpDesc d, int size)
    {
        ref var skb = ref Skbs[d.Frame];
        fixed (byte* cb = skb.Cb)
        {
            new Span<byte>(cb, size).Clear();
        }
    }

    // kmalloc's size classes for __alloc_skb's buffer: 96, 192, then powers of two (the page-sized frame at most).
    private static int KmallocSize(int n) =>
        n <= 96 ? 96 : n <= 128 ? 128 : n <= 192 ? 192 : Math.Min(FramePool.FrameSize, (int)BitOperations.RoundUpToPowerOf2((uint)n));

    // An skb handed in as a bare frame (a test's desc, a path that never built one): built as its sender would have.
    private ref SkBuff LiveSkb(NetDevice dev, ref XdpDesc d)
    {
        ref var skb = ref Skbs[d.Frame];
        if (!d.Skb || skb.Users <= 0)
        {
            d = XskBuildSkb(dev, d.Frame, d.Headroom, d.Length, 0) with { Ifindex = d.Ifindex };
        }

        return ref skb;
    }

    // kernel: kfree_skb_reason() (a drop) / consume_skb(): skb_unref(), skb_release_head_state() (xsk's destructor is
    // modelled at transmit, XskSocket.SendTo), skb_release_data() (dataref of skb_shared_info), kfree_skbmem() (the
    // head back to the per-CPU cache); the caller then frees the page (page_pool recycling).
    private void FreeSkb(in XdpDesc d, FrameEnd end)
    {
        ref var skb = ref Skbs[d.Frame];
        if (skb.Users <= 0 || --skb.Users != 0)
        {
            return;
        }

        --*(int*)(Pool.FrameStart(d.Frame) + skb.End + SkbHeads.OffsetofDataref);
        if (FrameEnds.IsDrop(end))
        {
            SkbsDropped++;
        }
        else
        {
            SkbsConsumed++;
        }
    }

    // skb_copy() of the head when a frame is copied (xdpf_clone for the bridge's flood, pskb_expand_head): the
    // record moves with the data, its offsets shifted by the headroom difference.
    private void MoveSkbHead(int from, int to, int shift, bool keepSource)
    {
        ref var src = ref Skbs[from];
        ref var dst = ref Skbs[to];
        dst = src;
        dst.Data += shift;
        dst.Tail += shift;
        dst.End = FramePool.FrameSize - SkbHeads.DataAlign(FramePool.SharedInfoSize);
        dst.MacHeader = Shift(dst.MacHeader, shift);
        dst.NetworkHeader = (ushort)(dst.NetworkHeader + shift);
        dst.TransportHeader = Shift(dst.TransportHeader, shift);
        byte* shinfo = Pool.FrameStart(to) + dst.End;
        Buffer.MemoryCopy(Pool.FrameStart(from) + src.End, shinfo, SkbHeads.OffsetofDataref + 16, SkbHeads.OffsetofDataref + 16);
        *(int*)(shinfo + SkbHeads.OffsetofDataref) = 1;
        if (keepSource)
        {
            SkbsAllocated++;
        }
        else
        {
            src.Users = 0;
        }
    }

    private static ushort Shift(ushort offset, int shift) => offset == SkBuff.Unset ? offset : (ushort)(offset + shift);

    // ---- eth_type_trans ----

    /// <summary>eth_type_trans(): skb->dev, the MAC header at skb->data, ETH_HLEN pulled, pkt_type from the
    /// destination against dev->dev_addr, and the protocol.</summary>
    private ushort EthTypeTrans(ref SkBuff skb, NetDevice dev, int frame)
    {
        skb.Ifindex = dev.Ifindex;
        skb.MacHeader = (ushort)skb.Data;
        byte* eth = Pool.FrameStart(frame) + skb.Data;
        if (skb.Len < EthHlen)
        {
            // too short to carry a header: nothing to pull, no protocol (no packet type will take it)
            return 0;
        }

        skb.Data += EthHlen;
        skb.Len -= EthHlen;
        if ((eth[0] & 1) != 0)
        {
            skb.PktType = Mac48(eth) == 0xffff_ffff_ffffUL ? SkBuff.PacketBroadcast : SkBuff.PacketMulticast;
        }
        else if (dev.DevAddr != 0 && Mac48(eth) != dev.DevAddr)
        {
            skb.PktType = SkBuff.PacketOtherHost;
        }

        ushort proto = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(eth + 12, 2));
        if (proto >= EthP8023Min)
        {
            return proto;
        }

        // 802.3 frames: a raw IPX "length" header (0xFFFF) or 802.2 LLC
        return skb.Len >= 2 && *(ushort*)(eth + EthHlen) == 0xffff ? EthP8023 : EthP8022;
    }

    private static ulong Mac48(byte* p) =>
        ((ulong)BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(p, 2)) << 32) |
        BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(p + 2, 4));

    // After an XDP program ran on an skb (veth_xdp_rcv_skb's XDP_PASS, netif_receive_generic_xdp): the skb's data
    // and length follow what the program left, the MAC header is reset there, and eth_type_trans() runs again
    // (always on veth; generic XDP only when the program changed the type, the host match or the broadcast bit).
    private void SkbAfterXdp(NetDevice dev, ref XdpDesc d, bool onlyIfChanged, ushort origProto, byte origPktType)
    {
        ref var skb = ref LiveSkb(dev, ref d);
        skb.Data = d.Headroom;
        skb.Tail = d.Headroom + d.Length;
        skb.Len = d.Length;
        if (onlyIfChanged)
        {
            var copy = skb;
            copy.PktType = SkBuff.PacketHost;
            ushort proto = EthTypeTrans(ref copy, dev, d.Frame);
            if (proto == origProto && copy.PktType == origPktType)
            {
                // __skb_pull / __skb_push by the program's offset, mac_header moved with it
                skb.MacHeader = (ushort)skb.Data;
                skb.Data += EthHlen;
                skb.Len -= EthHlen;
                return;
            }

            skb = copy;
            skb.Protocol = proto;
            return;
        }

        skb.PktType = SkBuff.PacketHost;
        skb.Protocol = EthTypeTrans(ref skb, dev, d.Frame);
    }

    /// <summary>veth_xdp_rcv_skb()'s XDP_PASS (or veth_xdp_rcv_one()'s for an xdp_frame): the skb re-synced with
    /// what the program left, or built from the frame, then napi_gro_receive().</summary>
    internal void VethXdpPass(NapiInstance napi, NetDevice dev, XdpDesc d, int rxQueue)
    {
        if (d.Skb)
        {
            SkbAfterXdp(dev, ref d, onlyIfChanged: false, 0, 0);
        }

        NapiGroReceive(napi, dev, d, rxQueue, runGeneric: false);
    }

    // ---- GRO (net/core/gro.c) ----

    /// <summary>napi_gro_receive() for a frame the driver of <paramref name="dev"/> took on queue
    /// <paramref name="rxQueue"/> (the skb is built first when the frame is still an xdp_buff / xdp_frame).</summary>
    internal void NapiGroReceive(NapiInstance napi, NetDevice dev, XdpDesc d, int rxQueue, bool runGeneric)
    {
        if (!d.Skb)
        {
            BuildSkb(dev, ref d, rxQueue);
        }

        var gro = napi.Gro;
        // netif_elide_gro(): no NETIF_F_GRO, or a generic XDP program on the device
        if (dev.Gro && dev.Generic is null)
        {
            // dev_gro_receive(): skb_gro_reset_offset() and the NAPI_GRO_CB fields (zeroed, flush, count = 1, ...)
            ClearCb(d, NapiGroCbSize);
            Skbs[d.Frame].Cb[NapiGroCbCount] = 1;
            if (DevGroReceive(gro, d))
            {
                return;
            }
        }

        GroNormalOne(gro, d, runGeneric);
    }

    // kernel: dev_gro_receive(): the bucket of skb->hash, gro_list_prepare() (same device, VLAN, Ethernet header),
    // then the protocol's gro_receive (inet_gro_receive / ipv6_gro_receive -> tcp_gro_receive; UDP without a GRO
    // socket and NETIF_F_GRO_UDP_FWD flushes at once). True when the skb is held.
    private bool DevGroReceive(GroNapi gro, in XdpDesc d)
    {
        ref var skb = ref Skbs[d.Frame];
        byte* head = Pool.FrameStart(d.Frame);
        byte* nh = head + skb.Data;
        int len = (int)skb.Len;
        int l4;
        int payload;
        if (skb.Protocol == EthPIp)
        {
            // inet_gro_receive(): a 20-byte header, no fragment, TCP
            if (len < 20 || nh[0] != 0x45 || (BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(nh + 6, 2)) & 0x3fff) != 0 || nh[9] != 6)
            {
                return false;
            }

            l4 = 20;
            payload = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(nh + 2, 2)) - 20;
        }
        else if (skb.Protocol == EthPIpv6)
        {
            if (len < 40 || (nh[0] >> 4) != 6 || nh[6] != 6)
            {
                return false;
            }

            l4 = 40;
            payload = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(nh + 4, 2));
        }
        else
        {
            return false;
        }

        byte* th = nh + l4;
        if (len < l4 + 20)
        {
            return false;
        }

        int doff = (th[12] >> 4) * 4;
        if (doff < 20 || len < l4 + doff)
        {
            return false;
        }

        payload -= doff;
        // tcp_gro_receive(): len < mss (1 without a held segment) or URG/PSH/RST/SYN/FIN flush the segment
        bool flush = payload < 1 || (th[13] & (TcpFlagUrg | TcpFlagPsh | TcpFlagRst | TcpFlagSyn | TcpFlagFin)) != 0;
        int bucket = (int)(skb.Hash & (GroNapi.GroHashBuckets - 1));
        int first = bucket * GroNapi.MaxGroSkbs;
        int n = gro.HeldCount[bucket];
        for (int i = 0; i < n; i++)
        {
            var p = gro.Held[first + i];
            if (!SameFlow(p, d, l4))
            {
                continue;
            }

            // skb_gro_receive() would append the segment to p: we do not merge (docs/differences.md "skb"), so p is
            // completed as a flow that cannot take it, and the new segment is held in its place
            RemoveHeld(gro, bucket, i);
            GroNormalOne(gro, p, runGeneric: false);
            gro.FlushedTotal++;
            break;
        }

        if (flush)
        {
            return false;
        }

        n = gro.HeldCount[bucket];
        if (n == GroNapi.MaxGroSkbs)
        {
            // gro_flush_oldest()
            var oldest = gro.Held[first];
            RemoveHeld(gro, bucket, 0);
            GroNormalOne(gro, oldest, runGeneric: false);
            gro.FlushedTotal++;
            n--;
        }

        skb.NetworkHeader = (ushort)skb.Data;
        skb.TransportHeader = (ushort)(skb.Data + l4);
        gro.Held[first + n] = d;
        gro.HeldCount[bucket] = n + 1;
        gro.BitMask |= 1u << bucket;
        gro.HeldTotal++;
        return true;
    }

    // gro_list_prepare() and the protocols' same_flow: hash, device, VLAN, Ethernet header, addresses, ports
    private bool SameFlow(in XdpDesc p, in XdpDesc d, int l4)
    {
        ref var ps = ref Skbs[p.Frame];
        ref var skb = ref Skbs[d.Frame];
        if (ps.Hash != skb.Hash || ps.Ifindex != skb.Ifindex || ps.VlanTci != skb.VlanTci || ps.Protocol != skb.Protocol)
        {
            return false;
        }

        byte* ph = Pool.FrameStart(p.Frame);
        byte* h = Pool.FrameStart(d.Frame);
        if (!new ReadOnlySpan<byte>(ph + ps.MacHeader, EthHlen).SequenceEqual(new ReadOnlySpan<byte>(h + skb.MacHeader, EthHlen)))
        {
            return false;
        }

        // IPv4: saddr, daddr (12..19) and protocol; IPv6: saddr, daddr (8..39) and nexthdr; then the ports
        int addr = l4 == 20 ? 12 : 8;
        byte* pn = ph + ps.Data;
        byte* n = h + skb.Data;
        return pn[l4 == 20 ? 9 : 6] == n[l4 == 20 ? 9 : 6]
            && new ReadOnlySpan<byte>(pn + addr, l4 - addr).SequenceEqual(new ReadOnlySpan<byte>(n + addr, l4 - addr))
            && *(uint*)(pn + l4) == *(uint*)(n + l4);
    }

    private static void RemoveHeld(GroNapi gro, int bucket, int i)
    {
        int first = bucket * GroNapi.MaxGroSkbs;
        int n = --gro.HeldCount[bucket];
        for (int j = i; j < n; j++)
        {
            gro.Held[first + j] = gro.Held[first + j + 1];
        }

        if (n == 0)
        {
            gro.BitMask &= ~(1u << bucket);
        }
    }

    // kernel: gro_normal_one(): onto napi->rx_list, handed on when gro_normal_batch skbs are there
    private void GroNormalOne(GroNapi gro, in XdpDesc d, bool runGeneric)
    {
        int i = gro.RxCount;
        gro.RxList[i] = d;
        gro.RxGeneric[i] = runGeneric;
        gro.RxCount = i + 1;
        if (i + 1 >= GroNapi.GroNormalBatch)
        {
            GroNormalList(gro);
        }
    }

    // kernel: gro_normal_list() -> netif_receive_skb_list_internal(): each skb to __netif_receive_skb_core()
    private void GroNormalList(GroNapi gro)
    {
        int n = gro.RxCount;
        gro.RxCount = 0;
        for (int i = 0; i < n; i++)
        {
            var d = gro.RxList[i];
            var dev = World.Device(d.Ifindex);
            if (dev is null)
            {
                End(d, FrameEnd.Stack);
                continue;
            }

            NetifReceiveSkb(dev, d, gro.RxGeneric[i]);
        }
    }

    /// <summary>The end of a NAPI poll (napi_complete_done / __napi_poll): napi_gro_flush() of every held skb, oldest
    /// first in each bucket, then gro_normal_list().</summary>
    internal void NapiGroFlush(NapiInstance napi)
    {
        var gro = napi.Gro;
        while (gro.BitMask != 0)
        {
            int b = BitOperations.TrailingZeroCount(gro.BitMask);
            int first = b * GroNapi.MaxGroSkbs;
            int n = gro.HeldCount[b];
            gro.HeldCount[b] = 0;
            gro.BitMask &= ~(1u << b);
            for (int i = 0; i < n; i++)
            {
                GroNormalOne(gro, gro.Held[first + i], runGeneric: false);
                gro.FlushedTotal++;
            }
        }

        if (gro.RxCount > 0)
        {
            GroNormalList(gro);
        }
    }

    // ---- __netif_receive_skb_core and the packet types ----

    /// <summary>__netif_receive_skb_core() on <paramref name="dev"/>: headers reset, skb_iif, generic XDP (when
    /// <paramref name="runGeneric"/>), the rx_handler (a bridge port's br_handle_frame) or the packet type of
    /// skb->protocol.</summary>
    internal void NetifReceiveSkb(NetDevice dev, XdpDesc d, bool runGeneric)
    {
        ref var skb = ref LiveSkb(dev, ref d);
        if (skb.MacHeader == SkBuff.Unset)
        {
            skb.Protocol = EthTypeTrans(ref skb, dev, d.Frame);
        }

        skb.NetworkHeader = (ushort)skb.Data;
        if (skb.TransportHeader == SkBuff.Unset)
        {
            skb.TransportHeader = (ushort)skb.Data;
        }

        skb.MacLen = (ushort)(skb.NetworkHeader - skb.MacHeader);
        skb.Ifindex = dev.Ifindex; // skb->dev: the caller's device (br_pass_frame_up: the bridge)
        skb.SkbIif = dev.Ifindex;
        SoftnetProcessed++;
        ReceiveSkb(dev, d, runGeneric);
    }

    /// <summary>deliver_ptype_list_skb() for skb->protocol: ip_rcv, ipv6_rcv, arp_rcv; a VLAN tag is taken off first
    /// (skb_vlan_untag; a VLAN with no device on top makes the skb PACKET_OTHERHOST); no handler:
    /// SKB_DROP_REASON_UNHANDLED_PROTO.</summary>
    internal void DeliverPtype(NetDevice dev, XdpDesc d)
    {
        ref var skb = ref LiveSkb(dev, ref d);
        ushort proto = skb.Protocol;
        if (proto is EthP8021Q or EthP8021AD && skb.Len >= 4)
        {
            // skb_vlan_untag(): the tag into vlan_tci, the inner protocol; vlan_do_receive() finds no VLAN device
            byte* tag = Pool.FrameStart(d.Frame) + skb.Data;
            skb.VlanTci = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(tag, 2));
            proto = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(tag + 2, 2));
            skb.Data += 4;
            skb.Len -= 4;
            skb.NetworkHeader = (ushort)skb.Data;
            skb.Protocol = proto;
            if ((skb.VlanTci & 0xfff) != 0)
            {
                skb.PktType = SkBuff.PacketOtherHost;
            }
        }

        switch (proto)
        {
            case EthPIp:
                IpRcv(d);
                break;
            case EthPIpv6:
                Ipv6Rcv(d);
                break;
            case EthPArp:
                // arp_rcv(): taken by the neighbour layer
                End(d, FrameEnd.Stack);
                break;
            default:
                RxNoHandler++;
                End(d, FrameEnd.UnhandledProto);
                break;
        }
    }

    // kernel: ip_rcv() -> ip_rcv_core(): OTHERHOST, the header (length, version, ihl), ip_fast_csum, tot_len against
    // skb->len, pskb_trim_rcsum, the transport header; then NF_INET_PRE_ROUTING (no rules) and ip_rcv_finish()
    private void IpRcv(in XdpDesc d)
    {
        ref var skb = ref Skbs[d.Frame];
        if (skb.PktType == SkBuff.PacketOtherHost)
        {
            End(d, FrameEnd.OtherHost);
            return;
        }

        IpInReceives++;
        byte* iph = Pool.FrameStart(d.Frame) + skb.NetworkHeader;
        uint len = skb.Len;
        int ihl = (len >= 20 ? iph[0] & 0xf : 0) * 4;
        if (len < 20 || ihl < 20 || (iph[0] >> 4) != 4 || len < (uint)ihl)
        {
            IpInHdrError(d, FrameEnd.IpInHdr);
            return;
        }

        if (IpFastCsum(iph, ihl) != 0)
        {
            IpCsumErrors++;
            IpInHdrError(d, FrameEnd.IpCsum);
            return;
        }

        uint totLen = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(iph + 2, 2));
        if (len < totLen)
        {
            IpInTruncatedPkts++;
            End(d, FrameEnd.PktTooSmall);
            return;
        }

        if (totLen < (uint)ihl)
        {
            IpInHdrError(d, FrameEnd.IpInHdr);
            return;
        }

        TrimRcsum(ref skb, totLen);
        skb.TransportHeader = (ushort)(skb.NetworkHeader + ihl);
        // memset(IPCB(skb), 0, sizeof(struct inet_skb_parm)); IPCB(skb)->iif = skb->skb_iif
        ClearCb(d, InetSkbParmSize);
        fixed (byte* cb = skb.Cb)
        {
            *(int*)cb = skb.SkbIif;
        }

        End(d, FrameEnd.Stack);
    }

    // kernel: ipv6_rcv() -> ip6_rcv_core(): OTHERHOST, the header length and version, payload_len against skb->len
    private void Ipv6Rcv(in XdpDesc d)
    {
        ref var skb = ref Skbs[d.Frame];
        if (skb.PktType == SkBuff.PacketOtherHost)
        {
            End(d, FrameEnd.OtherHost);
            return;
        }

        IpInReceives++;
        byte* ip6h = Pool.FrameStart(d.Frame) + skb.NetworkHeader;
        if (skb.Len < 40 || (ip6h[0] >> 4) != 6)
        {
            IpInHdrError(d, FrameEnd.IpInHdr);
            return;
        }

        uint pktLen = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(ip6h + 4, 2));
        if (pktLen + 40 > skb.Len)
        {
            IpInTruncatedPkts++;
            End(d, FrameEnd.PktTooSmall);
            return;
        }

        TrimRcsum(ref skb, pktLen + 40);
        skb.TransportHeader = (ushort)(skb.NetworkHeader + 40);
        ClearCb(d, Inet6SkbParmSize);
        fixed (byte* cb = skb.Cb)
        {
            *(int*)cb = skb.SkbIif;
        }

        End(d, FrameEnd.Stack);
    }

    private void IpInHdrError(in XdpDesc d, FrameEnd reason)
    {
        IpInHdrErrors++;
        End(d, reason);
    }

    // pskb_trim_rcsum(): the Ethernet padding cut off; a CHECKSUM_COMPLETE sum no longer covers the skb
    private static void TrimRcsum(ref SkBuff skb, uint len)
    {
        if (skb.Len > len)
        {
            skb.Len = len;
            skb.Tail = skb.Data + (int)len;
            if (skb.IpSummed == SkBuff.ChecksumComplete)
            {
                skb.IpSummed = SkBuff.ChecksumNone;
            }
        }
    }

    /// <summary>ip_fast_csum(): the folded one's complement sum of the header's 16-bit words, inverted (0 when the
    /// header's checksum is right).</summary>
    internal static ushort IpFastCsum(byte* iph, int len)
    {
        ulong sum = 0;
        int i = 0;
        for (; i + 4 <= len; i += 4)
        {
            sum += *(uint*)(iph + i);
        }

        for (; i + 2 <= len; i += 2)
        {
            sum += *(ushort*)(iph + i);
        }

        sum = (sum & 0xffff_ffff) + (sum >> 32);
        sum = (sum & 0xffff_ffff) + (sum >> 32);
        uint s = (uint)sum;
        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
        return (ushort)~s;
    }

    // ---- transmit: dev_queue_xmit, __dev_forward_skb ----

    /// <summary>br_dev_queue_push_xmit()'s skb_push(ETH_HLEN) and __dev_queue_xmit(): the MAC header reset, the TX
    /// queue picked (netdev_core_pick_tx: 0 on a single-queue device, else the CPU's queue as XPS maps it), then the
    /// device's ndo_start_xmit (veth has no qdisc). False when the driver refused.</summary>
    internal bool DevQueueXmit(NetDevice dev, in XdpDesc d)
    {
        var out_ = d with { Ifindex = dev.Ifindex };
        ref var skb = ref LiveSkb(dev, ref out_);
        skb.Data = out_.Headroom;
        skb.Tail = out_.Headroom + out_.Length;
        skb.Len = out_.Length;
        skb.MacHeader = (ushort)skb.Data;
        skb.Ifindex = dev.Ifindex;
        skb.QueueMapping = (ushort)(dev.TxQueueCount == 1 ? 0 : Id % dev.TxQueueCount);

        // qdisc_pkt_len_init() and validate_xmit_skb(): a GSO skb (shinfo->gso_size) would be segmented, one with frags
        // or a frag_list linearised, CHECKSUM_PARTIAL resolved; our skbs are linear and not GSO, so each check passes
        fixed (byte* cb = skb.Cb)
        {
            *(uint*)cb = skb.Len; // qdisc_skb_cb(skb)->pkt_len
        }

        byte* shinfo = Pool.FrameStart(out_.Frame) + skb.End;
        if (*(ushort*)(shinfo + 4) != 0 || shinfo[2] != 0 || *(ulong*)(shinfo + 8) != 0)
        {
            End(out_, FrameEnd.TxDropped);
            return true;
        }

        if (skb.IpSummed == SkBuff.ChecksumPartial)
        {
            skb.IpSummed = SkBuff.ChecksumNone;
        }

        return dev.StartXmit(this, out_);
    }

    /// <summary>__dev_forward_skb() as veth_xmit() calls it for the peer <paramref name="rcv"/>: the skb pushed back to
    /// its MAC header, skb_scrub_packet() (pkt_type HOST, skb_iif; across namespaces the mark and the timestamp),
    /// priority 0, and eth_type_trans() for the peer.</summary>
    internal void DevForwardSkb(NetDevice rcv, ref XdpDesc d)
    {
        ref var skb = ref LiveSkb(rcv, ref d);
        skb.Data = d.Headroom;
        skb.Tail = d.Headroom + d.Length;
        skb.Len = d.Length;
        skb.PktType = SkBuff.PacketHost;
        skb.SkbIif = 0;
        skb.Mark = 0;
        skb.Tstamp = 0;
        skb.Priority = 0;
        skb.Protocol = EthTypeTrans(ref skb, rcv, d.Frame);
        d = d with { Ifindex = rcv.Ifindex, Skb = true };
    }
}
