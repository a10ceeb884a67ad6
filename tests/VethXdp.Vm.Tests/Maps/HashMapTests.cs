using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

public class HashMapTests
{
    [Fact]
    public void Update_FlagCases_KernelErrors()
    {
        // recorded on 6.18 (max_entries 2): exist absent -2, any 0, noexist present -17, flags 4 -22, flags 8 -22,
        // full -7, update when full 0, delete absent -2
        using var m = Create<HashMap>(MapType.Hash, 4, 8, 2);
        Assert.Equal(-Errno.ENOENT, m.Update(K(1), V(1), MapUpdateFlags.Exist, 0));
        Assert.Equal(0, m.Update(K(1), V(1), MapUpdateFlags.Any, 0));
        Assert.Equal(-Errno.EEXIST, m.Update(K(1), V(1), MapUpdateFlags.NoExist, 0));
        Assert.Equal(-Errno.EINVAL, m.Update(K(1), V(1), MapUpdateFlags.Lock, 0));
        Assert.Equal(-Errno.EINVAL, m.Update(K(1), V(1), 8, 0));
        Assert.Equal(0, m.Update(K(2), V(2), MapUpdateFlags.NoExist, 0));
        Assert.Equal(-Errno.E2BIG, m.Update(K(3), V(3), MapUpdateFlags.Any, 0));
        Assert.Equal(0, m.Update(K(2), V(22), MapUpdateFlags.Exist, 0));
        Assert.Equal(0, m.Update(K(2), V(23), MapUpdateFlags.Any, 1));
        Assert.Equal(-Errno.ENOENT, m.Delete(K(9)));
        Assert.Equal(0UL, m.Lookup(K(9), 0));
        Assert.Equal(-Errno.ENOENT, m.UserLookup(K(9), new byte[8]));
        Assert.Equal(23UL, Read64(m.Lookup(K(2), 0)));
        Assert.Equal(0, m.Delete(K(2)));
        Assert.Equal(0, m.Update(K(3), V(3), MapUpdateFlags.Any, 0));
        Assert.Equal(2, m.Count);
    }

    [Fact]
    public void GetNextKey_ZeroSeedU32Keys_KernelBucketOrder()
    {
        // 6.18 with BPF_F_ZERO_SEED, max_entries 16: keys 1..12, then key 5 updated again (moves to its bucket's head)
        using var m = Create<HashMap>(MapType.Hash, 4, 8, 16, MapFlags.ZeroSeed);
        for (uint k = 1; k <= 12; k++)
        {
            Assert.Equal(0, m.UserUpdate(K(k), V(k), 0));
        }

        Assert.Equal(0, m.UserUpdate(K(5), V(5), 0));
        Assert.Equal([10u, 4, 5, 7, 2, 1, 8, 12, 11, 9, 6, 3], KeysU32(m));
    }

