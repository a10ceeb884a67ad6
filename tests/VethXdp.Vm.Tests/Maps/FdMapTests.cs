using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

public class FdMapTests
{
    [Fact]
    public void ProgArray_KernelCases()
    {
        // recorded on 6.18: flags 1 -22, a bad fd -9, delete empty -2, delete past the end -7, lookup empty -2
        using var m = Create<ProgArrayMap>(MapType.ProgArray, 4, 4, 4);
        Assert.Equal(-Errno.EINVAL, m.UserUpdate(K(0), V32(0), MapUpdateFlags.NoExist));
        Assert.Equal(-Errno.EBADF, m.UserUpdate(K(0), V32(999), 0));
        Assert.Equal(-Errno.ENOENT, m.UserDelete(K(0)));
        Assert.Equal(-Errno.E2BIG, m.UserDelete(K(4)));
        Assert.Equal(-Errno.ENOENT, m.UserLookup(K(0), new byte[4]));
        var progs = new object[] { "a", "b" };
        m.ProgramResolver = fd => fd < progs.Length ? progs[fd] : null;
        Assert.Equal(0, m.UserUpdate(K(2), V32(1), 0));
        Assert.Equal("b", m.GetProgram(2));
        var v = new byte[4];
        Assert.Equal(0, m.UserLookup(K(2), v));
        Assert.Equal(1u, U32(v));
        Assert.Equal(-Errno.E2BIG, m.UserUpdate(K(4), V32(1), 0));
        Assert.Equal(0UL, m.Lookup(K(2), 0)); // programs cannot look programs up
        m.SetProgram(0, "tail", 42);
        Assert.Equal("tail", m.GetProgram(0));
        Assert.Null(m.GetProgram(1));
        Assert.Null(m.GetProgram(99));
        Assert.Equal(0, m.UserLookup(K(0), v));
        Assert.Equal(42u, U32(v));
        Assert.Equal(0, m.UserDelete(K(2)));
        Assert.Null(m.GetProgram(2));
        Assert.Equal(0u, U32(Assert.Single(m.Entries()).Key)); // slots 0 and 2 were set, 2 deleted
    }

    [Fact]
    public void ArrayOfMaps_InnerMapHandleAndMetaChecks()
    {
        var template = Spec(MapType.Array, 4, 8, 4, name: "inner");
        using var outer = (ArrayOfMapsMap)MapFactory.Create(Spec(MapType.ArrayOfMaps, 4, 4, 2, name: "outer") with { InnerMap = template }, Cpus);
        using var inner = MapFactory.Create(template, Cpus);
        using var wrongSize = MapFactory.Create(template with { MaxEntries = 5 }, Cpus);
        using var wrongType = MapFactory.Create(template with { Type = MapType.Hash }, Cpus);
        inner.Handle = 0xfeed0001;
        inner.Id = 17;
        Assert.Equal(0UL, outer.Lookup(K(0), 0));
        Assert.Equal(-Errno.EINVAL, outer.SetInnerMap(0, wrongSize));
        Assert.Equal(-Errno.EINVAL, outer.SetInnerMap(0, wrongType));
        Assert.Equal(-Errno.E2BIG, outer.SetInnerMap(2, inner));
        Assert.Equal(0, outer.SetInnerMap(0, inner));
        Assert.Equal(0xfeed0001UL, outer.Lookup(K(0), 0));
        Assert.Same(inner, outer.GetInnerMap(0));
        var v = new byte[4];
        Assert.Equal(0, outer.UserLookup(K(0), v));
        Assert.Equal(17u, U32(v));
        Assert.Equal(-Errno.EBADF, outer.UserUpdate(K(1), V32(3), 0));
        outer.MapResolver = fd => fd == 3 ? inner : null;
        Assert.Equal(-Errno.EINVAL, outer.UserUpdate(K(1), V32(3), MapUpdateFlags.Exist));
        Assert.Equal(0, outer.UserUpdate(K(1), V32(3), 0));
        Assert.Equal(0, outer.UserDelete(K(1)));
        Assert.Equal(-Errno.ENOENT, outer.UserDelete(K(1)));

        // BPF_F_INNER_MAP: inner arrays of any size
        var flexible = template with { Flags = MapFlags.InnerMap };
        using var outer2 = (ArrayOfMapsMap)MapFactory.Create(Spec(MapType.ArrayOfMaps, 4, 4, 2) with { InnerMap = flexible }, Cpus);
        using var big = MapFactory.Create(flexible with { MaxEntries = 100 }, Cpus);
        Assert.Equal(0, outer2.SetInnerMap(1, big));
    }

    [Fact]
    public void HashOfMaps_FlagsAndLookup()
    {
        var template = Spec(MapType.Hash, 4, 4, 8, name: "inner");
        using var outer = (HashOfMapsMap)MapFactory.Create(Spec(MapType.HashOfMaps, 4, 4, 1) with { InnerMap = template }, Cpus);
        using var a = MapFactory.Create(template, Cpus);
        using var b = MapFactory.Create(template, Cpus);
        a.Handle = 0xa;
        b.Handle = 0xb;
        Assert.Equal(-Errno.ENOENT, outer.SetInnerMap(K(5), a, MapUpdateFlags.Exist));
        Assert.Equal(0, outer.SetInnerMap(K(5), a));
        Assert.Equal(-Errno.EEXIST, outer.SetInnerMap(K(5), b, MapUpdateFlags.NoExist));
        Assert.Equal(-Errno.E2BIG, outer.SetInnerMap(K(6), b));
        Assert.Equal(0, outer.SetInnerMap(K(5), b, MapUpdateFlags.Exist)); // replace when full
        Assert.Equal(0xbUL, outer.Lookup(K(5), 0));
        Assert.Equal(0UL, outer.Lookup(K(6), 0));
        Assert.Equal([5u], KeysU32(outer));
        Assert.Equal(0, outer.UserDelete(K(5)));
        Assert.Equal(-Errno.ENOENT, outer.UserDelete(K(5)));
        Assert.Equal(0, outer.Count);
    }

    [Fact]
    public void BloomFilter_KernelCases()
    {
        // recorded on 6.18 (map_extra 3, 100 entries): push NOEXIST -22, push 0, peek 0, absent -2, delete -95
        var spec = Spec(MapType.BloomFilter, 0, 4, 100) with { MapExtra = 3 };
        using var m = (BloomFilterMap)MapFactory.Create(spec, Cpus);
        Assert.Equal(-Errno.EINVAL, m.Push(V32(5), MapUpdateFlags.NoExist));
        Assert.Equal(0, m.Push(V32(5), 0));
        Assert.Equal(0, m.Peek(V32(5)));
        Assert.Equal(-Errno.ENOENT, m.Peek(V32(6)));
        Assert.Equal(-Errno.EOPNOTSUPP, m.UserDelete([]));
        Assert.Equal(0, m.UserUpdate([], V32(7), 0));
        Assert.Equal(0, m.UserLookup([], V32(7)));
        Assert.Equal(0UL, m.Lookup([], 0));
    }
}
