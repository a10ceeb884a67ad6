using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Tests.Interpreter;

public class RegionTableTests
{
    private static RegionTable Table()
    {
        var t = new RegionTable();
        t.Add(new MemoryRegion(0x1000, 0x100, RegionKind.Stack, true, "stack frame 0"));
        t.Add(new MemoryRegion(0x2000, 24, RegionKind.Context, false, "context"));
        return t;
    }

    [Theory]
    [InlineData(0x1000UL, 8, false, 0)]
    [InlineData(0x10f8UL, 8, true, 0)]
    [InlineData(0x10f9UL, 8, false, -1)]     // straddles the end
    [InlineData(0xfffUL, 1, false, -1)]
    [InlineData(0x2000UL, 4, false, 1)]
    [InlineData(0x2000UL, 4, true, -1)]      // read only
    [InlineData(0xffffffffffffffffUL, 8, false, -1)]
    public void Find_Access_RegionOrMinusOne(ulong address, int size, bool write, int expected)
    {
        var t = Table();
        Assert.Equal(expected, t.Find(address, size, write));
        Assert.Equal(expected, t.Find(address, size, write));   // again, through the last-hit cache
    }

    [Fact]
    public void Find_AfterRemoval_DoesNotUseStaleCache()
    {
        var t = Table();
        Assert.Equal(1, t.Find(0x2000, 4, false));
        t.RemoveLast();
        Assert.Equal(-1, t.Find(0x2000, 4, false));
        Assert.Equal(1, t.Count);
    }

    [Fact]
    public void Add_Overlapping_Throws()
    {
        var t = Table();
        Assert.Throws<InvalidOperationException>(() => t.Add(new MemoryRegion(0x10ff, 2, RegionKind.Input, true, "input memory")));
    }

    [Fact]
    public void DescribeViolation_Cases_NameTheNearestRegion()
    {
        var t = Table();
        Assert.Equal("out-of-bounds store of 4 bytes at 0x1108 (8 bytes past the end of stack frame 0 [0x1000, 256 bytes))", t.DescribeViolation(0x1108, 4, true));
        Assert.Equal("out-of-bounds load of 2 bytes at 0xffe (2 bytes before the start of stack frame 0 [0x1000, 256 bytes))", t.DescribeViolation(0xffe, 2, false));
        Assert.Equal("out-of-bounds load of 8 bytes at 0x10fc (the last 4 bytes are past the end of stack frame 0 [0x1000, 256 bytes))", t.DescribeViolation(0x10fc, 8, false));
        Assert.Equal("out-of-bounds store of 1 byte at 0x2004 (context [0x2000, 24 bytes) is read-only)", t.DescribeViolation(0x2004, 1, true));
        Assert.Equal("out-of-bounds load of 1 byte at 0x0 (no memory regions are registered)", new RegionTable().DescribeViolation(0, 1, false));
    }

    [Fact]
    public void Truncate_KeepsFirstRegions()
    {
        var t = Table();
        t.Truncate(1);
        Assert.Equal(1, t.Count);
        Assert.Equal("stack frame 0", t[0].Name);
        t.Clear();
        Assert.Equal(0, t.Count);
    }
}
