using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

/// <summary>LRU eviction against the running 6.18 kernel: each scenario was replayed there by an XDP program
/// (BPF_PROG_TEST_RUN on CPU 0 of 2; lookups from the program set reference bits), with the map listed by user-side
/// lookups of keys 0..63 at each "p". Ops: l lookup, u update BPF_ANY, n BPF_NOEXIST, e BPF_EXIST, d delete; failures
/// print as "e31=-2".</summary>
public class LruTests
{
    public enum LruKind
    {
        Common,
        NoCommonLru,
        PercpuCommon,
    }

    public static TheoryData<LruKind, string, string> KernelScenarios => new()
    {
        { LruKind.Common, "u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12 u13 u14 u15 u16 p l1 l2 l3 l4 l5 l6 l7 l8 u17 u18 u19 u20 p u21 u22 u23 u24 p",
          "[ 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 ]|[ 1 2 3 4 5 6 7 8 13 14 15 16 17 18 19 20 ]|[ 1 2 3 4 5 6 7 8 17 18 19 20 21 22 23 24 ]" },
        { LruKind.Common, "u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12 u13 u14 u15 u16 p l3 l5 l9 u17 p e3 p u18 u19 p n4 n30 e31 d6 d6 u32 p u40 u41 u42 u43 u44 u45 u46 u47 u48 u49 u50 u51 u52 u53 u54 u55 u56 u57 u58 u59 u60 p",
          "[ 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 ]|[ 3 5 7 8 9 10 11 12 13 14 15 16 17 ]|[ 3 5 7 8 9 10 11 12 13 14 15 16 17 ]|[ 3 5 7 8 9 10 11 12 13 14 15 16 17 18 19 ]|e31=-2 d6=-2 d6=-2 [ 3 4 5 9 11 12 13 14 15 16 17 18 19 30 32 ]|[ 3 5 9 48 49 50 51 52 53 54 55 56 57 58 59 60 ]" },
        { LruKind.Common, "u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12 p u13 u14 u15 u16 u17 u18 u19 u20 p l14 l15 u21 u22 u23 u24 u25 u26 p",
          "[ 1 2 3 4 5 6 7 8 9 10 11 12 ]|[ 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 ]|[ 13 14 15 16 17 18 19 20 21 22 23 24 25 26 ]" },
        { LruKind.Common, "u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12 u13 u14 u15 u16 p e5 n7 l2 u17 u18 u19 u20 u21 u22 p e40 n41 p",
          "[ 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 ]|n7=-17 [ 5 9 10 11 12 13 14 15 16 17 18 19 20 21 22 ]|e40=-2 [ 5 9 10 11 12 13 14 15 16 17 18 19 20 21 22 41 ]" },
        { LruKind.NoCommonLru, "u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12 u13 u14 u15 u16 p l1 l2 l3 l4 l5 l6 l7 l8 u17 u18 u19 u20 p u21 u22 u23 u24 p",
          "[ 9 10 11 12 13 14 15 16 ]|[ 13 14 15 16 17 18 19 20 ]|[ 17 18 19 20 21 22 23 24 ]" },
        { LruKind.NoCommonLru, "u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12 u13 u14 u15 u16 p l3 l5 l9 u17 p e3 p u18 u19 p n4 n30 e31 d6 d6 u32 p u40 u41 u42 u43 u44 u45 u46 u47 u48 u49 u50 u51 u52 u53 u54 u55 u56 u57 u58 u59 u60 p",
          "[ 9 10 11 12 13 14 15 16 ]|[ 9 14 15 16 17 ]|e3=-2 [ 9 14 15 16 17 ]|[ 9 14 15 16 17 18 19 ]|e31=-2 d6=-2 d6=-2 [ 4 9 18 19 30 32 ]|[ 9 55 56 57 58 59 60 ]" },
        { LruKind.NoCommonLru, "u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12 p u13 u14 u15 u16 u17 u18 u19 u20 p l14 l15 u21 u22 u23 u24 u25 u26 p",
          "[ 5 6 7 8 9 10 11 12 ]|[ 13 14 15 16 17 18 19 20 ]|[ 14 15 22 23 24 25 26 ]" },
        { LruKind.NoCommonLru, "u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12 u13 u14 u15 u16 p e5 n7 l2 u17 u18 u19 u20 u21 u22 p e40 n41 p",
          "[ 9 10 11 12 13 14 15 16 ]|e5=-2 [ 7 17 18 19 20 21 22 ]|e40=-2 [ 7 17 18 19 20 21 22 41 ]" },
        { LruKind.PercpuCommon, "u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12 u13 u14 u15 u16 p l1 l2 l3 l4 l5 l6 l7 l8 u17 u18 u19 u20 p u21 u22 u23 u24 p",
          "[ 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 ]|[ 1 2 3 4 5 6 7 8 13 14 15 16 17 18 19 20 ]|[ 1 2 3 4 5 6 7 8 17 18 19 20 21 22 23 24 ]" },
        { LruKind.PercpuCommon, "u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12 u13 u14 u15 u16 p l3 l5 l9 u17 p e3 p u18 u19 p n4 n30 e31 d6 d6 u32 p u40 u41 u42 u43 u44 u45 u46 u47 u48 u49 u50 u51 u52 u53 u54 u55 u56 u57 u58 u59 u60 p",
          "[ 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 ]|[ 3 5 7 8 9 10 11 12 13 14 15 16 17 ]|[ 3 5 7 8 9 10 11 12 13 14 15 16 17 ]|[ 3 5 7 8 9 10 11 12 13 14 15 16 17 18 19 ]|e31=-2 d6=-2 d6=-2 [ 3 4 5 9 12 13 14 15 16 17 18 19 30 32 ]|[ 3 5 9 49 50 51 52 53 54 55 56 57 58 59 60 ]" },
        { LruKind.PercpuCommon, "u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12 p u13 u14 u15 u16 u17 u18 u19 u20 p l14 l15 u21 u22 u23 u24 u25 u26 p",
          "[ 1 2 3 4 5 6 7 8 9 10 11 12 ]|[ 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 ]|[ 13 14 15 16 17 18 19 20 21 22 23 24 25 26 ]" },
        { LruKind.PercpuCommon, "u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12 u13 u14 u15 u16 p e5 n7 l2 u17 u18 u19 u20 u21 u22 p e40 n41 p",
          "[ 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 ]|n7=-17 [ 5 10 11 12 13 14 15 16 17 18 19 20 21 22 ]|e40=-2 [ 5 10 11 12 13 14 15 16 17 18 19 20 21 22 41 ]" },
    };

