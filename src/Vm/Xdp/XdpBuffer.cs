using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Xdp;

/// <summary>One XDP frame laid out as BPF_PROG_TEST_RUN lays it out (the kernel's <c>struct xdp_buff</c> plus its
/// page), with the packet helpers' kernel semantics: adjust_head, adjust_meta, adjust_tail, get_buff_len,
/// load_bytes, store_bytes.</summary>
/// <remarks>
/// <para>kernel: <c>bpf_prog_test_run_xdp()</c> in net/bpf/test_run.c. The frame is one 4096-byte page
/// (frame_sz = PAGE_SIZE), zeroed, with the packet at XDP_PACKET_HEADROOM:</para>
/// <code>
///  hard_start      +40                 +256                                 +3776          +4096
///  |  xdp_frame    |   free headroom   | data_meta=data ... data_end | tailroom |  skb_shared_info (320) |
/// </code>
/// <para>Up to 3520 bytes (4096 - 256 - 320) go in the page; the rest of a longer frame goes in fragments of
/// one page each (at most MAX_SKB_FRAGS = 17, so a frame has at most 73152 bytes), which a program reaches
/// only through the helpers. A frame shorter than ETH_HLEN (14) is refused with -EINVAL, a longer one than
/// fits with -ENOMEM, as BPF_PROG_TEST_RUN refuses them. The checked packet region is exactly
/// [data_meta, data_end).</para>
/// <para>One instance is reused frame after frame; its memory is pinned and never moves.</para>
/// </remarks>
public sealed unsafe class XdpBuffer
{
    /// <summary>XDP_PACKET_HEADROOM.</summary>
    public const int PacketHeadroom = 256;

    /// <summary>The frame size: PAGE_SIZE (frame_sz, and the rx queue's frag_size, in BPF_PROG_TEST_RUN).</summary>
    public const int FrameSize = 4096;

    /// <summary>SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86_64: the tailroom the page reserves.</summary>
    public const int SharedInfoSize = 320;

    /// <summary>sizeof(struct xdp_frame): the start of the page that adjust_head and adjust_meta may not reach.</summary>
    public const int XdpFrameSize = 40;

    /// <summary>The most packet bytes the page holds: 4096 - 256 - 320.</summary>
    public const int MaxLinearSize = FrameSize - PacketHeadroom - SharedInfoSize;

    /// <summary>MAX_SKB_FRAGS.</summary>
    public const int MaxFrags = 17;

    /// <summary>The longest frame BPF_PROG_TEST_RUN accepts: the page plus 17 one-page fragments.</summary>
    public const int MaxFrameSize = MaxLinearSize + (MaxFrags * FrameSize);

    /// <summary>ETH_HLEN: the shortest frame, and what adjust_head and adjust_tail leave at least.</summary>
    public const int EthHeaderLength = 14;

    /// <summary>The largest metadata length <c>xdp_metalen_invalid()</c> allows before alignment (u8 meta_len).</summary>
    public const int MaxMetaLength = 255;

    // The page: 4096 bytes at a 4096-byte boundary inside a pinned array (kmalloc-4k pages are page aligned).
    private readonly byte[] _page = GC.AllocateArray<byte>(2 * FrameSize, pinned: true);
    private readonly int _pageOffset;
    private readonly ulong _ownHardStart;
    private bool _inPlace;
    private byte[]? _metaCopy;
    private readonly int[] _fragSize = new int[MaxFrags];
    private byte[]? _frags;
    private byte[]? _joined;
    private int _fragCount;
    private int _fragsSize;

