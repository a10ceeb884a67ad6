using System.Buffers.Binary;
using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

/// <summary>The hash table's unrolled paths (jhash over words, keys of 4, 8 and 16 bytes compared as integers) against
/// a byte-wise jhash written straight from include/linux/jhash.h and against plain models.</summary>
public class HashFastPathTests
{
    // Colliding keys (same jhash with seed 0), found by brute force with a byte-wise jhash.
    public static TheoryData<string, string, uint> Collisions => new()
    {
        { "b56d2b20", "d1ec3f72", 0xec67b492 },
        { "638fbf49a54133b8", "53111dc06667a15c", 0x1e0bcd5e },
        { "750f43a62b5406f3fca01f09028fcadc", "8fc20618ef067ac24525f2c3c8e04913", 0xee777d2d },
        { "01d27a68327f", "0f4843fc2ada", 0x72274e30 },
    };

    [Theory]
    [InlineData("", 0u, 0xdeadbeefu)]
    [InlineData("", 0xdeadbeefu, 0xbd5b7ddeu)]
    [InlineData("Four score and seven years ago", 0u, 0x17770551u)]
    [InlineData("Four score and seven years ago", 1u, 0xcd628161u)]
    public void Hash_Lookup3DriverVectors_Match(string text, uint seed, uint expected)
    {
        // lookup3.c driver5(): hashlittle() is jhash() byte for byte
        Assert.Equal(expected, JHash.Hash(System.Text.Encoding.ASCII.GetBytes(text), seed));
    }

    [Property(MaxTest = 500)]
    public Property Hash_AnyLengthAndOffset_EqualsByteWiseJhash() =>
        Prop.ForAll(
            Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf().ToArbitrary(),
            Gen.Choose(0, 7).ToArbitrary(),
            Gen.Choose(int.MinValue, int.MaxValue).ToArbitrary(),
            (bytes, offset, seed) =>
            {
                var buffer = new byte[bytes.Length + offset];
                bytes.CopyTo(buffer, offset);
                var key = buffer.AsSpan(offset);
                return JHash.Hash(key, (uint)seed) == ByteWiseJhash(bytes, (uint)seed);
            });

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    public void HashN_UnrolledSizes_EqualGeneralJhash(int size)
    {
        var rng = new Random(size);
        var buffer = new byte[size + 3];
        for (int i = 0; i < 200; i++)
        {
            rng.NextBytes(buffer);
            uint seed = (uint)rng.Next();
            ref byte k = ref buffer[3];
            uint unrolled = size switch
            {
                4 => JHash.Hash4(ref k, seed),
                8 => JHash.Hash8(ref k, seed),
                _ => JHash.Hash16(ref k, seed),
            };
            Assert.Equal(ByteWiseJhash(buffer.AsSpan(3, size), seed), unrolled);
        }
    }

    [Theory]
    [MemberData(nameof(Collisions))]
    public void Find_CollidingKeysInOneChain_EachFindsItsOwnSlot(string first, string second, uint hash)
    {
        var a = Convert.FromHexString(first);
        var b = Convert.FromHexString(second);
        Assert.Equal(hash, JHash.Hash(a, 0));
        Assert.Equal(hash, JHash.Hash(b, 0));
        var t = new HashTable(a.Length, 4, 4, 0);
        t.LinkHead(0, a, hash);
        Assert.Equal(-1, t.Find(b));
        t.LinkHead(1, b, t.Hash(b));
        Assert.Equal(0, t.Find(a));
        Assert.Equal(1, t.Find(b));
        var twin = (byte[])b.Clone();
        twin[^1] ^= 0x80;
        Assert.Equal(-1, t.Find(twin));
        t.Unlink(1);
        Assert.Equal(-1, t.Find(b));
        Assert.Equal(0, t.Find(a));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(20)]
    [InlineData(40)]
    public void Find_OneBucketManyKeys_FindsEachAndRejectsEveryOneByteChange(int size)
    {
        // max_entries 1: one bucket, every key chains there; the hashes differ, the keys are compared byte by byte
        const int n = 24;
        var t = new HashTable(size, n, 1, 0);
        var keys = new List<byte[]>();
        var rng = new Random(size);
        for (int s = 0; s < n; s++)
        {
            var k = new byte[size];
            rng.NextBytes(k);
            if (keys.Exists(x => x.AsSpan().SequenceEqual(k)))
            {
                continue;
            }

            keys.Add(k);
            t.LinkHead(keys.Count - 1, k, t.Hash(k));
        }

        for (int s = 0; s < keys.Count; s++)
        {
            Assert.Equal(s, t.Find(keys[s]));
            Assert.Equal(s, t.Find(keys[s], JHash.Hash(keys[s], 0)));
            var longer = new byte[size + 5];
            keys[s].CopyTo(longer, 0);
            Assert.Equal(s, t.Find(longer));
            for (int i = 0; i < size; i++)
            {
                var changed = (byte[])keys[s].Clone();
                changed[i] ^= 1;
                if (!keys.Exists(x => x.AsSpan().SequenceEqual(changed)))
                {
                    Assert.Equal(-1, t.Find(changed));
                    Assert.Equal(-1, t.Find(changed, JHash.Hash(keys[s], 0)));
                }
            }
        }
    }

