using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

public class ArrayMapTests
{
    [Fact]
    public void Update_FlagCases_KernelErrors()
    {
        // recorded on 6.18: noexist -17, exist 0, flags 3 -22, flags 4 (no spin lock) -22, index max -7, delete -22
        using var m = Create<ArrayMap>(MapType.Array, 4, 8, 4);
        Assert.Equal(-Errno.EEXIST, m.Update(K(1), V(1), MapUpdateFlags.NoExist, 0));
        Assert.Equal(0, m.Update(K(1), V(1), MapUpdateFlags.Exist, 0));
        Assert.Equal(0, m.Update(K(1), V(2), MapUpdateFlags.Any, 0));
        Assert.Equal(-Errno.EINVAL, m.Update(K(1), V(1), 3, 0));
        Assert.Equal(-Errno.EINVAL, m.Update(K(1), V(1), MapUpdateFlags.Lock, 0));
        Assert.Equal(-Errno.E2BIG, m.Update(K(4), V(1), 0, 0));
        Assert.Equal(-Errno.EINVAL, m.Delete(K(1)));
        Assert.Equal(-Errno.EINVAL, m.UserDelete(K(1)));
        Assert.Equal(-Errno.E2BIG, m.UserUpdate(K(4), V(1), 0));
    }

    [Fact]
    public void Lookup_InRange_StableAddressInValueRegion()
    {
        using var m = Create<ArrayMap>(MapType.Array, 4, 12, 4);
        ulong a = m.Lookup(K(3), 0);
        Assert.NotEqual(0UL, a);
        Assert.Equal(0UL, a % 8);
        Assert.True(InRegion(m, a, 12, write: true));
        Assert.Equal(0UL, m.Lookup(K(4), 0));
        Write64(a, 0x1122334455667788);
        Assert.Equal(a, m.Lookup(K(3), 0));
        var v = new byte[12];
        Assert.Equal(0, m.UserLookup(K(3), v));
        Assert.Equal(0x1122334455667788UL, U64(v));
        Assert.Equal(-Errno.ENOENT, m.UserLookup(K(4), v));
        Assert.Equal(m.Lookup(K(1), 0) + 16, m.Lookup(K(2), 0)); // round_up(12, 8) apart
    }

    [Fact]
    public void GetNextKey_IndexOrder()
    {
        // kernel: last index -ENOENT, past the end -> 0
        using var m = Create<ArrayMap>(MapType.Array, 4, 8, 4);
        Assert.Equal([0u, 1, 2, 3], KeysU32(m));
        var next = new byte[4];
        Assert.Equal(-Errno.ENOENT, m.GetNextKey(K(3), next));
        Assert.Equal(0, m.GetNextKey(K(9), next));
        Assert.Equal(0u, U32(next));
    }

    [Fact]
    public void PercpuArray_CpusIsolated_UserValueHasEveryCpu()
    {
        using var m = Create<ArrayMap>(MapType.PercpuArray, 4, 4, 2, cpus: 3);
        Assert.Equal(3 * 8, m.UserValueSize);
        Assert.Equal(0, m.Update(K(1), V32(7), 0, 1));
        Assert.Equal(7u, Read32(m.Lookup(K(1), 1)));
        Assert.Equal(0u, Read32(m.Lookup(K(1), 0)));
        Assert.NotEqual(m.Lookup(K(1), 0), m.Lookup(K(1), 2));
        Assert.Equal(0UL, m.Lookup(K(1), 3));
        var user = new byte[24];
        Assert.Equal(0, m.UserLookup(K(1), user));
        Assert.Equal(0u, U32(user.AsSpan(0)));
        Assert.Equal(7u, U32(user.AsSpan(8)));
        Assert.Equal(0u, U32(user.AsSpan(16)));
        user = [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0];
        Assert.Equal(0, m.UserUpdate(K(0), user, 0));
        Assert.Equal(3u, Read32(m.Lookup(K(0), 2)));
        Assert.Equal(-Errno.EINVAL, m.UserUpdate(K(0), user, MapUpdateFlags.Lock));
        Assert.Equal(-Errno.EEXIST, m.UserUpdate(K(0), user, MapUpdateFlags.NoExist));
    }

    [Fact]
    public void Update_SpinLockValue_LockWordNeverCopied()
    {
        var spec = Spec(MapType.Array, 4, 16, 1) with { SpinLockOffset = 0 };
        using var m = (ArrayMap)MapFactory.Create(spec, Cpus);
        ulong a = m.Lookup(K(0), 0);
        Write64(a, 1); // "locked"
        var v = new byte[16];
        Array.Fill(v, (byte)0xff);
        Assert.Equal(0, m.Update(K(0), v, MapUpdateFlags.Lock, 0));
        Assert.Equal(1u, Read32(a));
        Assert.Equal(0xffffffffu, Read32(a + 4));
        var user = new byte[16];
        Assert.Equal(0, m.UserLookup(K(0), user));
        Assert.Equal(0u, U32(user)); // the lock is hidden from user space
    }

    [Property(MaxTest = 200)]
    public Property RandomOps_MatchByteArrayModel() =>
        Prop.ForAll(
            Gen.Choose(0, 7).Three().ArrayOf().ToArbitrary(),
            ops =>
            {
                using var m = Create<ArrayMap>(MapType.Array, 4, 8, 4);
                var model = new ulong[4];
                foreach (var (index, flags, value) in ops)
                {
                    // kernel order: unknown flags, index, BPF_NOEXIST, BPF_F_LOCK without a spin lock
                    long expected = (flags & ~4) > 2 ? -Errno.EINVAL : index >= 4 ? -Errno.E2BIG
                        : (flags & 1) != 0 ? -Errno.EEXIST : (flags & 4) != 0 ? -Errno.EINVAL : 0;
                    long rc = m.Update(K((uint)index), V((ulong)value), (ulong)flags, 0);
                    if (rc != expected)
                    {
                        return false.Label($"update [{index}] flags {flags}: {rc}, expected {expected}");
                    }

                    if (rc == 0)
                    {
                        model[index] = (ulong)value;
                    }
                }

                return Enumerable.Range(0, 4).All(i => Read64(m.Lookup(K((uint)i), 0)) == model[i]).Label("contents");
            });
}