    /// <summary>Creates an empty buffer.</summary>
    public XdpBuffer()
    {
        ulong start = (ulong)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_page));
        ulong aligned = (start + FrameSize - 1) & ~(ulong)(FrameSize - 1);
        _pageOffset = (int)(aligned - start);
        HardStart = _ownHardStart = aligned;
        Data = DataMeta = DataEnd = aligned + PacketHeadroom;
        Context.Set(Data, DataEnd, 1, 0);
    }

    /// <summary>The xdp_md the program sees (it follows every adjustment).</summary>
    public XdpContext Context { get; } = new();

    /// <summary>data_hard_start: the page.</summary>
    public ulong HardStart { get; private set; }

    /// <summary>True after <see cref="LoadInPlace"/>: the frame is the caller's page, not the buffer's own.</summary>
    public bool InPlace => _inPlace;

    /// <summary>The end a linear packet may reach: data_hard_start + frame_sz - the shared info (<c>xdp_data_hard_end</c>).</summary>
    public ulong HardEnd => HardStart + FrameSize - SharedInfoSize;

    /// <summary>data: the first packet byte.</summary>
    public ulong Data { get; private set; }

    /// <summary>data_meta: the first metadata byte (equal to <see cref="Data"/> when there is none).</summary>
    public ulong DataMeta { get; private set; }

    /// <summary>data_end: one past the last byte in the page.</summary>
    public ulong DataEnd { get; private set; }

    /// <summary>Bytes in the page: data_end - data.</summary>
    public int LinearLength => (int)(DataEnd - Data);

    /// <summary>Metadata bytes: data - data_meta.</summary>
    public int MetaLength => (int)(Data - DataMeta);

    /// <summary>True when part of the frame is in fragments (XDP_FLAGS_HAS_FRAGS).</summary>
    public bool HasFrags => _fragCount > 0;

    /// <summary>Number of fragments (sinfo->nr_frags).</summary>
    public int FragCount => _fragCount;

    /// <summary>Bytes in fragments (sinfo->xdp_frags_size).</summary>
    public int FragsSize => _fragsSize;

    /// <summary>The whole frame's length: bpf_xdp_get_buff_len.</summary>
    public int BuffLength => LinearLength + _fragsSize;

    /// <summary>The checked region a program may touch: exactly [data_meta, data_end).</summary>
    public MemoryRegion PacketRegion => new(DataMeta, DataEnd - DataMeta, RegionKind.Packet, Writable: true, "packet");

    /// <summary>The metadata bytes [data_meta, data); valid until the buffer changes.</summary>
    public ReadOnlyMemory<byte> Meta
    {
        get
        {
            if (!_inPlace)
            {
                return new(_page, Offset(DataMeta), MetaLength);
            }

            _metaCopy ??= new byte[MaxMetaLength + 1];
            new ReadOnlySpan<byte>((void*)DataMeta, MetaLength).CopyTo(_metaCopy);
            return new(_metaCopy, 0, MetaLength);
        }
    }

    /// <summary>The packet bytes from data to the end of the frame (fragments included); valid until the buffer changes.</summary>
    public ReadOnlyMemory<byte> Packet
    {
        get
        {
            if (_fragCount == 0 && !_inPlace)
            {
                return new ReadOnlyMemory<byte>(_page, Offset(Data), LinearLength);
            }

            _joined ??= new byte[MaxFrameSize + FrameSize];
            int n = BuffLength;
            CopyOut(0, _joined.AsSpan(0, n));
            return new ReadOnlyMemory<byte>(_joined, 0, n);
        }
    }

    /// <summary>
    /// Loads <paramref name="frame"/> as BPF_PROG_TEST_RUN does: 0, or -EINVAL for a frame shorter than ETH_HLEN,
    /// or -ENOMEM for one longer than <see cref="MaxFrameSize"/>. The buffer is unchanged when the frame is refused.
    /// </summary>
    public int Load(ReadOnlySpan<byte> frame, uint ingressIfindex, uint rxQueueIndex)
    {
        if (frame.Length < EthHeaderLength)
        {
            return -Errno.EINVAL;
        }

        if (frame.Length > MaxFrameSize)
        {
            return -Errno.ENOMEM;
        }

        // kzalloc: the whole page starts zeroed, headroom and tailroom included.
        HardStart = _ownHardStart;
        _inPlace = false;
        var page = _page.AsSpan(_pageOffset, FrameSize);
        page.Clear();
        int linear = Math.Min(frame.Length, MaxLinearSize);
        frame[..linear].CopyTo(page[PacketHeadroom..]);

        Array.Clear(_fragSize);
        _fragCount = 0;
        _fragsSize = 0;
        if (frame.Length > linear)
        {
            _frags ??= GC.AllocateArray<byte>(MaxFrags * FrameSize, pinned: true);
            int at = linear;
            while (at < frame.Length)
            {
                int n = Math.Min(frame.Length - at, FrameSize);
                var fragPage = _frags.AsSpan(_fragCount * FrameSize, FrameSize);
                frame.Slice(at, n).CopyTo(fragPage);
                fragPage[n..].Clear();
                _fragSize[_fragCount++] = n;
                _fragsSize += n;
                at += n;
            }
        }

        Data = DataMeta = HardStart + PacketHeadroom;
        DataEnd = Data + (ulong)linear;
        Context.Set(Data, DataEnd, ingressIfindex, rxQueueIndex);
        return 0;
    }

    /// <summary>
    /// Points the buffer at a frame that lives in the caller's memory, as a driver's receive path hands its page to
    /// the program (no copy, nothing cleared): <paramref name="hardStart"/> is data_hard_start of a
    /// <see cref="FrameSize"/>-byte page the caller keeps alive and does not move until the next load, the packet is
    /// the <paramref name="length"/> bytes at <paramref name="headroom"/>, there are no fragments and no metadata.
    /// The helpers that move the packet's bounds work on that page, with the same limits as on the buffer's own
    /// (the xdp_frame at the start, the shared info at the end); afterwards <see cref="Data"/> - <see cref="HardStart"/>
    /// is the frame's new headroom and <see cref="LinearLength"/> its length.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The packet does not fit between the xdp_frame and the shared
    /// info, or <paramref name="hardStart"/> is null.</exception>
    public void LoadInPlace(nint hardStart, int headroom, int length, uint ingressIfindex, uint rxQueueIndex)
    {
        // kernel: xdp_init_buff() + xdp_prepare_buff() in a driver's receive path (veth_xdp_rcv_one(), i40e).
        if (hardStart == 0)
        {
            ThrowBadFrame(nameof(hardStart));
        }

        if ((uint)headroom < XdpFrameSize || length < 0 || headroom + length > FrameSize - SharedInfoSize)
        {
            ThrowBadFrame(nameof(length));
        }

        if (_fragCount != 0)
        {
            Array.Clear(_fragSize);
            _fragCount = 0;
            _fragsSize = 0;
        }

        _inPlace = true;
        HardStart = (ulong)hardStart;
        Data = DataMeta = HardStart + (ulong)headroom;
        DataEnd = Data + (ulong)length;
        Context.Set(Data, DataEnd, ingressIfindex, rxQueueIndex);
    }

    /// <summary>bpf_xdp_adjust_head: moves data by <paramref name="offset"/> (negative grows the packet at the front);
    /// the metadata moves along. 0, or -EINVAL when data would pass the xdp_frame plus the metadata, or leave fewer
    /// than ETH_HLEN bytes before data_end.</summary>
    public long AdjustHead(int offset)
    {
        // kernel: bpf_xdp_adjust_head()
        long metaLength = (long)(Data - DataMeta);
        long dataStart = (long)HardStart + XdpFrameSize + metaLength;
        long data = (long)Data + offset;
        if (data < dataStart || data > (long)DataEnd - EthHeaderLength)
        {
            return -Errno.EINVAL;
        }

        if (metaLength != 0)
        {
            Buffer.MemoryCopy((void*)DataMeta, (void*)(ulong)((long)DataMeta + offset), metaLength, metaLength);
        }

        DataMeta = (ulong)((long)DataMeta + offset);
        Data = (ulong)data;
        Sync();
        return 0;
    }

    /// <summary>bpf_xdp_adjust_meta: moves data_meta by <paramref name="offset"/> (negative grows the metadata).
    /// 0; -EINVAL when data_meta would pass the xdp_frame or data; -EACCES when the metadata length would not be
    /// a multiple of 4 or exceed 255.</summary>
    public long AdjustMeta(int offset)
    {
        // kernel: bpf_xdp_adjust_meta(); xdp_metalen_invalid()
        long frameEnd = (long)HardStart + XdpFrameSize;
        long meta = (long)DataMeta + offset;
        if (meta < frameEnd || meta > (long)Data)
        {
            return -Errno.EINVAL;
        }

        long metaLength = (long)Data - meta;
        if ((metaLength & 3) != 0 || metaLength > MaxMetaLength)
        {
            return -Errno.EACCES;
        }

        DataMeta = (ulong)meta;
        Sync();
        return 0;
    }

    /// <summary>bpf_xdp_adjust_tail: moves the end of the frame by <paramref name="offset"/>. Grown bytes are zeroed.
    /// Linear frame: -EINVAL past data_hard_end (data_hard_start + 4096 - 320) or below data + ETH_HLEN. With
    /// fragments the last fragment grows up to the end of its page, and shrinking frees whole fragments from the end
    /// and may reach into the page; -EINVAL when that would leave fewer than ETH_HLEN bytes.</summary>
    public long AdjustTail(int offset)
    {
        // kernel: bpf_xdp_adjust_tail()
        if (_fragCount > 0)
        {
            return offset < 0 ? ShrinkFrags(-(long)offset) : GrowLastFrag(offset);
        }

        long dataEnd = (long)DataEnd + offset;
        if (dataEnd > (long)HardEnd || dataEnd < (long)Data + EthHeaderLength)
        {
            return -Errno.EINVAL;
        }

        if (offset > 0)
        {
            new Span<byte>((void*)DataEnd, offset).Clear();
        }

        DataEnd = (ulong)dataEnd;
        Sync();
        return 0;
    }

    /// <summary>Checks a bpf_xdp_load_bytes / bpf_xdp_store_bytes range: 0, -EFAULT when offset or length exceeds
    /// 0xffff, -EINVAL when the range passes the end of the frame (kernel: <c>bpf_xdp_pointer()</c>).</summary>
    public long CheckRange(uint offset, uint length)
    {
        if (offset > 0xffff || length > 0xffff)
        {
            return -Errno.EFAULT;
        }

        return offset + length > (uint)BuffLength ? -Errno.EINVAL : 0;
    }

    /// <summary>Copies frame bytes from <paramref name="offset"/> (counted from data, across fragments) into
    /// <paramref name="destination"/>; the range must be valid (<see cref="CheckRange"/>).</summary>
    public void CopyOut(int offset, Span<byte> destination)
    {
        if (!TryCopySmall(offset, ref MemoryMarshal.GetReference(destination), destination.Length, toFrame: false))
        {
            Copy(offset, destination, default, toFrame: false);
        }
    }

    /// <summary>Copies <paramref name="source"/> into the frame at <paramref name="offset"/> (counted from data, across
    /// fragments); the range must be valid (<see cref="CheckRange"/>).</summary>
    public void CopyIn(int offset, ReadOnlySpan<byte> source)
    {
        if (!TryCopySmall(offset, ref MemoryMarshal.GetReference(source), source.Length, toFrame: true))
        {
            Copy(offset, default, source, toFrame: true);
        }
    }

    // The common helper copy (bpf_xdp_load_bytes / store_bytes of a few bytes inside the linear part): byte by byte,
    // without the general copy's set-up, when the range lies in the page and the buffers do not overlap.
    private bool TryCopySmall(int offset, ref readonly byte other, int length, bool toFrame)
    {
        const int Small = 16;
        if (length > Small || (ulong)(uint)offset + (ulong)length > DataEnd - Data)
        {
            return false;
        }

        byte* frame = (byte*)(Data + (ulong)offset);
        fixed (byte* buffer = &other)
        {
            if (buffer < frame + length && frame < buffer + length)
            {
                return false;
            }

            byte* from = toFrame ? buffer : frame;
            byte* to = toFrame ? frame : buffer;
            for (int i = 0; i < length; i++)
            {
                to[i] = from[i];
            }
        }

        return true;
    }

    private void Copy(int offset, Span<byte> outward, ReadOnlySpan<byte> inward, bool toFrame)
    {
        // kernel: bpf_xdp_copy_buf(): the page first, then each fragment in turn.
        int length = toFrame ? inward.Length : outward.Length;
        int done = 0;
        int linear = LinearLength;
        if (offset < linear)
        {
            int n = Math.Min(linear - offset, length);
            var span = new Span<byte>((void*)(Data + (ulong)offset), n);
            if (toFrame)
            {
                inward[..n].CopyTo(span);
            }
            else
            {
                span.CopyTo(outward);
            }

            done = n;
            offset = 0;
        }
        else
        {
            offset -= linear;
        }

        for (int i = 0; i < _fragCount && done < length; i++)
        {
            int size = _fragSize[i];
            if (offset >= size)
            {
                offset -= size;
                continue;
            }

            int n = Math.Min(size - offset, length - done);
            var span = _frags.AsSpan((i * FrameSize) + offset, n);
            if (toFrame)
            {
                inward.Slice(done, n).CopyTo(span);
            }
            else
            {
                span.CopyTo(outward[done..]);
            }

            done += n;
            offset = 0;
        }
    }

    // kernel: bpf_xdp_frags_increase_tail(): tailroom = frag_size (PAGE_SIZE) - size - page offset (0).
    private long GrowLastFrag(int offset)
    {
        int last = _fragCount - 1;
        int tailroom = FrameSize - _fragSize[last];
        if (offset > tailroom)
        {
            return -Errno.EINVAL;
        }

        _frags.AsSpan((last * FrameSize) + _fragSize[last], offset).Clear();
        _fragSize[last] += offset;
        _fragsSize += offset;
        return 0;
    }

    // kernel: bpf_xdp_frags_shrink_tail(): whole fragments go from the end; what is left comes off the page.
    private long ShrinkFrags(long offset)
    {
        if (offset > BuffLength - EthHeaderLength)
        {
            return -Errno.EINVAL;
        }

        while (_fragCount > 0 && offset > 0)
        {
            int last = _fragCount - 1;
            int shrink = (int)Math.Min(offset, _fragSize[last]);
            offset -= shrink;
            _fragsSize -= shrink;
            if (shrink == _fragSize[last])
            {
                _fragSize[last] = 0;
                _fragCount--;
            }
            else
            {
                _fragSize[last] -= shrink;
                break;
            }
        }

        if (_fragCount == 0 && offset > 0)
        {
            DataEnd -= (ulong)offset;
            Sync();
        }

        return 0;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowBadFrame(string name) =>
        throw new ArgumentOutOfRangeException(name, $"an in-place frame needs {XdpFrameSize} bytes of headroom at least and must end {SharedInfoSize} bytes before the end of its {FrameSize}-byte page");

    private int Offset(ulong address) => _pageOffset + (int)(address - HardStart);

    private void Sync() => Context.Update(DataMeta, Data, DataEnd);
}
