using System.Buffers.Binary;
using System.Numerics;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Maps;

/// <summary>BPF_MAP_TYPE_LPM_TRIE (kernel/bpf/lpm_trie.c): longest-prefix match on keys
/// <c>struct bpf_lpm_trie_key_u8 { u32 prefixlen; u8 data[]; }</c>.</summary>
/// <remarks>
/// <para>The trie is the kernel's: a binary tree of nodes holding a prefix (prefixlen and the key's data bytes as
/// given, bits past the prefix included), each either a real node with a value or an intermediate node
/// (LPM_TREE_NODE_FLAG_IM) with exactly two children; a node's children extend its prefix by one more bit, chosen by
/// the bit at index prefixlen (most significant bit of data[0] first). Insertion, deletion (a deleted node with two
/// children becomes intermediate; an intermediate parent left with one child is removed) and get_next_key (postorder:
/// more specific prefixes before less specific ones, left before right) follow lpm_trie.c, so the key order user
/// space sees is the kernel's.</para>
/// <para>Values live in one native block of max_entries slots; a key's value keeps its slot when updated (the kernel
/// allocates a new node: a pointer a program kept would then see the old value).</para>
/// <para>Errors: prefixlen past data_size * 8 is -EINVAL; a new prefix in a full trie is -ENOSPC; BPF_NOEXIST on an
/// existing prefix -EEXIST; BPF_EXIST on a missing one -ENOENT; deleting a missing prefix -ENOENT.</para>
/// </remarks>
public sealed unsafe class LpmTrieMap : BpfMap
{
    private const int NoNode = -1;

    private readonly int _dataSize;
    private readonly uint _maxPrefixLen;
    private readonly int _valueSize;
    private readonly int _stride;
    private readonly NativeBlock _values;
    private readonly MemoryRegion[] _regions;

    // node pool: children, prefix length, intermediate flag, data bytes, value slot
    private readonly int[] _child0;
    private readonly int[] _child1;
    private readonly uint[] _prefixLen;
    private readonly bool[] _im;
    private readonly byte[] _data;
    private readonly int[] _valueSlot;
    private readonly int[] _freeNodes;
    private readonly int[] _freeSlots;
    private readonly int[] _stack;
    private int _freeNodeCount;
    private int _freeSlotCount;
    private int _root = NoNode;

    internal LpmTrieMap(MapSpec spec, int possibleCpus)
        : base(spec, possibleCpus)
    {
        _dataSize = (int)spec.KeySize - 4;
        _maxPrefixLen = (uint)_dataSize * 8;
        _valueSize = (int)spec.ValueSize;
        _stride = MapValue.RoundUp8(_valueSize);
        int max = (int)spec.MaxEntries;

        // real nodes <= max_entries; intermediate nodes have two children each, so fewer than the real ones
        int nodes = checked((2 * max) + 1);
        _child0 = new int[nodes];
        _child1 = new int[nodes];
        _prefixLen = new uint[nodes];
        _im = new bool[nodes];
        _data = new byte[(long)nodes * _dataSize];
        _valueSlot = new int[nodes];
        _freeNodes = new int[nodes];
        for (int i = nodes - 1; i >= 0; i--)
        {
            _freeNodes[_freeNodeCount++] = i;
        }

        _freeSlots = new int[max];
        for (int i = max - 1; i >= 0; i--)
        {
            _freeSlots[_freeSlotCount++] = i;
        }

        _stack = new int[_maxPrefixLen + 2];
        _values = new NativeBlock((ulong)_stride * (ulong)max);
        bool writable = (spec.Flags & MapFlags.RdonlyProg) == 0 && !spec.Frozen;
        _regions = [new MemoryRegion(_values.Address, _values.Length, RegionKind.MapValue, writable, "map " + Name + " values")];
    }

    /// <inheritdoc/>
    public override IReadOnlyList<MemoryRegion> ValueRegions => _regions;

    /// <summary>Number of prefixes stored (n_entries).</summary>
    public int Count { get; private set; }

    /// <inheritdoc/>
    public override ulong Lookup(ReadOnlySpan<byte> key, int cpu)
    {
        // kernel: trie_lookup_elem
        uint prefixLen = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (prefixLen > _maxPrefixLen)
        {
            return 0;
        }

        var data = key.Slice(4, _dataSize);
        int found = NoNode;
        for (int node = _root; node != NoNode;)
        {
            uint match = MatchLen(node, prefixLen, data);
            if (match == _maxPrefixLen)
            {
                found = node;
                break;
            }

            if (match < _prefixLen[node])
            {
                break;
            }

            if (!_im[node])
            {
                found = node;
            }

            node = ExtractBit(data, _prefixLen[node]) ? _child1[node] : _child0[node];
        }

        return found == NoNode ? 0 : SlotAddress(_valueSlot[found]);
    }

