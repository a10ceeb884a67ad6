using VethXdp.Devices.Frames;

namespace VethXdp.Devices.Napi;

/// <summary>The GRO part of struct napi_struct: gro_hash[GRO_HASH_BUCKETS] (the held skbs of each bucket, oldest
/// first), gro_bitmask, and rx_list / rx_count (the GRO_NORMAL batch handed to netif_receive_skb_list_internal).</summary>
internal sealed class GroNapi
{
    /// <summary>GRO_HASH_BUCKETS, MAX_GRO_SKBS (per bucket), gro_normal_batch (the sysctl's default).</summary>
    public const int GroHashBuckets = 8, MaxGroSkbs = 8, GroNormalBatch = 8;

    public readonly XdpDesc[] Held = new XdpDesc[GroHashBuckets * MaxGroSkbs];

    public readonly int[] HeldCount = new int[GroHashBuckets];

    public uint BitMask;

    public readonly XdpDesc[] RxList = new XdpDesc[GroNormalBatch];

    public readonly bool[] RxGeneric = new bool[GroNormalBatch];

    public int RxCount;

    /// <summary>Skbs merged away, held, and flushed from the held lists (for tests).</summary>
    public long HeldTotal, FlushedTotal;

    public bool Pending => RxCount > 0 || BitMask != 0;
}