    [Fact]
    public void Find_KeyShorterThanKeySize_Throws()
    {
        var t = new HashTable(8, 2, 2, 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Find(new byte[7]));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(6)]
    public void GetNextKey_AnyKeySize_BucketOrderNewestFirst(int size)
    {
        // the order a kernel with BPF_F_ZERO_SEED lists: bucket 0 first, newest first inside a bucket
        const uint max = 8;
        using var m = Create<HashMap>(MapType.Hash, (uint)size, 8, max);
        var keys = new List<byte[]>();
        for (int i = 0; i < (int)max; i++)
        {
            var k = new byte[size];
            BinaryPrimitives.WriteInt32LittleEndian(k, i * 7919);
            keys.Add(k);
            Assert.Equal(0, m.Update(k, V((ulong)i), 0, 0));
        }

        var expected = keys
            .Select((k, i) => (Key: k, Bucket: ByteWiseJhash(k, 0) & (BitOperations.RoundUpToPowerOf2(max) - 1), Age: i))
            .OrderBy(x => x.Bucket).ThenByDescending(x => x.Age).Select(x => Convert.ToHexString(x.Key)).ToList();
        var listed = new List<string>();
        var key = Array.Empty<byte>();
        var next = new byte[size];
        while (m.GetNextKey(key, next) == 0)
        {
            listed.Add(Convert.ToHexString(next));
            key = (byte[])next.Clone();
        }

        Assert.Equal(expected, listed);
    }

    [Theory]
    [InlineData(MapType.PercpuHash, 4)]
    [InlineData(MapType.PercpuHash, 16)]
    [InlineData(MapType.LruPercpuHash, 8)]
    [InlineData(MapType.LruPercpuHash, 6)]
    public void Lookup_PerCpu_EachCpuItsOwnValue(MapType type, int size)
    {
        using var m = Create<HashMap>(type, (uint)size, 8, 16, cpus: 3);
        var key = new byte[size];
        key[0] = 0x5a;
        for (int cpu = 0; cpu < 3; cpu++)
        {
            Assert.Equal(0, m.Update(key, V(100 + (ulong)cpu), 0, cpu));
        }

        var addresses = new HashSet<ulong>();
        for (int cpu = 0; cpu < 3; cpu++)
        {
            ulong a = m.Lookup(key, cpu);
            Assert.NotEqual(0UL, a);
            Assert.True(addresses.Add(a));
            Assert.Equal(100 + (ulong)cpu, Read64(a));
        }

        Assert.Equal(0UL, m.Lookup(key, 3));
        Assert.Equal(0UL, m.Lookup(key, -1));
        var all = new byte[8 * 3];
        Assert.Equal(0, m.UserLookup(key, all));
        Assert.Equal([100UL, 101UL, 102UL], [U64(all), U64(all.AsSpan(8)), U64(all.AsSpan(16))]);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(6)]
    public void Lookup_LruFromProgram_MarksReferencedSoEvictionSparesIt(int size)
    {
        // common LRU, 2 CPUs, max 16: a full map whose first 8 elements were looked up by a program keeps them
        // (the kernel scenario in LruTests with key sizes other than 4)
        using var m = Create<HashMap>(MapType.LruHash, (uint)size, 8, 16);
        byte[] Key(uint k)
        {
            var b = new byte[size];
            BinaryPrimitives.WriteUInt32LittleEndian(b, k);
            return b;
        }

        for (uint k = 1; k <= 16; k++)
        {
            Assert.Equal(0, m.Update(Key(k), V(k), 0, 0));
        }

        for (uint k = 1; k <= 8; k++)
        {
            Assert.NotEqual(0UL, m.Lookup(Key(k), 0));
        }

        for (uint k = 17; k <= 20; k++)
        {
            Assert.Equal(0, m.Update(Key(k), V(k), 0, 0));
        }

        var present = new List<uint>();
        var value = new byte[8];
        for (uint k = 1; k <= 20; k++)
        {
            if (m.UserLookup(Key(k), value) == 0)
            {
                present.Add(k);
            }
        }

        Assert.Equal([1u, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15, 16, 17, 18, 19, 20], present);
    }