    /// <inheritdoc/>
    public override long Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu)
    {
        // kernel: trie_update_elem
        if (flags > MapUpdateFlags.Exist)
        {
            return -Errno.EINVAL;
        }

        uint prefixLen = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (prefixLen > _maxPrefixLen)
        {
            return -Errno.EINVAL;
        }

        var data = key.Slice(4, _dataSize);

        // Find the slot to attach the new node: walk while the node is a strict prefix of the key.
        int parent = NoNode;
        bool right = false;
        int node = _root;
        uint match = 0;
        while (node != NoNode)
        {
            match = MatchLen(node, prefixLen, data);
            if (_prefixLen[node] != match || _prefixLen[node] == prefixLen)
            {
                break;
            }

            parent = node;
            right = ExtractBit(data, _prefixLen[node]);
            node = right ? _child1[node] : _child0[node];
        }

        if (node == NoNode)
        {
            int rc = CheckAddElem(flags);
            if (rc != 0)
            {
                return rc;
            }

            SetSlot(parent, right, NewRealNode(prefixLen, data, value));
            return 0;
        }

        if (_prefixLen[node] == match)
        {
            // The exact prefix exists: a real node is replaced (we update its value in place), an intermediate one
            // becomes real.
            if (!_im[node])
            {
                if (flags == MapUpdateFlags.NoExist)
                {
                    return -Errno.EEXIST;
                }

                data.CopyTo(DataOf(node));
                value.Slice(0, _valueSize).CopyTo(SlotSpan(_valueSlot[node]));
                return 0;
            }

            int rc = CheckAddElem(flags);
            if (rc != 0)
            {
                return rc;
            }

            _im[node] = false;
            _valueSlot[node] = _freeSlots[--_freeSlotCount];
            data.CopyTo(DataOf(node));
            WriteValue(_valueSlot[node], value);
            return 0;
        }

        int ret = CheckAddElem(flags);
        if (ret != 0)
        {
            return ret;
        }

        int added = NewRealNode(prefixLen, data, value);
        if (match == prefixLen)
        {
            // The new prefix covers the node: insert it above.
            if (ExtractBit(DataOf(node), match))
            {
                _child1[added] = node;
            }
            else
            {
                _child0[added] = node;
            }

            SetSlot(parent, right, added);
            return 0;
        }

        // Split: an intermediate node at the common prefix, with the node and the new one as children.
        int im = AllocNode();
        _prefixLen[im] = match;
        _im[im] = true;
        DataOf(node).CopyTo(DataOf(im));
        if (ExtractBit(data, match))
        {
            _child0[im] = node;
            _child1[im] = added;
        }
        else
        {
            _child0[im] = added;
            _child1[im] = node;
        }

        SetSlot(parent, right, im);
        return 0;
    }

    /// <inheritdoc/>
    public override long Delete(ReadOnlySpan<byte> key)
    {
        // kernel: trie_delete_elem
        uint prefixLen = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (prefixLen > _maxPrefixLen)
        {
            return -Errno.EINVAL;
        }

        var data = key.Slice(4, _dataSize);
        int grandparent = NoNode;
        bool parentRight = false;
        int parent = NoNode;
        bool right = false;
        int node = _root;
        uint match = 0;
        while (node != NoNode)
        {
            match = MatchLen(node, prefixLen, data);
            if (_prefixLen[node] != match || _prefixLen[node] == prefixLen)
            {
                break;
            }

            grandparent = parent;
            parentRight = right;
            parent = node;
            right = ExtractBit(data, _prefixLen[node]);
            node = right ? _child1[node] : _child0[node];
        }

        if (node == NoNode || _prefixLen[node] != prefixLen || _prefixLen[node] != match || _im[node])
        {
            return -Errno.ENOENT;
        }

        Count--;
        FreeSlot(node);

        // Two children: the node stays as an intermediate node.
        if (_child0[node] != NoNode && _child1[node] != NoNode)
        {
            _im[node] = true;
            return 0;
        }

        // A leaf under an intermediate parent: the parent goes too, its other child takes its place.
        if (parent != NoNode && _im[parent] && _child0[node] == NoNode && _child1[node] == NoNode)
        {
            int sibling = _child0[parent] == node ? _child1[parent] : _child0[parent];
            SetSlot(grandparent, parentRight, sibling);
            FreeNode(parent);
            FreeNode(node);
            return 0;
        }

        // Zero or one child: the child (or nothing) takes the node's place.
        SetSlot(parent, right, _child0[node] != NoNode ? _child0[node] : _child1[node]);
        FreeNode(node);
        return 0;
    }

    /// <inheritdoc/>
    public override int UserLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!UserCanRead)
        {
            return -Errno.EPERM;
        }

        ulong addr = Lookup(key, 0);
        if (addr == 0)
        {
            return -Errno.ENOENT;
        }

        new ReadOnlySpan<byte>((void*)addr, _valueSize).CopyTo(value);
        return 0;
    }

    /// <inheritdoc/>
    public override int UserUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        if (!UserCanWrite)
        {
            return -Errno.EPERM;
        }

        return (flags & MapUpdateFlags.Lock) != 0 ? -Errno.EINVAL : (int)Update(key, value, flags, UserCpu);
    }

    /// <inheritdoc/>
    public override int UserDelete(ReadOnlySpan<byte> key) => UserCanWrite ? (int)Delete(key) : -Errno.EPERM;

    /// <inheritdoc/>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        // kernel: trie_get_next_key (postorder)
        if (!UserCanRead)
        {
            return -Errno.EPERM;
        }

        int searchRoot = _root;
        if (searchRoot == NoNode)
        {
            return -Errno.ENOENT;
        }

        int next = NoNode;
        uint prefixLen = key.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(key) : uint.MaxValue;
        if (prefixLen <= _maxPrefixLen)
        {
            var data = key.Slice(4, _dataSize);
            int sp = -1;
            int node = searchRoot;
            uint match = 0;
            while (node != NoNode)
            {
                _stack[++sp] = node;
                match = MatchLen(node, prefixLen, data);
                if (_prefixLen[node] != match || _prefixLen[node] == prefixLen)
                {
                    break;
                }

                node = ExtractBit(data, _prefixLen[node]) ? _child1[node] : _child0[node];
            }

            if (node != NoNode && _prefixLen[node] == match && !_im[node])
            {
                // The key exists: the next node in postorder.
                node = _stack[sp];
                searchRoot = NoNode;
                while (sp > 0)
                {
                    int parent = _stack[sp - 1];
                    if (_child0[parent] == node && _child1[parent] != NoNode)
                    {
                        searchRoot = _child1[parent];
                        break;
                    }

                    if (!_im[parent])
                    {
                        next = parent;
                        break;
                    }

                    node = parent;
                    sp--;
                }

                if (next == NoNode && searchRoot == NoNode)
                {
                    return -Errno.ENOENT;
                }
            }
        }

        if (next == NoNode)
        {
            // The leftmost real node under searchRoot (intermediate nodes always have two children).
            for (int node = searchRoot; node != NoNode;)
            {
                if (_im[node])
                {
                    node = _child0[node];
                }
                else
                {
                    next = node;
                    node = _child0[node] != NoNode ? _child0[node] : _child1[node];
                }
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(nextKey, _prefixLen[next]);
        DataOf(next).CopyTo(nextKey.Slice(4, _dataSize));
        return 0;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _values.Dispose();
        }

        base.Dispose(disposing);
    }

    private int CheckAddElem(ulong flags)
    {
        // kernel: trie_check_add_elem
        if (flags == MapUpdateFlags.Exist)
        {
            return -Errno.ENOENT;
        }

        if (Count == (int)Spec.MaxEntries)
        {
            return -Errno.ENOSPC;
        }

        Count++;
        return 0;
    }

    private Span<byte> DataOf(int node) => _data.AsSpan(node * _dataSize, _dataSize);

    private ulong SlotAddress(int slot) => _values.Address + ((ulong)slot * (ulong)_stride);

    private Span<byte> SlotSpan(int slot) => new((void*)SlotAddress(slot), _valueSize);

    private void WriteValue(int slot, ReadOnlySpan<byte> value)
    {
        var dst = new Span<byte>((void*)SlotAddress(slot), _stride);
        dst.Clear();
        value.Slice(0, _valueSize).CopyTo(dst);
    }

    private int AllocNode()
    {
        int node = _freeNodes[--_freeNodeCount];
        _child0[node] = NoNode;
        _child1[node] = NoNode;
        _im[node] = false;
        _valueSlot[node] = -1;
        return node;
    }

    private int NewRealNode(uint prefixLen, ReadOnlySpan<byte> data, ReadOnlySpan<byte> value)
    {
        int node = AllocNode();
        _prefixLen[node] = prefixLen;
        data.CopyTo(DataOf(node));
        _valueSlot[node] = _freeSlots[--_freeSlotCount];
        WriteValue(_valueSlot[node], value);
        return node;
    }

    private void FreeSlot(int node)
    {
        if (_valueSlot[node] >= 0)
        {
            _freeSlots[_freeSlotCount++] = _valueSlot[node];
            _valueSlot[node] = -1;
        }
    }

    private void FreeNode(int node)
    {
        FreeSlot(node);
        _freeNodes[_freeNodeCount++] = node;
    }

    private void SetSlot(int parent, bool right, int node)
    {
        if (parent == NoNode)
        {
            _root = node;
        }
        else if (right)
        {
            _child1[parent] = node;
        }
        else
        {
            _child0[parent] = node;
        }
    }

    private static bool ExtractBit(ReadOnlySpan<byte> data, uint index) =>
        (data[(int)(index / 8)] & (1 << (7 - (int)(index % 8)))) != 0;

    private uint MatchLen(int node, uint keyPrefixLen, ReadOnlySpan<byte> keyData)
    {
        // kernel: __longest_prefix_match: leading equal bits, at most min(node prefixlen, key prefixlen)
        uint limit = Math.Min(_prefixLen[node], keyPrefixLen);
        var nodeData = DataOf(node);
        uint bits = 0;
        for (int i = 0; i < _dataSize && bits < limit; i++)
        {
            int diff = nodeData[i] ^ keyData[i];
            if (diff != 0)
            {
                bits += (uint)BitOperations.LeadingZeroCount((uint)diff) - 24;
                break;
            }

            bits += 8;
        }

        return Math.Min(bits, limit);
    }
}
