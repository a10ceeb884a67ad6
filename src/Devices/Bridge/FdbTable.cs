using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace VethXdp.Devices.Bridge;

/// <summary>The bridge's forwarding database as net/bridge/br_fdb.c keeps it: an rhashtable (br_fdb_rht_params) of
/// net_bridge_fdb_entry keyed by net_bridge_fdb_key {addr, vlan_id}, hashed with jhash2 over the key's two words,
/// chained buckets, 64 of them at first (HASH_DEFAULT_SIZE) and doubled above 75 % (rht_grow_above_75). Keys are
/// the MAC as a 48-bit number with the VLAN id above it (<c>mac | vid &lt;&lt; 48</c>).</summary>
internal sealed class FdbTable
{
    /// <summary>struct net_bridge_fdb_entry reduced to the port and its 'updated' / 'used' stamps (ns).</summary>
    internal struct Entry
    {
        public NetDevice Dst;
        public ulong Updated;
        public ulong Used;
    }

    // the table's hash_rnd (random at rhashtable_init in Linux; fixed here so runs repeat)
    private const uint HashRnd = 0x5bd1e995;
    private int[] _buckets = new int[64]; // first entry + 1 per bucket, 0: empty
    private ulong[] _keys = new ulong[64];
    private int[] _next = new int[64]; // next entry + 1 in the chain
    private Entry[] _entries = new Entry[64];

    public int Count { get; private set; }

    /// <summary>rhashtable_lookup_fast(): the entry of <paramref name="key"/>, or a null ref.</summary>
    public ref Entry Find(ulong key)
    {
        int i = _buckets[Bucket(key, _buckets.Length)];
        while (i != 0)
        {
            if (_keys[i - 1] == key)
            {
                return ref _entries[i - 1];
            }

            i = _next[i - 1];
        }

        return ref Unsafe.NullRef<Entry>();
    }

    /// <summary>br_fdb_find() then fdb_create() -> rhashtable_lookup_insert_fast() when absent.</summary>
    public ref Entry GetOrAdd(ulong key, out bool exists)
    {
        ref var e = ref Find(key);
        exists = !Unsafe.IsNullRef(ref e);
        if (exists)
        {
            return ref e;
        }

        if (Count == _keys.Length)
        {
            Array.Resize(ref _keys, Count * 2);
            Array.Resize(ref _next, Count * 2);
            Array.Resize(ref _entries, Count * 2);
        }

        if (Count + 1 > _buckets.Length / 4 * 3)
        {
            Rehash(_buckets.Length * 2);
        }

        int n = Count++;
        _keys[n] = key;
        ref int head = ref _buckets[Bucket(key, _buckets.Length)];
        _next[n] = head;
        head = n + 1;
        return ref _entries[n];
    }

    /// <summary>The entries as key -> port ifindex (for reports and tests).</summary>
    public Dictionary<ulong, int> Snapshot()
    {
        var d = new Dictionary<ulong, int>(Count);
        for (int i = 0; i < Count; i++)
        {
            d[_keys[i]] = _entries[i].Dst.Ifindex;
        }

        return d;
    }

    private void Rehash(int size)
    {
        var buckets = new int[size];
        for (int n = 0; n < Count; n++)
        {
            ref int head = ref buckets[Bucket(_keys[n], size)];
            _next[n] = head;
            head = n + 1;
        }

        _buckets = buckets;
    }

    // rht_key_hashfn(): jhash2(key, 2, hash_rnd) over {addr[0..3]}, {addr[4..5], vlan_id} (little-endian words),
    // then rht_bucket_index()'s mask
    private static int Bucket(ulong key, int size)
    {
        uint w0 = BinaryPrimitives.ReverseEndianness((uint)(key >> 16));
        uint w1 = BinaryPrimitives.ReverseEndianness((ushort)key) | ((uint)(key >> 48) << 16);
        uint a = unchecked(0xdeadbeef + (2 << 2) + HashRnd);
        uint b = a + w1;
        uint c = a;
        a += w0;
        // __jhash_final(a, b, c)
        c ^= b; c -= uint.RotateLeft(b, 14);
        a ^= c; a -= uint.RotateLeft(c, 11);
        b ^= a; b -= uint.RotateLeft(a, 25);
        c ^= b; c -= uint.RotateLeft(b, 16);
        a ^= c; a -= uint.RotateLeft(c, 4);
        b ^= a; b -= uint.RotateLeft(a, 14);
        c ^= b; c -= uint.RotateLeft(b, 24);
        return (int)(c & (uint)(size - 1));
    }
}
