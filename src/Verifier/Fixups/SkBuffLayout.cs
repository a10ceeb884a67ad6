namespace VethXdp.Verifier.Fixups;

/// <summary>Offsets inside the kernel's own structures that the __sk_buff rewrites load from: <c>struct sk_buff</c>,
/// its control block (<c>struct qdisc_skb_cb</c> and <c>struct bpf_skb_data_end</c> at <c>sk_buff.cb</c>),
/// <c>struct skb_shared_info</c> and <c>struct net_device</c>, and the constants the rewrites compare with.</summary>
/// <remarks>These are the layout of Linux 6.18 on x86-64 (the kernel this tree pins: 6.18.44), observed, not derived:
/// every value was read from the kernel's own translated instructions (BPF_OBJ_GET_INFO_BY_FD,
/// <c>xlated_prog_insns</c>) of tiny tc and socket-filter programs that load each __sk_buff field, made with
/// <c>VethXdp.Kernel.KernelXlated</c>; tests/VethXdp.Verifier.Tests/Fixups/ctx-xlated.golden keeps those dumps, and the
/// kernel-backed test compares our rewrite with the running kernel again. The kernel field each value stands for is
/// named in its documentation; a kernel built with another config may differ.</remarks>
public static class SkBuffLayout
{
    /// <summary>offsetof(struct sk_buff, dev) (a pointer; loaded for __sk_buff.ifindex).</summary>
    public const short Dev = 16;

    /// <summary>offsetof(struct sk_buff, sk).</summary>
    public const short Sk = 24;

    /// <summary>offsetof(struct sk_buff, tstamp) (a __u64).</summary>
    public const short Tstamp = 32;

    /// <summary>offsetof(struct sk_buff, cb): the 48-byte control block.</summary>
    public const short Cb = 40;

    /// <summary>offsetof(struct sk_buff, cb) + offsetof(struct qdisc_skb_cb, pkt_len): __sk_buff.wire_len.</summary>
    public const short CbPktLen = Cb + 0;

    /// <summary>offsetof(struct sk_buff, cb) + offsetof(struct qdisc_skb_cb, tc_classid) (a __u16).</summary>
    public const short CbTcClassid = Cb + 6;

    /// <summary>offsetof(struct sk_buff, cb) + offsetof(struct qdisc_skb_cb, data): __sk_buff.cb[0].</summary>
    public const short CbData = Cb + 8;

    /// <summary>offsetof(struct sk_buff, cb) + offsetof(struct bpf_skb_data_end, data_meta).</summary>
    public const short CbDataMeta = Cb + 32;

    /// <summary>offsetof(struct sk_buff, cb) + offsetof(struct bpf_skb_data_end, data_end).</summary>
    public const short CbDataEnd = Cb + 40;

    /// <summary>offsetof(struct sk_buff, len).</summary>
    public const short Len = 112;

    /// <summary>offsetof(struct sk_buff, queue_mapping) (a __u16).</summary>
    public const short QueueMapping = 124;

    /// <summary>CLONED_OFFSET: the byte holding the <c>cloned</c> bit (tc's unclone prologue).</summary>
    public const short ClonedOffset = 126;

    /// <summary>CLONED_MASK.</summary>
    public const int ClonedMask = 1;

    /// <summary>PKT_TYPE_OFFSET: the byte holding the 3-bit <c>pkt_type</c>.</summary>
    public const short PktTypeOffset = 128;

    /// <summary>PKT_TYPE_MAX: the mask of pkt_type in that byte (little-endian bitfields).</summary>
    public const int PktTypeMax = 7;

    /// <summary>SKB_BF_MONO_TC_OFFSET: the byte holding tstamp_type and tc_at_ingress.</summary>
    public const short MonoTcOffset = 129;

    /// <summary>SKB_TSTAMP_TYPE_MASK: the 2-bit tstamp_type in that byte.</summary>
    public const int TstampTypeMask = 3;

    /// <summary>TC_AT_INGRESS_MASK: tc_at_ingress in that byte.</summary>
    public const int TcAtIngressMask = 4;

    /// <summary>offsetof(struct sk_buff, tc_index) (a __u16).</summary>
    public const short TcIndex = 132;

    /// <summary>offsetof(struct sk_buff, priority).</summary>
    public const short Priority = 140;

    /// <summary>offsetof(struct sk_buff, skb_iif): __sk_buff.ingress_ifindex.</summary>
    public const short SkbIif = 144;

    /// <summary>offsetof(struct sk_buff, hash).</summary>
    public const short Hash = 148;

    /// <summary>offsetof(struct sk_buff, vlan_all) (a __u32 over vlan_proto and vlan_tci): __sk_buff.vlan_present.</summary>
    public const short VlanAll = 152;

    /// <summary>offsetof(struct sk_buff, vlan_proto) (a __be16).</summary>
    public const short VlanProto = 152;

    /// <summary>offsetof(struct sk_buff, vlan_tci) (a __u16).</summary>
    public const short VlanTci = 154;

    /// <summary>offsetof(struct sk_buff, napi_id).</summary>
    public const short NapiId = 156;

    /// <summary>MIN_NAPI_ID: NR_CPUS + 1 (NR_CPUS is 256 in this kernel's config); smaller values are sender CPUs.</summary>
    public const int MinNapiId = 257;

    /// <summary>offsetof(struct sk_buff, mark).</summary>
    public const short Mark = 164;

    /// <summary>offsetof(struct sk_buff, protocol) (a __be16).</summary>
    public const short Protocol = 176;

    /// <summary>offsetof(struct sk_buff, end) (sk_buff_data_t: a __u32 offset from head on 64-bit kernels).</summary>
    public const short End = 188;

    /// <summary>offsetof(struct sk_buff, head).</summary>
    public const short Head = 192;

    /// <summary>offsetof(struct sk_buff, data).</summary>
    public const short Data = 200;

    /// <summary>offsetof(struct net_device, ifindex).</summary>
    public const short NetDeviceIfindex = 224;

    /// <summary>offsetof(struct skb_shared_info, gso_size) (a __u16).</summary>
    public const short ShinfoGsoSize = 4;

    /// <summary>offsetof(struct skb_shared_info, gso_segs) (a __u16).</summary>
    public const short ShinfoGsoSegs = 6;

    /// <summary>offsetof(struct skb_shared_info, hwtstamps).</summary>
    public const short ShinfoHwtstamps = 16;

    /// <summary>NO_QUEUE_MAPPING: a queue_mapping at or above it is not stored.</summary>
    public const int NoQueueMapping = 0xffff;

    /// <summary>TC_ACT_SHOT: what tc's prologue returns when unclone fails.</summary>
    public const int TcActShot = 2;

    /// <summary>BPF_FUNC_skb_pull_data: the helper tc's prologue calls.</summary>
    public const int FuncSkbPullData = 39;
}
