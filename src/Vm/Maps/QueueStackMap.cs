using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO) (kernel/bpf/queue_stack_maps.c).</summary>
/// <remarks>
/// A ring of max_entries + 1 values with head and tail indices, as the kernel keeps it. Push with BPF_ANY into a
/// full map is -E2BIG; with BPF_EXIST it overwrites the oldest element (for a stack too: the bottom one); BPF_NOEXIST
/// or unknown flags are -EINVAL. Pop and peek of an empty map are -ENOENT and zero the destination. Keys do not exist:
/// lookups from programs return 0, update and delete are -EINVAL; user space reads with lookup (peek), writes with
/// update (push) and pops with lookup-and-delete.
/// </remarks>
public sealed class QueueStackMap : BpfMap
{
    private readonly byte[] _elements;
    private readonly int _valueSize;
    private readonly uint _size;
    private readonly bool _stack;
    private uint _head;
    private uint _tail;

    internal QueueStackMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        _stack = spec.Type == MapType.Stack;
        _valueSize = (int)spec.ValueSize;
        _size = spec.MaxEntries + 1;
        _elements = new byte[(long)_size * _valueSize];
    }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => [];

    /// <summary>Number of elements.</summary>
    public int Count => (int)((_head + _size - _tail) % _size);

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu) => 0;

    /// <inheritdoc/>
    public override long Push(ReadOnlySpan<byte> value, ulong flags)
    {
        // kernel: queue_stack_map_push_elem
        bool replace = (flags & MapUpdateFlags.Exist) != 0;
        if ((flags & MapUpdateFlags.NoExist) != 0 || flags > MapUpdateFlags.Exist)
        {
            return -Errno.EINVAL;
        }

        if (IsFull)
        {
            if (!replace)
            {
                return -Errno.E2BIG;
            }

            // advance the tail to overwrite the oldest element
            if (++_tail >= _size)
            {
                _tail = 0;
            }
        }

        value.Slice(0, _valueSize).CopyTo(_elements.AsSpan((int)(_head * _valueSize), _valueSize));
        if (++_head >= _size)
        {
            _head = 0;
        }

        return 0;
    }

    /// <inheritdoc/>
    public override long Pop(Span<byte> value) => Get(value, delete: true);

    /// <inheritdoc/>
    public override long Peek(Span<byte> value) => Get(value, delete: false);

    /// <inheritdoc/>
    public override int UserKeySize => 0;

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value) =>
        UserCanRead ? (int)Get(value, delete: false) : -Errno.EPERM;

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) =>
        UserCanWrite ? (int)Push(value, flags) : -Errno.EPERM;

    /// <inheritdoc/>
    public override int UserLookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value) =>
        UserCanRead && UserCanWrite ? (int)Get(value, delete: true) : -Errno.EPERM;

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => -Errno.EINVAL;

    /// <summary>The values in pop order, keys empty; the map is unchanged.</summary>
    public override IEnumerable<(byte[] Key, byte[] Value)> Entries()
    {
        int n = Count;
        var result = new List<(byte[], byte[])>(n);
        for (int i = 0; i < n; i++)
        {
            uint index = _stack ? (_head + _size - 1 - (uint)i) % _size : (_tail + (uint)i) % _size;
            result.Add(([], _elements.AsSpan((int)(index * _valueSize), _valueSize).ToArray()));
        }

        return result;
    }

    private bool IsFull
    {
        get
        {
            uint head = _head + 1;
            if (head >= _size)
            {
                head = 0;
            }

            return head == _tail;
        }
    }

    private long Get(Span<byte> value, bool delete)
    {
        // kernel: __queue_map_get / __stack_map_get
        var dst = value.Slice(0, _valueSize);
        if (_head == _tail)
        {
            dst.Clear();
            return -Errno.ENOENT;
        }

        uint index;
        if (_stack)
        {
            index = _head - 1;
            if (index >= _size)
            {
                index = _size - 1;
            }

            if (delete)
            {
                _head = index;
            }
        }
        else
        {
            index = _tail;
            if (delete && ++_tail >= _size)
            {
                _tail = 0;
            }
        }

        _elements.AsSpan((int)(index * _valueSize), _valueSize).CopyTo(dst);
        return 0;
    }
}
