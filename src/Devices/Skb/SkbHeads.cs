using VethXdp.Devices.Frames;

namespace VethXdp.Devices.Skb;

/// <summary>The sk_buff records of a world, allocated once when it is sealed: one per frame of the
/// <see cref="FramePool"/>, so that taking an skb for a buffer (napi_build_skb, __alloc_skb) and giving it back
/// (kfree_skb, consume_skb) allocates nothing. skb_shared_info sits in the frame itself, in its last
/// <see cref="FramePool.SharedInfoSize"/> bytes, as it sits at the end of the kernel's buffer.</summary>
internal sealed class SkbHeads
{
    /// <summary>sizeof(struct sk_buff) on x86_64 (6.18 BTF), and offsetof(struct sk_buff, tail): what
    /// napi_build_skb() / __alloc_skb() clear.</summary>
    public const int SizeofSkBuff = 224, OffsetofTail = 184;

    /// <summary>offsetof(struct skb_shared_info, dataref): what __build_skb_around() clears of skb_shared_info.</summary>
    public const int OffsetofDataref = 32;

    /// <summary>SKB_DATA_ALIGN(x): x rounded up to SMP_CACHE_BYTES (64).</summary>
    public static int DataAlign(int x) => (x + 63) & ~63;

    /// <summary>SKB_TRUESIZE(x).</summary>
    public static uint Truesize(int x) => (uint)(x + DataAlign(SizeofSkBuff) + DataAlign(FramePool.SharedInfoSize));

    private readonly SkBuff[] _heads;

    public SkbHeads(int frames) => _heads = new SkBuff[frames];

    /// <summary>The record of the skb that owns <paramref name="frame"/>.</summary>
    public ref SkBuff this[int frame] => ref _heads[frame];
}
