using System.Runtime.InteropServices;

namespace VethXdp.Devices.Frames;

/// <summary>The frames every packet lives in: one native block, 4 KiB per frame (a page, as drivers' page pools give
/// them), the packet at <see cref="Headroom"/> (XDP_PACKET_HEADROOM). Register values a program sees are real
/// addresses inside it.</summary>
/// <remarks>The block is split into partitions, one per simulated CPU, each with its own free stack. A frame goes
/// back to the partition it came from; the simulator frees a frame only on the thread that owns that partition, so
/// no locks are needed. Allocation and free allocate nothing.</remarks>
public sealed unsafe class FramePool : IDisposable
{
    /// <summary>Bytes per frame: PAGE_SIZE.</summary>
    public const int FrameSize = 4096;

    /// <summary>XDP_PACKET_HEADROOM: where a received packet starts in its frame.</summary>
    public const int Headroom = 256;

    /// <summary>SKB_DATA_ALIGN(sizeof(struct skb_shared_info)): the tailroom a frame keeps free.</summary>
    public const int SharedInfoSize = 320;

    // Each partition's free count sits on its own cache line (stride 16 ints), and each free stack carries a cache
    // line of slack past its top, so CPUs on different worker threads never write a line another one uses.
    private const int CountStride = 16;
    private const int StackSlack = 32;

    private readonly int[][] _free;
    private readonly int[] _freeCount;

    // ceil(2^64 / FramesPerPartition): frame / FramesPerPartition as one multiplication (exact for 32-bit frames).
    private readonly ulong _partitionMultiplier;
    private byte* _base;

    /// <summary>Creates <paramref name="partitions"/> partitions of <paramref name="framesPerPartition"/> frames.</summary>
    public FramePool(int partitions, int framesPerPartition)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(framesPerPartition);
        Partitions = partitions;
        FramesPerPartition = framesPerPartition;
        _partitionMultiplier = framesPerPartition == 1 ? 0 : (ulong.MaxValue / (ulong)framesPerPartition) + 1;
        _base = (byte*)NativeMemory.AlignedAlloc((nuint)((long)partitions * framesPerPartition * FrameSize), FrameSize);
        _free = new int[partitions][];
        _freeCount = new int[(partitions + 1) * CountStride];
        for (int p = 0; p < partitions; p++)
        {
            var stack = new int[framesPerPartition + StackSlack];
            for (int i = 0; i < framesPerPartition; i++)
            {
                // lowest index on top, so runs reuse the same few frames (cache-warm, as page pools recycle)
                stack[i] = (p * framesPerPartition) + (framesPerPartition - 1 - i);
            }

            _free[p] = stack;
            _freeCount[(p + 1) * CountStride] = framesPerPartition;
        }
    }

    /// <summary>Number of partitions.</summary>
    public int Partitions { get; }

    /// <summary>Frames in each partition.</summary>
    public int FramesPerPartition { get; }

    /// <summary>The block's address.</summary>
    public byte* Base => _base;

    /// <summary>Frames of <paramref name="partition"/> not on its free stack.</summary>
    public int InUse(int partition) => FramesPerPartition - _freeCount[(partition + 1) * CountStride];

    /// <summary>A free frame of <paramref name="partition"/>, or -1 when it has none.</summary>
    public int Alloc(int partition)
    {
        ref int count = ref _freeCount[(partition + 1) * CountStride];
        int n = count;
        if (n == 0)
        {
            return -1;
        }

        count = n - 1;
        return _free[partition][n - 1];
    }

    /// <summary>Returns <paramref name="frame"/> to its partition (xdp_return_frame).</summary>
    public void Free(int frame)
    {
        int p = _partitionMultiplier == 0 ? frame : (int)Math.BigMul(_partitionMultiplier, (uint)frame, out _);
        ref int count = ref _freeCount[(p + 1) * CountStride];
        _free[p][count++] = frame;
    }

    /// <summary>The start of <paramref name="frame"/> (data_hard_start).</summary>
    public byte* FrameStart(int frame) => _base + ((long)frame * FrameSize);

    /// <summary>The packet bytes <paramref name="d"/> names.</summary>
    public Span<byte> Data(in XdpDesc d) => new(FrameStart(d.Frame) + d.Headroom, d.Length);

    /// <summary>Frees the block.</summary>
    public void Dispose()
    {
        if (_base != null)
        {
            NativeMemory.AlignedFree(_base);
            _base = null;
        }
    }
}