    [Property(MaxTest = 200)]
    public Property RandomOps_WideKeys_MatchDictionaryModel() =>
        Prop.ForAll(
            Gen.Elements(4, 8, 16, 6, 20).ToArbitrary(),
            Gen.Choose(0, 299).ArrayOf().ToArbitrary(),
            (size, ops) =>
            {
                const int max = 8;
                using var m = Create<HashMap>(MapType.Hash, (uint)size, 8, max);
                var model = new Dictionary<int, ulong>();
                byte[] Key(int k)
                {
                    // keys that differ only in their last byte or only in their first
                    var b = new byte[size];
                    b.AsSpan().Fill(0xa5);
                    b[k % 2 == 0 ? 0 : size - 1] = (byte)k;
                    return b;
                }

                ulong next = 1;
                foreach (int x in ops)
                {
                    int op = x % 3, k = x / 3 % 10;
                    if (op == 0)
                    {
                        long rc = m.Update(Key(k), V(next), 0, 0);
                        if (rc != (!model.ContainsKey(k) && model.Count == max ? -Errno.E2BIG : 0))
                        {
                            return false.Label($"update {k}: {rc}");
                        }

                        if (rc == 0)
                        {
                            model[k] = next;
                        }

                        next++;
                    }
                    else if (op == 1)
                    {
                        long rc = m.Delete(Key(k));
                        if (rc != (model.Remove(k) ? 0 : -Errno.ENOENT))
                        {
                            return false.Label($"delete {k}: {rc}");
                        }
                    }
                    else
                    {
                        ulong a = m.Lookup(Key(k), 0);
                        ulong got = a == 0 ? 0 : Read64(a);
                        if (got != (model.TryGetValue(k, out ulong v) ? v : 0))
                        {
                            return false.Label($"lookup {k}: {got}");
                        }
                    }
                }

                return (m.Count == model.Count).Label("count");
            });

    // include/linux/jhash.h jhash(), byte by byte as the kernel writes it (the reference for the unrolled paths).
    private static uint ByteWiseJhash(ReadOnlySpan<byte> k, uint initval)
    {
        uint length = (uint)k.Length;
        uint a, b, c;
        a = b = c = JHash.InitVal + length + initval;
        while (length > 12)
        {
            a += k[0] + ((uint)k[1] << 8) + ((uint)k[2] << 16) + ((uint)k[3] << 24);
            b += k[4] + ((uint)k[5] << 8) + ((uint)k[6] << 16) + ((uint)k[7] << 24);
            c += k[8] + ((uint)k[9] << 8) + ((uint)k[10] << 16) + ((uint)k[11] << 24);
            a -= c; a ^= BitOperations.RotateLeft(c, 4); c += b;
            b -= a; b ^= BitOperations.RotateLeft(a, 6); a += c;
            c -= b; c ^= BitOperations.RotateLeft(b, 8); b += a;
            a -= c; a ^= BitOperations.RotateLeft(c, 16); c += b;
            b -= a; b ^= BitOperations.RotateLeft(a, 19); a += c;
            c -= b; c ^= BitOperations.RotateLeft(b, 4); b += a;
            length -= 12;
            k = k.Slice(12);
        }

        if (length == 0)
        {
            return c;
        }

        if (length >= 12) { c += (uint)k[11] << 24; }
        if (length >= 11) { c += (uint)k[10] << 16; }
        if (length >= 10) { c += (uint)k[9] << 8; }
        if (length >= 9) { c += k[8]; }
        if (length >= 8) { b += (uint)k[7] << 24; }
        if (length >= 7) { b += (uint)k[6] << 16; }
        if (length >= 6) { b += (uint)k[5] << 8; }
        if (length >= 5) { b += k[4]; }
        if (length >= 4) { a += (uint)k[3] << 24; }
        if (length >= 3) { a += (uint)k[2] << 16; }
        if (length >= 2) { a += (uint)k[1] << 8; }
        a += k[0];
        c ^= b; c -= BitOperations.RotateLeft(b, 14);
        a ^= c; a -= BitOperations.RotateLeft(c, 11);
        b ^= a; b -= BitOperations.RotateLeft(a, 25);
        c ^= b; c -= BitOperations.RotateLeft(b, 16);
        a ^= c; a -= BitOperations.RotateLeft(c, 4);
        b ^= a; b -= BitOperations.RotateLeft(a, 14);
        c ^= b; c -= BitOperations.RotateLeft(b, 24);
        return c;
    }
}
