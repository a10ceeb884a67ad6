using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.Helpers;

/// <summary>The map helpers on real maps: return values and errnos as the kernel's.</summary>
public class MapHelperTests
{
    // key 7 at fp-4, value 42 at fp-16; r6 = bpf_map_update_elem(map 0, key, value, FLAGS)
    private static string Update(ulong flags, uint key = 7) => $"""
        *(u32 *)(r10 -4) = {key}
        *(u64 *)(r10 -16) = 42
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = {flags}
        call bpf_map_update_elem
        r6 = r0

        """;

    private const string LookupKey7 = """
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto miss
        r0 = *(u64 *)(r0 +0)
        exit
        miss:
        r0 = 999
        exit
        """;

    private static MapSpec Hash(uint max = 8) => Rt.Map("h", MapType.Hash, 4, 8, max);

    [Fact]
    public void UpdateThenLookup_Hash_ValueThroughPointer() =>
        Assert.Equal(42u, Rt.RunOnce(Update(0) + LookupKey7, maps: Hash()).Retval);

    [Fact]
    public void Lookup_Missing_ReturnsNull() =>
        Assert.Equal(999u, Rt.RunOnce("*(u32 *)(r10 -4) = 7\n" + LookupKey7, maps: Hash()).Retval);

    [Theory]
    [InlineData(1UL, 0)]                    // BPF_NOEXIST on a new key
    [InlineData(2UL, -Errno.ENOENT)]        // BPF_EXIST on a new key
    [InlineData(3UL, -Errno.EINVAL)]        // unknown flags
    public void Update_Flags_KernelErrno(ulong flags, int expected) =>
        Assert.Equal(Rt.Err(-expected), Rt.RunOnce(Update(flags) + "r0 = r6\nexit", maps: Hash()).Retval);

    [Fact]
    public void Update_NoExistTwice_Eexist()
    {
        var o = Rt.RunOnce(Update(0) + Update(1) + "r0 = r6\nexit", maps: Hash());
        Assert.Equal(Rt.Err(Errno.EEXIST), o.Retval);
    }

    [Fact]
    public void Update_HashFull_E2big()
    {
        // max_entries 1: a second key does not fit.
        var o = Rt.RunOnce(Update(0) + Update(0, key: 8) + "r0 = r6\nexit", maps: Hash(1));
        Assert.Equal(Rt.Err(Errno.E2BIG), o.Retval);
    }

    [Fact]
    public void Delete_Missing_Enoent_Present_Zero()
    {
        const string delete = """
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_delete_elem

            """;
        Assert.Equal(Rt.Err(Errno.ENOENT), Rt.RunOnce("*(u32 *)(r10 -4) = 7\n" + delete + "exit", maps: Hash()).Retval);
        Assert.Equal(0u, Rt.RunOnce(Update(0) + delete + "exit", maps: Hash()).Retval);
        Assert.Equal(999u, Rt.RunOnce(Update(0) + delete + LookupKey7, maps: Hash()).Retval);
    }

    [Fact]
    public void Array_LookupPastEnd_Null_DeleteEinval()
    {
        var map = Rt.Map("a", MapType.Array, 4, 8, 4);
        Assert.Equal(999u, Rt.RunOnce("*(u32 *)(r10 -4) = 4\n" + LookupKey7, maps: map).Retval);
        Assert.Equal(0u, Rt.RunOnce("*(u32 *)(r10 -4) = 3\n" + LookupKey7, maps: map).Retval);
        Assert.Equal(Rt.Err(Errno.EINVAL), Rt.RunOnce("*(u32 *)(r10 -4) = 3\nr1 = map[idx:0]\nr2 = r10\nr2 += -4\ncall bpf_map_delete_elem\nexit", maps: map).Retval);
    }

    [Fact]
    public void PercpuArray_ProgramWritesItsCpusValue()
    {
        var spec = Rt.Map("pc", MapType.PercpuArray, 4, 8, 1);
        const string asm = """
            *(u32 *)(r10 -4) = 0
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            if r0 == 0 goto out
            *(u64 *)(r0 +0) = 5
            out:
            r0 = 2
            exit
            """;
        using var obj = Rt.Load(asm, spec);
        using var runner = new XdpRunner(obj, null, new RunOptions { Cpu = 1 });
        Assert.Null(runner.Run(Rt.Frame()).Error);
        var values = new byte[16];
        Assert.Equal(0, obj.Maps["pc"].UserLookup(Rt.U32(0), values));
        Assert.Equal(0UL, BitConverter.ToUInt64(values, 0));
        Assert.Equal(5UL, BitConverter.ToUInt64(values, 8));
    }

