using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

public class RedirectMapTests
{
    private sealed record Dev(int Ifindex, string Name, uint Mtu) : INetDevice;

    private sealed class Devices(params Dev[] devs) : INetDeviceResolver
    {
        public INetDevice? Find(int ifindex) => devs.FirstOrDefault(d => d.Ifindex == ifindex);
    }

    private static byte[] DevVal(uint ifindex, int fd) => [.. V32(ifindex), .. BitConverter.GetBytes(fd)];

    [Fact]
    public void Devmap_KernelCases()
    {
        // recorded on 6.18 (max_entries 4, lo = 1 exists, 99999 does not)
        using var m = Create<DevMap>(MapType.Devmap, 4, 4, 4);
        m.DeviceResolver = new Devices(new Dev(1, "lo", 65536), new Dev(5, "veth0", 1500));
        Assert.Equal(0, m.UserUpdate(K(0), V32(1), 0));
        Assert.Equal(-Errno.EINVAL, m.UserUpdate(K(0), V32(99999), 0));
        Assert.Equal(-Errno.EEXIST, m.UserUpdate(K(0), V32(1), MapUpdateFlags.NoExist));
        Assert.Equal(0, m.UserUpdate(K(2), V32(5), MapUpdateFlags.Exist));
        Assert.Equal(-Errno.EINVAL, m.UserUpdate(K(2), V32(5), 3));
        Assert.Equal(-Errno.E2BIG, m.UserUpdate(K(4), V32(1), 0));
        Assert.Equal(-Errno.EINVAL, m.UserDelete(K(4)));
        Assert.Equal(0, m.UserDelete(K(3)));
        Assert.Equal(-Errno.ENOENT, m.UserLookup(K(3), new byte[4]));
        Assert.Equal(2, m.Count);
        Assert.True(m.TryGetRedirectTarget(2, out uint ifindex));
        Assert.Equal(5u, ifindex);
        Assert.True(m.TryGetEntry(2, out var e));
        Assert.Equal("veth0", e.Device!.Name);
        Assert.False(m.TryGetRedirectTarget(3, out _));
        Assert.False(m.TryGetRedirectTarget(400, out _));
        Assert.Equal(0, m.UserUpdate(K(0), V32(0), 0)); // ifindex 0 empties the slot
        Assert.Equal(-Errno.ENOENT, m.UserLookup(K(0), new byte[4]));
        Assert.Equal([0u, 1, 2, 3], KeysU32(m)); // every index, as the kernel walks them
        var entries = m.Entries().ToList();
        Assert.Equal(2u, U32(Assert.Single(entries).Key));
    }

    [Fact]
    public void Devmap_ProgramLookup_ReadOnlyBpfDevmapVal()
    {
        var progs = new Dictionary<uint, object> { [7] = "devmap_prog" };
        using var m = Create<DevMap>(MapType.Devmap, 4, 8, 4);
        m.ProgramResolver = fd => progs.GetValueOrDefault(fd);
        Assert.Equal(-Errno.EINVAL, m.UserUpdate(K(1), DevVal(3, 999), 0)); // no such program
        Assert.Equal(-Errno.EINVAL, m.UserUpdate(K(1), DevVal(0, 7), 0)); // fd with ifindex 0
        Assert.Equal(0, m.UserUpdate(K(1), DevVal(3, 7), 0));
        Assert.Equal(0, m.UserUpdate(K(2), DevVal(4, 0), 0));
        ulong a = m.Lookup(K(1), 0);
        Assert.True(InRegion(m, a, 8, write: false));
        Assert.False(InRegion(m, a, 4, write: true));
        Assert.Equal(3u, Read32(a));
        Assert.Equal(7u, Read32(a + 4)); // bpf_prog.id
        Assert.Equal("devmap_prog", m.GetProgram(1));
        Assert.Null(m.GetProgram(2));
        var user = new byte[8];
        Assert.Equal(0, m.UserLookup(K(2), user));
        Assert.Equal((4u, 0u), (U32(user), U32(user.AsSpan(4))));
        var all = new DevMapEntry[8];
        Assert.Equal(2, m.CopyEntries(all));
        Assert.Equal(1u, all[0].Key);
        Assert.Equal("devmap_prog", all[0].Program);
        Assert.Equal(0UL, m.Lookup(K(3), 0));
    }

    [Fact]
    public void Devmap_WithoutResolver_AnyPositiveIfindex()
    {
        using var m = Create<DevMap>(MapType.Devmap, 4, 4, 2);
        Assert.Equal(0, m.UserUpdate(K(0), V32(12345), 0));
        Assert.Equal(-Errno.EINVAL, m.UserUpdate(K(1), V32(0x80000000), 0));
        Assert.Equal(0, m.SetTarget(1, 9));
        Assert.True(m.TryGetRedirectTarget(1, out uint i));
        Assert.Equal(9u, i);
    }

