using System.Runtime.InteropServices;

namespace VethXdp.Devices.Xsk;

/// <summary>The memory of one AF_XDP ring as mmap() shares it between the kernel and user space: the producer index,
/// the consumer index, the flags word and the descriptor array (u64 addresses for the fill and completion rings,
/// <see cref="XskDesc"/> for RX and TX), laid out as struct xdp_ring / xdp_umem_ring / xdp_rxtx_ring.</summary>
/// <remarks>Both sides keep private cached copies of the indices (the kernel's struct xsk_queue, libxdp's
/// xsk_ring_prod/xsk_ring_cons) and meet only through these words, as in Linux.</remarks>
public sealed unsafe class XskRingMemory : IDisposable
{
    private byte* _base;

    /// <summary>A ring of <paramref name="entries"/> descriptors of <paramref name="descSize"/> bytes.</summary>
    /// <exception cref="XskException">-EINVAL: zero or not a power of two (xsk_init_queue).</exception>
    public XskRingMemory(uint entries, int descSize)
    {
        if (entries == 0 || (entries & (entries - 1)) != 0)
        {
            throw new XskException(-Vm.Maps.Errno.EINVAL, $"ring size {entries} is not a power of two (xsk_init_queue: -EINVAL)");
        }

        Entries = entries;
        DescSize = descSize;
        Length = (nuint)(XskConstants.DescOffset + ((long)entries * descSize));
        _base = (byte*)NativeMemory.AlignedAlloc(Length, 64);
        NativeMemory.Clear(_base, Length);
    }

    /// <summary>nentries.</summary>
    public uint Entries { get; }

    /// <summary>ring_mask.</summary>
    public uint Mask => Entries - 1;

    /// <summary>Bytes per descriptor (8 or 16).</summary>
    public int DescSize { get; }

    /// <summary>Bytes mapped.</summary>
    public nuint Length { get; }

    /// <summary>The start of the mapping.</summary>
    public byte* Base => _base;

    /// <summary>The shared producer index.</summary>
    public ref uint Producer => ref *(uint*)(_base + XskConstants.ProducerOffset);

    /// <summary>The shared consumer index.</summary>
    public ref uint Consumer => ref *(uint*)(_base + XskConstants.ConsumerOffset);

    /// <summary>The shared flags word (XDP_RING_NEED_WAKEUP).</summary>
    public ref uint Flags => ref *(uint*)(_base + XskConstants.FlagsOffset);

    /// <summary>Address slot <paramref name="idx"/> &amp; mask (fill and completion rings).</summary>
    public ref ulong Addr(uint idx) => ref ((ulong*)(_base + XskConstants.DescOffset))[idx & Mask];

    /// <summary>Descriptor slot <paramref name="idx"/> &amp; mask (RX and TX rings).</summary>
    public ref XskDesc Desc(uint idx) => ref ((XskDesc*)(_base + XskConstants.DescOffset))[idx & Mask];

    /// <summary>Frees the mapping.</summary>
    public void Dispose()
    {
        if (_base != null)
        {
            NativeMemory.AlignedFree(_base);
            _base = null;
        }
    }
}
