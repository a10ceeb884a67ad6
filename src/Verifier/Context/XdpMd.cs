namespace VethXdp.Verifier.Context;

/// <summary>Field offsets of <c>struct xdp_md</c>, the XDP program's view of its context
/// (include/uapi/linux/bpf.h). Every field is a <c>__u32</c>.</summary>
public static class XdpMd
{
#pragma warning disable CS1591 // each offset is named after its uapi field
    public const int Data = 0;
    public const int DataEnd = 4;
    public const int DataMeta = 8;
    public const int IngressIfindex = 12;
    public const int RxQueueIndex = 16;
    public const int EgressIfindex = 20;
#pragma warning restore CS1591

    /// <summary>sizeof(struct xdp_md).</summary>
    public const int Size = 24;
}
