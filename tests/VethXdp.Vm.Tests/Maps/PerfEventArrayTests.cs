using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

public class PerfEventArrayTests
{
    [Fact]
    public void Output_CurrentCpuAndIndex_KernelErrors()
    {
        using var m = (PerfEventArrayMap)MapFactory.Create(Spec(MapType.PerfEventArray, 4, 4, 4, name: "events"), 2);
        Assert.Equal(0, m.Output(PerfEventArrayMap.CurrentCpu, [1, 2], [], 1));
        Assert.Equal(0, m.Output(0, [3], [], 0));
        Assert.Equal(-Errno.EOPNOTSUPP, m.Output(1, [3], [], 0)); // another CPU's event
        Assert.Equal(-Errno.ENOENT, m.Output(2, [3], [], 2)); // no event opened at index 2
        Assert.Equal(-Errno.E2BIG, m.Output(4, [3], [], 0));
        Assert.Equal(-Errno.EINVAL, m.Output(1UL << 63, [3], [], 0));
        var recs = m.DrainRecords();
        Assert.Equal(2, recs.Count);
        Assert.Equal(new MapEvent("events", 1, [1, 2]).Data, recs[0].Data);
        Assert.Equal(1, recs[0].Cpu);
        Assert.Equal(0, recs[1].Cpu);
        Assert.Empty(m.DrainRecords());
    }

    [Fact]
    public void Output_CtxLen_AppendsPacketBytes()
    {
        using var m = Create<PerfEventArrayMap>(MapType.PerfEventArray, 4, 4, 2);
        ulong flags = PerfEventArrayMap.CurrentCpu | (3UL << 32);
        Assert.Equal(0, m.Output(flags, [9], [0xa, 0xb, 0xc], 0));
        Assert.Equal(new byte[] { 9, 0xa, 0xb, 0xc }, Assert.Single(m.DrainRecords()).Data);
        var sink = new EventCollector();
        m.Sink = sink;
        Assert.Equal(0, m.Output(flags, [8], [1, 2, 3], 1));
        Assert.Equal(new byte[] { 8, 1, 2, 3 }, Assert.Single(sink.Events).Data);
    }

    [Fact]
    public void UserSide_OpenCloseSlots()
    {
        // recorded on 6.18: lookup -524 (ENOTSUPP), delete of a closed slot -2, past the end -7
        using var m = Create<PerfEventArrayMap>(MapType.PerfEventArray, 4, 4, 4);
        Assert.Equal(-Errno.ENOTSUPP, m.UserLookup(K(0), new byte[4]));
        Assert.Equal(-Errno.ENOENT, m.UserDelete(K(3)));
        Assert.Equal(-Errno.E2BIG, m.UserDelete(K(4)));
        Assert.Equal(0, m.UserDelete(K(0)));
        Assert.False(m.IsOpen(0));
        Assert.Equal(-Errno.ENOENT, m.Output(0, [1], [], 0));
        Assert.Equal(-Errno.EINVAL, m.UserUpdate(K(0), V32(5), MapUpdateFlags.NoExist));
        Assert.Equal(0, m.UserUpdate(K(0), V32(5), 0));
        Assert.True(m.IsOpen(0));
        Assert.Empty(m.Entries());
        Assert.Equal([0u, 1, 2, 3], KeysU32(m));
    }
}
