using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VethXdp.Vm.Maps;

/// <summary>The bucket index of a preallocated hash table, as kernel/bpf/hashtab.c keeps it: roundup_pow_of_two(max)
/// buckets chosen by jhash(key, seed) &amp; (n_buckets - 1), each a chain with the newest element first; elements are
/// slots 0..Capacity-1 whose keys live here (values live with the map).</summary>
/// <remarks>Lookups hash the key and compare raw bytes: no allocation, no bounds checks on the chain walk (every index
/// in <c>_buckets</c> and <c>_entries</c> is a slot below Capacity or -1, the mask keeps bucket indices in range).
/// Keys of 4, 8 and 16 bytes take unrolled paths (jhash of one, two or four words; one or two integer compares);
/// other sizes hash word by word and compare as two overlapping words (5..15 bytes) or with SequenceEqual. An optional free list of slots serves the non-LRU
/// maps (the kernel's pcpu_freelist; which free slot is reused only changes addresses).</remarks>
internal sealed class HashTable
{
    private readonly int _keySize;
    private readonly byte[] _keys;
    private readonly Entry[] _entries;
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
        _entries = new Entry[capacity];
        _linked = new bool[capacity];
        uint buckets = BitOperations.RoundUpToPowerOf2(Math.Max(maxEntries, 1));
        _buckets = new int[buckets];
        Array.Fill(_buckets, -1);
        _mask = buckets - 1;
        _seed = seed;
        _free = new int[capacity];
    }

    /// <summary>Number of slots.</summary>
    public int Capacity => _entries.Length;

    /// <summary>Number of buckets (n_buckets).</summary>
    public int BucketCount => _buckets.Length;

    /// <summary>Number of linked elements.</summary>
    public int Count { get; private set; }

    /// <summary>Key size in bytes.</summary>
    public int KeySize => _keySize;

    /// <summary>htab_map_hash(key, key_size, hashrnd) of the first KeySize bytes of <paramref name="key"/>.</summary>
    public uint Hash(ReadOnlySpan<byte> key)
    {
        if ((uint)key.Length < (uint)_keySize)
        {
            ThrowKeyTooShort();
        }

        ref byte k = ref MemoryMarshal.GetReference(key);
        return _keySize switch
        {
            4 => JHash.Hash4(ref k, _seed),
            8 => JHash.Hash8(ref k, _seed),
            16 => JHash.Hash16(ref k, _seed),
            _ => JHash.Hash(ref k, _keySize, _seed),
        };
    }

    /// <summary>lookup_elem_raw: the linked slot holding <paramref name="key"/> (its first KeySize bytes), or -1.</summary>
    public int Find(ReadOnlySpan<byte> key, uint hash)
    {
        if ((uint)key.Length < (uint)_keySize)
        {
            ThrowKeyTooShort();
        }

        ref byte k = ref MemoryMarshal.GetReference(key);
        return _keySize switch
        {
            4 => Find(Unsafe.ReadUnaligned<uint>(ref k), hash),
            8 => Find(Unsafe.ReadUnaligned<ulong>(ref k), hash),
            16 => Find(Unsafe.ReadUnaligned<UInt128>(ref k), hash),
            _ => FindAny(ref k, hash),
        };
    }

    /// <summary>htab_map_hash + lookup_elem_raw in one call: the linked slot holding <paramref name="key"/> (its first
    /// KeySize bytes), or -1.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        if ((uint)key.Length < (uint)_keySize)
        {
            ThrowKeyTooShort();
        }

        // Each key word is loaded once, as u32s the way jhash2 reads them, and the compare reuses them: a program
        // builds its key on the stack with narrower stores, and a wider load over several of them cannot be forwarded
        // from the store buffer (a stall of a dozen cycles per load). Little-endian hosts (x86-64, arm64) only.
        ref byte k = ref MemoryMarshal.GetReference(key);
        switch (_keySize)
        {
            case 4:
            {
                uint w0 = Unsafe.ReadUnaligned<uint>(ref k);
                return Find(w0, JHash.Hash4(w0, _seed));
            }

            case 8:
            {
                uint w0 = Unsafe.ReadUnaligned<uint>(ref k);
                uint w1 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref k, 4));
                return Find(w0 | ((ulong)w1 << 32), JHash.Hash8(w0, w1, _seed));
            }

            case 16:
            {
                uint w0 = Unsafe.ReadUnaligned<uint>(ref k);
                uint w1 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref k, 4));
                uint w2 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref k, 8));
                uint w3 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref k, 12));
                return Find(new UInt128(w2 | ((ulong)w3 << 32), w0 | ((ulong)w1 << 32)), JHash.Hash16(w0, w1, w2, w3, _seed));
            }

            default:
                return FindAny(ref k, JHash.Hash(ref k, _keySize, _seed));
        }
    }

    /// <summary>The key of <paramref name="slot"/>.</summary>
    public ReadOnlySpan<byte> KeyOf(int slot) => _keys.AsSpan(slot * _keySize, _keySize);

    /// <summary>True when <paramref name="slot"/> is in a bucket chain.</summary>
    public bool IsLinked(int slot) => _linked[slot];

    /// <summary>hlist_nulls_add_head_rcu: stores the key and links <paramref name="slot"/> first in its bucket.</summary>
    public void LinkHead(int slot, ReadOnlySpan<byte> key, uint hash)
    {
        ref var e = ref _entries[slot];
        if ((uint)key.Length < (uint)_keySize)
        {
            ThrowKeyTooShort();
        }

        ref byte src = ref MemoryMarshal.GetReference(key);
        ref byte dst = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_keys), (nint)(uint)slot * _keySize);
        switch (_keySize)
        {
            case 4:
                Unsafe.WriteUnaligned(ref dst, Unsafe.ReadUnaligned<uint>(ref src));
                break;
            case 8:
                Unsafe.WriteUnaligned(ref dst, Unsafe.ReadUnaligned<ulong>(ref src));
                break;
            case 16:
                Unsafe.WriteUnaligned(ref dst, Unsafe.ReadUnaligned<ulong>(ref src));
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, 8), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, 8)));
                break;
            default:
                Unsafe.CopyBlockUnaligned(ref dst, ref src, (uint)_keySize);
                break;
        }

        e.Hash = hash;
        ref int head = ref _buckets[hash & _mask];
        e.Next = head;
        head = slot;
        _linked[slot] = true;
        Count++;
    }

    /// <summary>hlist_nulls_del_rcu: unlinks <paramref name="slot"/> from its bucket.</summary>
    public void Unlink(int slot)
    {
        ref int link = ref _buckets[_entries[slot].Hash & _mask];
        while (link != slot)
        {
            if (link < 0)
            {
                throw new InvalidOperationException("hash table: slot " + slot + " is not linked");
            }

            link = ref _entries[link].Next;
        }

        link = _entries[slot].Next;
        _entries[slot].Next = -1;
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
                int n = _entries[s].Next;
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

    // The chain walks. Each reads the bucket head, then follows Next; the stored hash is compared before the key, as
    // lookup_elem_raw does. Indices come from the table itself, so the reads skip bounds checks.
    // A key of sizeof(T) bytes (4, 8 or 16: uint, ulong, UInt128) compared as one value; specialised per T.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find<T>(T key, uint hash)
        where T : unmanaged, IEquatable<T>
    {
        ref int buckets = ref MemoryMarshal.GetArrayDataReference(_buckets);
        ref var entries = ref MemoryMarshal.GetArrayDataReference(_entries);
        ref byte keys = ref MemoryMarshal.GetArrayDataReference(_keys);
        for (int s = Unsafe.Add(ref buckets, (nint)(hash & _mask)); s >= 0;)
        {
            ref var e = ref Unsafe.Add(ref entries, (nint)(uint)s);
            if (e.Hash == hash && Unsafe.ReadUnaligned<T>(ref Unsafe.Add(ref keys, (nint)(uint)s * Unsafe.SizeOf<T>())).Equals(key))
            {
                return s;
            }

            s = e.Next;
        }

        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FindAny(ref byte key, uint hash)
    {
        int size = _keySize;
        ref int buckets = ref MemoryMarshal.GetArrayDataReference(_buckets);
        ref var entries = ref MemoryMarshal.GetArrayDataReference(_entries);
        ref byte keys = ref MemoryMarshal.GetArrayDataReference(_keys);
        for (int s = Unsafe.Add(ref buckets, (nint)(hash & _mask)); s >= 0;)
        {
            ref var e = ref Unsafe.Add(ref entries, (nint)(uint)s);
            if (e.Hash == hash && KeyEquals(ref Unsafe.Add(ref keys, (nint)(uint)s * size), ref key, size))
            {
                return s;
            }

            s = e.Next;
        }

        return -1;
    }

    // memcmp(a, b, size) == 0: two overlapping words for 5..7 and 9..15 bytes (MAC addresses, 12-byte tuples),
    // SequenceEqual otherwise.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool KeyEquals(ref byte a, ref byte b, int size)
    {
        if ((uint)(size - 9) < 7)
        {
            nint tail = size - 8;
            return ((Unsafe.ReadUnaligned<ulong>(ref a) ^ Unsafe.ReadUnaligned<ulong>(ref b))
                | (Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref a, tail)) ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, tail)))) == 0;
        }

        if ((uint)(size - 5) < 3)
        {
            nint tail = size - 4;
            return ((Unsafe.ReadUnaligned<uint>(ref a) ^ Unsafe.ReadUnaligned<uint>(ref b))
                | (Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref a, tail)) ^ Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref b, tail)))) == 0;
        }

        return MemoryMarshal.CreateReadOnlySpan(ref a, size).SequenceEqual(MemoryMarshal.CreateReadOnlySpan(ref b, size));
    }

    [DoesNotReturn]
    private static void ThrowKeyTooShort() =>
        throw new ArgumentOutOfRangeException("key", "hash table: the key is shorter than the map's key size");

    // One slot's chain link and stored hash, side by side (one cache line serves the compare and the step).
    private struct Entry
    {
        public uint Hash;
        public int Next;
    }
}
