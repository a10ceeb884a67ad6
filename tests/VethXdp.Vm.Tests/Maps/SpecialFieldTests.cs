using VethXdp.Vm.Elf;
using VethXdp.Vm.Maps;
using static VethXdp.Vm.Tests.Maps.MapTestUtil;

namespace VethXdp.Vm.Tests.Maps;

/// <summary>Special fields of map values (struct bpf_timer, struct bpf_spin_lock): found in the value's BTF, and read as
/// zeros in every copy handed to user space, as the kernel's check_and_init_map_value() leaves them.</summary>
public class SpecialFieldTests
{
    [Fact]
    public void ReadBtfMaps_ValueWithTimer_TimerOffsetFromBtf()
    {
        var obj = ElfObjectReader.Load(Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_timers.v4.o"));
        var sessions = obj.Maps.Single(m => m.Name == "sessions");
        var probes = obj.Maps.Single(m => m.Name == "probes");
        Assert.Equal(0, sessions.TimerOffset);
        Assert.Equal(0, probes.TimerOffset);
        Assert.Equal(-1, sessions.SpinLockOffset);
        Assert.All(obj.Maps.Where(m => m.IsGlobalData), m => Assert.Equal(-1, m.TimerOffset));
    }

    [Fact]
    public void UserLookup_ArrayValueWithTimer_TimerReadsAsZeros()
    {
        using var map = (ArrayMap)MapFactory.Create(Spec(MapType.Array, 4, 24, 2) with { TimerOffset = 0 }, Cpus);
        ulong value = map.Lookup(K(1), 0);
        Write64(value, 0xdeadbeef);          // what a timer helper keeps there
        Write64(value + 8, 0x1234);
        Write64(value + 16, 0x55);           // the rest of the value
        var copy = new byte[24];
        Assert.Equal(0, map.UserLookup(K(1), copy));
        Assert.Equal(new byte[16], copy[..16]);
        Assert.Equal(0x55UL, U64(copy.AsSpan(16)));
        Assert.Equal(0xdeadbeefUL, Read64(value));   // the map's own value keeps it
    }

    [Fact]
    public void Entries_HashValueWithTimerAfterData_TimerReadsAsZeros()
    {
        using var map = MapFactory.Create(Spec(MapType.Hash, 4, 32, 4) with { TimerOffset = 16 }, Cpus);
        Assert.Equal(0L, map.Update(K(7), new byte[32], 0, 0));
        ulong value = map.Lookup(K(7), 0);
        Write64(value, 3);
        Write64(value + 16, 0xfeed);
        Write64(value + 24, 0xbeef);
        var (key, copy) = Assert.Single(map.Entries());
        Assert.Equal(K(7), key);
        Assert.Equal(3UL, U64(copy));
        Assert.Equal(new byte[16], copy[16..]);
    }
}
