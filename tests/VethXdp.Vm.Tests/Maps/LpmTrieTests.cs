using System.Net;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

public class LpmTrieTests
{
    private static byte[] Key(string cidr)
    {
        var parts = cidr.Split('/');
        var addr = IPAddress.Parse(parts[0]).GetAddressBytes();
        var key = new byte[4 + addr.Length];
        BitConverter.TryWriteBytes(key, uint.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        addr.CopyTo(key, 4);
        return key;
    }

    private static string Cidr(byte[] key) =>
        new IPAddress(key.AsSpan(4).ToArray()) + "/" + BitConverter.ToUInt32(key, 0);

    private static LpmTrieMap V4(uint max) => Create<LpmTrieMap>(MapType.LpmTrie, 8, 8, max, MapFlags.NoPrealloc);

    [Fact]
    public void Update_FlagCases_KernelErrors()
    {
        // recorded on 6.18 (max_entries 3): /33 -22, exist absent -2, flags 3 -22, add 0, noexist present -17,
        // full -28 (ENOSPC), replace when full 0, delete absent -2, lookup 10.2.3.9/32 hits
        using var m = V4(3);
        Assert.Equal(-Errno.EINVAL, m.Update(Key("0.0.0.0/33"), V(1), 0, 0));
        Assert.Equal(-Errno.ENOENT, m.Update(Key("10.0.0.0/8"), V(1), MapUpdateFlags.Exist, 0));
        Assert.Equal(-Errno.EINVAL, m.Update(Key("10.0.0.0/8"), V(1), 3, 0));
        Assert.Equal(0, m.Update(Key("10.0.0.0/8"), V(1), 0, 0));
        Assert.Equal(-Errno.EEXIST, m.Update(Key("10.0.0.0/8"), V(1), MapUpdateFlags.NoExist, 0));
        Assert.Equal(0, m.Update(Key("10.1.0.0/16"), V(2), 0, 0));
        Assert.Equal(0, m.Update(Key("10.2.3.0/24"), V(3), 0, 0));
        Assert.Equal(-Errno.ENOSPC, m.Update(Key("10.4.3.0/24"), V(4), 0, 0));
        Assert.Equal(0, m.Update(Key("10.2.3.0/24"), V(5), 0, 0));
        Assert.Equal(-Errno.ENOENT, m.Delete(Key("10.2.3.0/20")));
        Assert.Equal(-Errno.EINVAL, m.Delete(Key("10.2.3.0/40")));
        Assert.Equal(5UL, Read64(m.Lookup(Key("10.2.3.9/32"), 0)));
        Assert.Equal(-Errno.EINVAL, m.UserUpdate(Key("10.2.3.0/24"), V(5), MapUpdateFlags.Lock));
    }

    [Fact]
    public void Lookup_LongestPrefixWins_IncludingSlash0AndSlash32()
    {
        using var m = V4(16);
        Assert.Equal(0UL, m.Lookup(Key("1.2.3.4/32"), 0));
        m.Update(Key("0.0.0.0/0"), V(100), 0, 0);
        m.Update(Key("192.168.0.0/16"), V(16), 0, 0);
        m.Update(Key("192.168.1.0/24"), V(24), 0, 0);
        m.Update(Key("192.168.1.7/32"), V(32), 0, 0);
        Assert.Equal(100UL, Read64(m.Lookup(Key("1.2.3.4/32"), 0)));
        Assert.Equal(16UL, Read64(m.Lookup(Key("192.168.2.1/32"), 0)));
        Assert.Equal(24UL, Read64(m.Lookup(Key("192.168.1.8/32"), 0)));
        Assert.Equal(32UL, Read64(m.Lookup(Key("192.168.1.7/32"), 0)));
        Assert.Equal(16UL, Read64(m.Lookup(Key("192.168.1.7/20"), 0))); // the key's prefixlen bounds the match
        Assert.Equal(100UL, Read64(m.Lookup(Key("192.168.1.7/0"), 0)));
        Assert.Equal(0UL, m.Lookup(Key("192.168.1.7/33"), 0));
        Assert.True(InRegion(m, m.Lookup(Key("192.168.1.7/32"), 0), 8, write: true));
        Assert.Equal(0, m.Delete(Key("192.168.1.0/24")));
        Assert.Equal(16UL, Read64(m.Lookup(Key("192.168.1.8/32"), 0)));
        Assert.Equal(32UL, Read64(m.Lookup(Key("192.168.1.7/32"), 0)));
        Assert.Equal(0, m.Delete(Key("0.0.0.0/0")));
        Assert.Equal(0UL, m.Lookup(Key("1.2.3.4/32"), 0));
    }

    [Fact]
    public void Lookup_AfterOtherInsertsAndDeletes_AddressStable()
    {
        using var m = V4(64);
        m.Update(Key("10.1.0.0/16"), V(16), 0, 0);
        ulong a = m.Lookup(Key("10.1.2.3/32"), 0);
        for (int i = 0; i < 40; i++)
        {
            m.Update(Key($"10.{i}.{i}.0/24"), V((ulong)i), 0, 0);
            m.Update(Key($"10.1.{i}.0/{20 + (i % 12)}"), V((ulong)i), 0, 0);
            m.Delete(Key($"10.{i}.{i}.0/24"));
        }

        Assert.Equal(a, m.Lookup(Key("10.1.255.255/17"), 0));
        Assert.Equal(16UL, Read64(a));
    }

    [Fact]
    public void GetNextKey_Postorder_AsKernel()
    {
        // recorded on 6.18: these prefixes inserted in this order, then 10.0.0.0/8 deleted
        using var m = V4(32);
        string[] prefixes = ["192.168.0.0/24", "192.168.1.0/24", "192.168.128.0/24", "192.168.0.0/16", "0.0.0.0/0",
            "10.0.0.1/32", "10.0.0.0/8", "10.0.0.2/32", "192.168.128.128/25"];
        ulong v = 0;
        foreach (var p in prefixes)
        {
            Assert.Equal(0, m.UserUpdate(Key(p), V(v++), 0));
        }

        Assert.Equal(0, m.UserDelete(Key("10.0.0.0/8")));
        var order = m.Entries().Select(e => Cidr(e.Key)).ToList();
        Assert.Equal(["10.0.0.1/32", "10.0.0.2/32", "192.168.0.0/24", "192.168.1.0/24", "192.168.128.128/25",
            "192.168.128.0/24", "192.168.0.0/16", "0.0.0.0/0"], order);
        Assert.Equal(8, m.Count);
    }

    [Fact]
    public void Ipv6Keys_Work()
    {
        using var m = Create<LpmTrieMap>(MapType.LpmTrie, 20, 4, 8, MapFlags.NoPrealloc);
        m.Update(Key("2001:db8::/32"), V32(1), 0, 0);
        m.Update(Key("2001:db8:1::/48"), V32(2), 0, 0);
        Assert.Equal(2u, Read32(m.Lookup(Key("2001:db8:1::5/128"), 0)));
        Assert.Equal(1u, Read32(m.Lookup(Key("2001:db8:2::5/128"), 0)));
        Assert.Equal(0UL, m.Lookup(Key("2001:db9::/128"), 0));
    }

    [Property(MaxTest = 300)]
    public Property RandomOps_MatchBruteForceLongestMatch() =>
        Prop.ForAll(
            Gen.Choose(0, int.MaxValue).Select(x => (Op: x % 3, Len: (uint)(x / 3 % 33), Addr: (uint)(x * 2654435761u) & 0xff0f00ffu)).ArrayOf().ToArbitrary(),
            ops =>
            {
                using var m = V4(24);
                var model = new Dictionary<(uint Len, uint Net), ulong>();
                static uint Mask(uint len) => len == 0 ? 0 : uint.MaxValue << (int)(32 - len);
                static byte[] KeyOf(uint len, uint addr)
                {
                    var k = new byte[8];
                    BitConverter.TryWriteBytes(k, len);
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(k.AsSpan(4), addr);
                    return k;
                }

                ulong n = 1;
                foreach (var (op, len, addr) in ops)
                {
                    var id = (len, addr & Mask(len));
                    if (op == 0)
                    {
                        long expected = model.ContainsKey(id) || model.Count < 24 ? 0 : -Errno.ENOSPC;
                        long rc = m.Update(KeyOf(len, addr), V(n), 0, 0);
                        if (rc != expected)
                        {
                            return false.Label($"update {len}: {rc} expected {expected}");
                        }

                        if (rc == 0)
                        {
                            model[id] = n;
                        }

                        n++;
                    }
                    else if (op == 1)
                    {
                        long expected = model.Remove(id) ? 0 : -Errno.ENOENT;
                        if (m.Delete(KeyOf(len, addr)) != expected)
                        {
                            return false.Label("delete");
                        }
                    }
                    else
                    {
                        var best = model.Where(e => (addr & Mask(e.Key.Len)) == e.Key.Net).OrderByDescending(e => e.Key.Len).Select(e => e.Value).FirstOrDefault();
                        ulong a = m.Lookup(KeyOf(32, addr), 0);
                        if ((a == 0 ? 0 : Read64(a)) != best)
                        {
                            return false.Label($"lookup {addr:x8}: got {(a == 0 ? 0 : Read64(a))}, expected {best}");
                        }
                    }
                }

                return (m.Entries().Count() == model.Count).Label("count");
            });
}