    [Theory]
    [MemberData(nameof(KernelScenarios))]
    public void Scenario_MatchesKernel(LruKind kind, string ops, string expected)
    {
        var type = kind == LruKind.PercpuCommon ? MapType.LruPercpuHash : MapType.LruHash;
        uint flags = kind == LruKind.NoCommonLru ? MapFlags.NoCommonLru : 0;
        using var m = Create<HashMap>(type, 4, 8, 16, flags, cpus: 2);
        var output = new System.Text.StringBuilder();
        foreach (var op in ops.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (op == "p")
            {
                output.Append('[');
                var value = new byte[m.UserValueSize];
                for (uint k = 0; k < 64; k++)
                {
                    if (m.UserLookup(K(k), value) == 0)
                    {
                        output.Append(' ').Append(k);
                    }
                }

                output.Append(" ]|");
                continue;
            }

            uint key = uint.Parse(op.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
            long rc = op[0] switch
            {
                'l' => m.Lookup(K(key), 0) != 0 ? 1 : 0,
                'd' => m.Delete(K(key)),
                _ => m.Update(K(key), V(key * 10), op[0] == 'u' ? MapUpdateFlags.Any : op[0] == 'n' ? MapUpdateFlags.NoExist : MapUpdateFlags.Exist, 0),
            };
            if (rc != 0 && !(op[0] == 'l' && rc == 1))
            {
                output.Append(op).Append('=').Append(rc).Append(' ');
            }
        }

        Assert.Equal(expected, output.ToString().TrimEnd('|'));
    }

    [Fact]
    public void Update_FullCommonLru_EvictsTargetFreeOldest()
    {
        // 6.18, max_entries 8 on 2 CPUs (target_free 2): inserting 9 evicts 1 and 2; replacing 12 when full evicts 5, 6
        using var m = Create<HashMap>(MapType.LruHash, 4, 8, 8, cpus: 2);
        for (uint k = 1; k <= 9; k++)
        {
            Assert.Equal(0, m.UserUpdate(K(k), V(k), 0));
        }

        Assert.Equal([3u, 4, 5, 6, 7, 8, 9], Present(m));
        for (uint k = 10; k <= 12; k++)
        {
            Assert.Equal(0, m.UserUpdate(K(k), V(k), 0));
        }

        Assert.Equal([5u, 6, 7, 8, 9, 10, 11, 12], Present(m));
        Assert.Equal(0, m.UserUpdate(K(12), V(0), 0));
        Assert.Equal([7u, 8, 9, 10, 11, 12], Present(m));
        Assert.Equal(-Errno.EEXIST, m.UserUpdate(K(12), V(0), MapUpdateFlags.NoExist));
        Assert.Equal([7u, 8, 9, 10, 11, 12], Present(m));
    }

    [Fact]
    public void UserLookup_DoesNotMarkReferenced()
    {
        using var a = Create<HashMap>(MapType.LruHash, 4, 8, 8, cpus: 2);
        using var b = Create<HashMap>(MapType.LruHash, 4, 8, 8, cpus: 2);
        var v = new byte[8];
        for (uint k = 1; k <= 8; k++)
        {
            a.Update(K(k), V(k), 0, 0);
            b.Update(K(k), V(k), 0, 0);
        }

        a.UserLookup(K(1), v);
        b.Lookup(K(1), 0);
        a.Update(K(9), V(9), 0, 0);
        b.Update(K(9), V(9), 0, 0);
        Assert.DoesNotContain(1u, Present(a));
        Assert.Contains(1u, Present(b));
    }

    private static List<uint> Present(HashMap m) => KeysU32(m).Order().ToList();
}