    [Fact]
    public void DevmapHash_KernelCases()
    {
        // recorded on 6.18 (max_entries 2): EXIST on an absent key inserts, NOEXIST present -17, ifindex 0 -22,
        // full -7, delete absent -2, get_next_key order 100 7
        using var m = Create<DevMapHash>(MapType.DevmapHash, 4, 4, 2);
        Assert.Equal(0, m.UserUpdate(K(100), V32(1), MapUpdateFlags.Exist));
        Assert.Equal(-Errno.EEXIST, m.UserUpdate(K(100), V32(1), MapUpdateFlags.NoExist));
        Assert.Equal(-Errno.EINVAL, m.UserUpdate(K(7), V32(0), 0));
        Assert.Equal(0, m.UserUpdate(K(7), V32(1), 0));
        Assert.Equal(-Errno.E2BIG, m.UserUpdate(K(8), V32(1), 0));
        Assert.Equal(-Errno.ENOENT, m.UserDelete(K(8)));
        Assert.Equal([100u, 7], KeysU32(m));
        Assert.Equal(0, m.UserUpdate(K(100), V32(6), 0)); // replace when full
        Assert.True(m.TryGetRedirectTarget(100, out uint ifindex));
        Assert.Equal(6u, ifindex);
        Assert.Equal(6u, Read32(m.Lookup(K(100), 0)));
        Assert.Equal(0, m.UserDelete(K(7)));
        Assert.False(m.TryGetRedirectTarget(7, out _));
        Assert.Equal(0UL, m.Lookup(K(7), 0));
        Assert.Equal(1, m.Count);
        var all = new DevMapEntry[4];
        Assert.Equal(1, m.CopyEntries(all));
    }

    [Fact]
    public void Cpumap_KernelCases()
    {
        // recorded on 6.18 (max_entries 8, 2 possible CPUs): qsize 20000 -75, cpu 5 -19, index 8 -7, NOEXIST -17,
        // lookup gives the qsize, qsize 0 deletes, delete past the end -22, a bad program fd -12
        using var m = Create<CpuMap>(MapType.Cpumap, 4, 4, 8);
        Assert.Equal(-Errno.EOVERFLOW, m.UserUpdate(K(0), V32(20000), 0));
        Assert.Equal(-Errno.ENODEV, m.UserUpdate(K(5), V32(192), 0));
        Assert.Equal(-Errno.E2BIG, m.UserUpdate(K(8), V32(192), 0));
        Assert.Equal(-Errno.EEXIST, m.UserUpdate(K(0), V32(192), MapUpdateFlags.NoExist));
        Assert.Equal(0, m.UserUpdate(K(0), V32(192), 0));
        var v = new byte[4];
        Assert.Equal(0, m.UserLookup(K(0), v));
        Assert.Equal(192u, U32(v));
        Assert.True(m.TryGetRedirectTarget(0, out uint cpu, out uint qsize));
        Assert.Equal((0u, 192u), (cpu, qsize));
        Assert.False(InRegion(m, m.Lookup(K(0), 0), 4, write: true));
        Assert.Equal(0, m.UserUpdate(K(0), V32(0), 0));
        Assert.Equal(-Errno.ENOENT, m.UserLookup(K(0), v));
        Assert.False(m.TryGetRedirectTarget(0, out _, out _));
        Assert.Equal(-Errno.EINVAL, m.UserDelete(K(9)));
        using var m8 = Create<CpuMap>(MapType.Cpumap, 4, 8, 8);
        Assert.Equal(-Errno.ENOMEM, m8.UserUpdate(K(0), DevVal(64, 999), 0));
        m8.ProgramResolver = fd => fd == 3 ? "cpumap_prog" : null;
        Assert.Equal(0, m8.UserUpdate(K(1), DevVal(64, 3), 0));
        Assert.Equal("cpumap_prog", m8.GetProgram(1));
    }

    [Fact]
    public void Xskmap_KernelCases()
    {
        // recorded on 6.18: user lookup -95, delete past the end -22
        using var m = Create<XskMap>(MapType.Xskmap, 4, 4, 4);
        Assert.Equal(-Errno.EOPNOTSUPP, m.UserLookup(K(0), new byte[4]));
        Assert.Equal(-Errno.ENOENT, m.UserUpdate(K(0), V32(10), MapUpdateFlags.Exist));
        Assert.Equal(0UL, m.Lookup(K(0), 0));
        Assert.Equal(0, m.UserUpdate(K(0), V32(10), 0));
        Assert.Equal(0, m.UserUpdate(K(0), V32(10), MapUpdateFlags.NoExist)); // the same socket again
        Assert.Equal(-Errno.EEXIST, m.UserUpdate(K(0), V32(11), MapUpdateFlags.NoExist));
        Assert.NotEqual(0UL, m.Lookup(K(0), 0));
        Assert.True(m.TryGetRedirectTarget(0, out uint fd, out object? sock));
        Assert.Equal(10u, fd);
        Assert.Null(sock);
        Assert.Equal(-Errno.E2BIG, m.UserUpdate(K(4), V32(10), 0));
        Assert.Equal(-Errno.EINVAL, m.UserDelete(K(9)));
        Assert.Equal(0, m.UserDelete(K(0)));
        Assert.False(m.TryGetRedirectTarget(0, out _, out _));
        m.SocketResolver = f => f == 20 ? "xsk" : null;
        Assert.Equal(-Errno.EBADF, m.UserUpdate(K(1), V32(21), 0));
        Assert.Equal(0, m.UserUpdate(K(1), V32(20), 0));
        Assert.True(m.TryGetRedirectTarget(1, out _, out sock));
        Assert.Equal("xsk", sock);
    }
}
