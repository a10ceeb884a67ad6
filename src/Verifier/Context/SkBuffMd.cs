namespace VethXdp.Verifier.Context;

/// <summary>Field offsets of <c>struct __sk_buff</c>, the socket filter's and tc program's view of the skb
/// (include/uapi/linux/bpf.h, Linux 6.18). Fields are <c>__u32</c> unless noted.</summary>
public static class SkBuffMd
{
#pragma warning disable CS1591 // each offset is named after its uapi field
    public const int Len = 0;
    public const int PktType = 4;
    public const int Mark = 8;
    public const int QueueMapping = 12;
    public const int Protocol = 16;
    public const int VlanPresent = 20;
    public const int VlanTci = 24;
    public const int VlanProto = 28;
    public const int Priority = 32;
    public const int IngressIfindex = 36;
    public const int Ifindex = 40;
    public const int TcIndex = 44;
    /// <summary>cb[0]; <c>__u32 cb[5]</c> ends at <see cref="CbEnd"/>.</summary>
    public const int Cb = 48;
    public const int CbEnd = 68;
    public const int Hash = 68;
    public const int TcClassid = 72;
    public const int Data = 76;
    public const int DataEnd = 80;
    public const int NapiId = 84;
    public const int Family = 88;
    public const int RemoteIp4 = 92;
    public const int LocalIp4 = 96;
    /// <summary><c>__u32 remote_ip6[4]</c>.</summary>
    public const int RemoteIp6 = 100;
    /// <summary><c>__u32 local_ip6[4]</c>.</summary>
    public const int LocalIp6 = 116;
    public const int RemotePort = 132;
    public const int LocalPort = 136;
    public const int DataMeta = 140;
    /// <summary><c>__bpf_md_ptr(struct bpf_flow_keys *, flow_keys)</c>: 8 bytes.</summary>
    public const int FlowKeys = 144;
    /// <summary><c>__u64 tstamp</c>.</summary>
    public const int Tstamp = 152;
    public const int WireLen = 160;
    public const int GsoSegs = 164;
    /// <summary><c>__bpf_md_ptr(struct bpf_sock *, sk)</c>: 8 bytes.</summary>
    public const int Sk = 168;
    public const int GsoSize = 176;
    /// <summary><c>__u8 tstamp_type</c>, then 3 bytes of padding.</summary>
    public const int TstampType = 180;
    /// <summary><c>__u64 hwtstamp</c>.</summary>
    public const int Hwtstamp = 184;
#pragma warning restore CS1591

    /// <summary>sizeof(struct __sk_buff).</summary>
    public const int Size = 192;
}