    [Theory]
    [InlineData(6, "2 6 4 1 5 7 3")]
    [InlineData(13, "5 4 2 3 7 1 6")]
    public void GetNextKey_ZeroSeedOddKeySizes_KernelBucketOrder(int keySize, string expected)
    {
        // 6.18, max_entries 8: 6-byte keys {i,0,0,0,0,3i}; 13-byte keys {i x 12, 7i}
        using var m = Create<HashMap>(MapType.Hash, (uint)keySize, 8, 8, MapFlags.ZeroSeed);
        for (int i = 1; i <= 7; i++)
        {
            var key = new byte[keySize];
            if (keySize == 6)
            {
                key[0] = (byte)i;
                key[5] = (byte)(i * 3);
            }
            else
            {
                Array.Fill(key, (byte)i);
                key[12] = (byte)(i * 7);
            }

            Assert.Equal(0, m.UserUpdate(key, V(1), 0));
        }

        var order = m.Entries().Select(e => e.Key[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(expected, string.Join(' ', order));
    }

    [Fact]
    public void Lookup_AfterOtherInsertsAndDeletes_AddressesStable()
    {
        using var m = Create<HashMap>(MapType.Hash, 4, 16, 256);
        var addrs = new Dictionary<uint, ulong>();
        for (uint k = 0; k < 100; k++)
        {
            Assert.Equal(0, m.Update(K(k), V(k * 3).Concat(V(k)).ToArray(), 0, 0));
            addrs[k] = m.Lookup(K(k), 0);
            Assert.True(InRegion(m, addrs[k], 16, write: true));
        }

        for (uint k = 0; k < 100; k += 3)
        {
            Assert.Equal(0, m.Delete(K(k)));
        }

        for (uint k = 1000; k < 1150; k++)
        {
            Assert.Equal(0, m.Update(K(k), new byte[16], 0, 1));
        }

        for (uint k = 0; k < 100; k++)
        {
            if (k % 3 != 0)
            {
                Assert.Equal(addrs[k], m.Lookup(K(k), 0));
                Assert.Equal(k * 3, Read64(addrs[k]));
            }
        }
    }

    [Fact]
    public void Update_ExistingKey_UsesTheCpusSpareElement()
    {
        // kernel: alloc_htab_elem takes this CPU's extra element; the old one becomes the spare, so a pointer kept from
        // before still reads the old value until the next replacement on that CPU
        using var m = Create<HashMap>(MapType.Hash, 4, 8, 4);
        Assert.Equal(0, m.Update(K(1), V(10), 0, 0));
        ulong before = m.Lookup(K(1), 0);
        Assert.Equal(0, m.Update(K(1), V(11), 0, 0));
        ulong after = m.Lookup(K(1), 0);
        Assert.NotEqual(before, after);
        Assert.Equal(10UL, Read64(before));
        Assert.Equal(11UL, Read64(after));
        Assert.Equal(0, m.Update(K(1), V(12), 0, 0));
        Assert.Equal(before, m.Lookup(K(1), 0));
    }

    [Fact]
    public void PercpuHash_ProgramUpdateSetsOnlyItsCpu()
    {
        using var m = Create<HashMap>(MapType.PercpuHash, 4, 4, 4, cpus: 3);
        Assert.Equal(24, m.UserValueSize);
        Assert.Equal(0, m.Update(K(1), V32(5), 0, 1));
        Assert.Equal(5u, Read32(m.Lookup(K(1), 1)));
        Assert.Equal(0u, Read32(m.Lookup(K(1), 0)));
        Assert.Equal(0u, Read32(m.Lookup(K(1), 2)));
        ulong a1 = m.Lookup(K(1), 1);
        Assert.Equal(0, m.Update(K(1), V32(6), 0, 1)); // in place
        Assert.Equal(a1, m.Lookup(K(1), 1));
        Assert.Equal(6u, Read32(a1));
        Assert.Equal(-Errno.EINVAL, m.Update(K(1), V32(6), MapUpdateFlags.Lock, 1));
        var user = new byte[24];
        Assert.Equal(0, m.UserLookup(K(1), user));
        Assert.Equal([0u, 6u, 0u], new[] { U32(user.AsSpan(0)), U32(user.AsSpan(8)), U32(user.AsSpan(16)) });
        user = [9, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0];
        Assert.Equal(0, m.UserUpdate(K(2), user, MapUpdateFlags.NoExist));
        Assert.Equal(7u, Read32(m.Lookup(K(2), 2)));
        Assert.Equal(9u, Read32(m.Lookup(K(2), 0)));
    }

    [Fact]
    public void UserLookupAndDelete_RemovesTheElement()
    {
        using var m = Create<HashMap>(MapType.Hash, 4, 8, 4);
        m.Update(K(1), V(77), 0, 0);
        var v = new byte[8];
        Assert.Equal(0, m.UserLookupAndDelete(K(1), v));
        Assert.Equal(77UL, U64(v));
        Assert.Equal(-Errno.ENOENT, m.UserLookupAndDelete(K(1), v));
        Assert.Equal(0, m.Count);
    }

    [Fact]
    public void LookupUpdateDelete_WarmMap_AllocateNothing()
    {
        using var m = Create<HashMap>(MapType.Hash, 8, 16, 1024);
        using var lru = Create<HashMap>(MapType.LruHash, 8, 16, 256);
        var key = new byte[8];
        var value = new byte[16];
        void Round(int i)
        {
            BitConverter.TryWriteBytes(key, (long)(i % 2000));
            m.Update(key, value, MapUpdateFlags.Any, i & 1);
            m.Lookup(key, 0);
            if (i % 3 == 0)
            {
                m.Delete(key);
            }

            lru.Update(key, value, MapUpdateFlags.Any, 0);
            lru.Lookup(key, 0);
        }

        for (int i = 0; i < 10_000; i++)
        {
            Round(i);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Round(i);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Property(MaxTest = 300)]
    public Property RandomOps_MatchDictionaryModel() =>
        Prop.ForAll(
            Gen.Choose(0, 99).Select(x => (Op: x % 4, Key: (uint)(x / 4 % 12), Flags: (ulong)(x % 3))).ArrayOf().ToArbitrary(),
            ops =>
            {
                const int max = 8;
                using var m = Create<HashMap>(MapType.Hash, 4, 8, max);
                var model = new Dictionary<uint, ulong>();
                ulong next = 1;
                foreach (var (op, key, flags) in ops)
                {
                    long rc, expected;
                    if (op < 2)
                    {
                        bool present = model.ContainsKey(key);
                        expected = present && flags == 1 ? -Errno.EEXIST
                            : !present && flags == 2 ? -Errno.ENOENT
                            : !present && model.Count == max ? -Errno.E2BIG : 0;
                        rc = m.Update(K(key), V(next), flags, op);
                        if (rc == 0)
                        {
                            model[key] = next;
                        }

                        next++;
                    }
                    else if (op == 2)
                    {
                        expected = model.Remove(key) ? 0 : -Errno.ENOENT;
                        rc = m.Delete(K(key));
                    }
                    else
                    {
                        ulong a = m.Lookup(K(key), 0);
                        expected = model.TryGetValue(key, out ulong v) ? (long)v : 0;
                        rc = a == 0 ? 0 : (long)Read64(a);
                    }

                    if (rc != expected)
                    {
                        return false.Label($"op {op} key {key} flags {flags}: {rc}, expected {expected}");
                    }
                }

                var keys = KeysU32(m).Order().ToList();
                return keys.SequenceEqual(model.Keys.Order()).Label("keys " + string.Join(",", keys));
            });
}
