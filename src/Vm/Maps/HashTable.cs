using System.Numerics;

namespace VethXdp.Vm.Maps;

/// <summary>The bucket index of a preallocated hash table, as kernel/bpf/hashtab.c keeps it: roundup_pow_of_two(max)
/// buckets chosen by jhash(key, seed) &amp; (n_buckets - 1), each a chain with the newest element first; elements are
/// slots 0..Capacity-1 whose keys live here (values live with the map).</summary>
/// <remarks>Lookups hash the key span and compare raw bytes: no allocation. An optional free list of slots serves the
/// non-LRU maps (the kernel's pcpu_freelist; which free slot is reused only changes addresses).</remarks>
internal sealed class HashTable
{
    private readonly int _keySize;
    private readonly byte[] _keys;
    private readonly uint[] _hashes;
    private readonly int[] _next;
    private readonly int[] _buckets;
    private readonly bool[] _linked;
    private readonly uint _mask;
    private readonly uint _seed;
    private readonly int[] _free;
    private int _freeCount;

    /// <summary>A table of <paramref name="capacity"/> slots over roundup_pow_of_two(<paramref name="maxEntries"/>) buckets.</summary>
    public HashTable(int keySize, int capacity, uint maxEntries, uint seed)
    {
        _keySize = keySize;
        _keys = new byte[(long)keySize * capacity];
        _hashes = new uint[capacity];
        _next = new int[capacity];
        _linked = new bool[capacity];
        uint buckets = BitOperations.RoundUpToPowerOf2(Math.Max(maxEntries, 1));
        _buckets = new int[buckets];
        Array.Fill(_buckets, -1);
        _mask = buckets - 1;
        _seed = seed;
        _free = new int[capacity];
    }

    /// <summary>Number of slots.</summary>
    public int Capacity => _hashes.Length;

    /// <summary>Number of buckets (n_buckets).</summary>
    public int BucketCount => _buckets.Length;

    /// <summary>Number of linked elements.</summary>
    public int Count { get; private set; }

    /// <summary>htab_map_hash(key, key_size, hashrnd).</summary>
    public uint Hash(ReadOnlySpan<byte> key) => JHash.Hash(key, _seed);

    /// <summary>lookup_elem_raw: the linked slot holding <paramref name="key"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key, uint hash)
    {
        for (int s = _buckets[hash & _mask]; s >= 0; s = _next[s])
        {
            if (_hashes[s] == hash && _keys.AsSpan(s * _keySize, _keySize).SequenceEqual(key))
            {
                return s;
            }
        }

        return -1;
    }

    /// <summary>The key of <paramref name="slot"/>.</summary>
    public ReadOnlySpan<byte> KeyOf(int slot) => _keys.AsSpan(slot * _keySize, _keySize);

    /// <summary>True when <paramref name="slot"/> is in a bucket chain.</summary>
    public bool IsLinked(int slot) => _linked[slot];

    /// <summary>hlist_nulls_add_head_rcu: stores the key and links <paramref name="slot"/> first in its bucket.</summary>
    public void LinkHead(int slot, ReadOnlySpan<byte> key, uint hash)
    {
        key.CopyTo(_keys.AsSpan(slot * _keySize, _keySize));
        _hashes[slot] = hash;
        ref int head = ref _buckets[hash & _mask];
        _next[slot] = head;
        head = slot;
        _linked[slot] = true;
        Count++;
    }

    /// <summary>hlist_nulls_del_rcu: unlinks <paramref name="slot"/> from its bucket.</summary>
    public void Unlink(int slot)
    {
        ref int link = ref _buckets[_hashes[slot] & _mask];
        while (link != slot)
        {
            if (link < 0)
            {
                throw new InvalidOperationException("hash table: slot " + slot + " is not linked");
            }

            link = ref _next[link];
        }

        link = _next[slot];
        _next[slot] = -1;
        _linked[slot] = false;
        Count--;
    }

    /// <summary>htab_map_get_next_key: the key after <paramref name="key"/> in bucket order (the first key when
    /// <paramref name="key"/> is empty or absent); -ENOENT after the last.</summary>
    public int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        int i = 0;
        if (!key.IsEmpty)
        {
            uint hash = Hash(key);
            int s = Find(key, hash);
            if (s >= 0)
            {
                int n = _next[s];
                if (n >= 0)
                {
                    KeyOf(n).CopyTo(nextKey);
                    return 0;
                }

                i = (int)(hash & _mask) + 1;
            }
        }

        for (; i < _buckets.Length; i++)
        {
            int head = _buckets[i];
            if (head >= 0)
            {
                KeyOf(head).CopyTo(nextKey);
                return 0;
            }
        }

        return -Errno.ENOENT;
    }

    /// <summary>Puts every slot on the free list (pcpu_freelist_populate).</summary>
    public void FillFreeList()
    {
        _freeCount = 0;
        for (int s = Capacity - 1; s >= 0; s--)
        {
            _free[_freeCount++] = s;
        }
    }

    /// <summary>A free slot, or -1 when every slot is in use.</summary>
    public int PopFree() => _freeCount == 0 ? -1 : _free[--_freeCount];

    /// <summary>Returns <paramref name="slot"/> to the free list.</summary>
    public void PushFree(int slot) => _free[_freeCount++] = slot;
}