    [Theory]
    [InlineData(0u, 10u)]
    [InlineData(1u, 11u)]
    [InlineData(2u, 999u)]      // not below the 2 possible CPUs: NULL
    public void LookupPercpuElem_ByCpu(uint cpu, uint expected)
    {
        var spec = Rt.Map("pc", MapType.PercpuArray, 4, 8, 1);
        using var obj = Rt.Load($"""
            *(u32 *)(r10 -4) = 0
            r1 = map[idx:0]
            r2 = r10
            r2 += -4
            r3 = {cpu}
            call bpf_map_lookup_percpu_elem
            if r0 == 0 goto miss
            r0 = *(u64 *)(r0 +0)
            exit
            miss:
            r0 = 999
            exit
            """, spec);
        Assert.Equal(0, obj.Maps["pc"].UserUpdate(Rt.U32(0), [.. Rt.U64(10), .. Rt.U64(11)], 0));
        using var runner = new XdpRunner(obj);
        Assert.Equal(expected, runner.Run(Rt.Frame()).Retval);
    }

    [Theory]
    [InlineData(MapType.Queue, 1u)]
    [InlineData(MapType.Stack, 3u)]
    public void PushThenPop_QueueFifo_StackLifo(MapType type, uint first)
    {
        var spec = Rt.Map("q", type, 0, 8, 4);
        var o = Rt.RunOnce("""
            r7 = 1
            push:
            *(u64 *)(r10 -8) = r7
            r1 = map[idx:0]
            r2 = r10
            r2 += -8
            r3 = 0
            call bpf_map_push_elem
            r7 += 1
            if r7 < 4 goto push
            r1 = map[idx:0]
            r2 = r10
            r2 += -16
            call bpf_map_pop_elem
            if r0 != 0 goto out
            r0 = *(u64 *)(r10 -16)
            out:
            exit
            """, maps: spec);
        Assert.Equal(first, o.Retval);
    }

    [Fact]
    public void PopPeek_Empty_Enoent()
    {
        var spec = Rt.Map("q", MapType.Queue, 0, 8, 4);
        Assert.Equal(Rt.Err(Errno.ENOENT), Rt.RunOnce("r1 = map[idx:0]\nr2 = r10\nr2 += -8\ncall bpf_map_pop_elem\nexit", maps: spec).Retval);
        Assert.Equal(Rt.Err(Errno.ENOENT), Rt.RunOnce("r1 = map[idx:0]\nr2 = r10\nr2 += -8\ncall bpf_map_peek_elem\nexit", maps: spec).Retval);
    }

    [Fact]
    public void Lookup_OnQueue_FaultsWithKernelMessage()
    {
        var o = Rt.RunOnce("r1 = map[idx:0]\nr2 = r10\nr2 += -8\ncall bpf_map_lookup_elem\nexit", maps: Rt.Map("q", MapType.Queue, 0, 8, 4));
        Assert.NotNull(o.Error);
        Assert.Equal(4, o.Error.Insn);
        Assert.Equal("cannot pass map_type 22 into func bpf_map_lookup_elem#1", o.Error.Message);
    }

    [Fact]
    public void Lookup_KeyOutsideMemory_Faults()
    {
        var o = Rt.RunOnce("r1 = map[idx:0]\nr2 = 0\ncall bpf_map_lookup_elem\nexit", maps: Hash());
        Assert.NotNull(o.Error);
        Assert.Contains("out-of-bounds load of 4 bytes at 0x0", o.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lookup_NotAMap_Faults()
    {
        var o = Rt.RunOnce("r1 = 12345\nr2 = r10\nr2 += -8\ncall bpf_map_lookup_elem\nexit", maps: Hash());
        Assert.NotNull(o.Error);
        Assert.Equal("R1 is not a map pointer (0x3039)", o.Error.Message);
    }

    [Fact]
    public void MapHandle_NotReadable()
    {
        // The handle is an address no region covers: a program cannot look inside struct bpf_map.
        var o = Rt.RunOnce("r1 = map[idx:0]\nr0 = *(u64 *)(r1 +0)\nexit", maps: Hash());
        Assert.NotNull(o.Error);
        Assert.Equal(2, o.Error.Insn);
    }

    [Fact]
    public void GlobalData_DirectValueAccess_ReadsInitialData_RodataReadOnly()
    {
        var rodata = Rt.Global(".rodata", [1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Equal(0x08070605u, Rt.RunOnce("r1 = map[idx:0][0]+4\nr0 = *(u32 *)(r1 +0)\nexit", maps: rodata).Retval);
        var write = Rt.RunOnce("r1 = map[idx:0][0]+4\n*(u32 *)(r1 +0) = 1\nr0 = 2\nexit", maps: rodata);
        Assert.NotNull(write.Error);
        Assert.Contains("read-only", write.Error.Message, StringComparison.Ordinal);
        var data = Rt.Global(".data", [1, 2, 3, 4], frozen: false);
        Assert.Null(Rt.RunOnce("r1 = map[idx:0][0]+0\n*(u32 *)(r1 +0) = 1\nr0 = 2\nexit", maps: data).Error);
    }
}
