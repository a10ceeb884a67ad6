using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.Runtime;

/// <summary>Loading: map creation and sizes, map references, helper and kfunc checks, program choice.</summary>
public class LoadTests
{
    private static RuntimeLoadException Refused(string asm, params MapSpec[] maps) =>
        Assert.Throws<RuntimeLoadException>(() => Rt.Load(asm, maps));

    [Fact]
    public void UnknownHelperId_LoadErrorNamesInsnAndId()
    {
        var e = Refused("r0 = 0\ncall 999\nexit");
        Assert.Equal("program prog: insn 1: unknown helper id 999", e.Message);
        Assert.Equal(1, e.Insn);
        Assert.Equal("prog", e.ProgramName);
        Assert.Equal("unknown helper id 999", e.Reason);
    }

    [Fact]
    public void HelperNotForXdp_KernelMessage() =>
        Assert.Equal("program prog: insn 0: program of this type cannot use helper bpf_probe_read#4", Refused("call 4\nexit").Message);

    [Fact]
    public void HelperForXdpNotRegistered_SaysNotSupported()
    {
        var e = Assert.Throws<RuntimeLoadException>(() => LoadedObject.Create(
            [], [Rt.Xdp("call bpf_map_lookup_elem\nexit")], new LoadOptions { PossibleCpus = 1, Helpers = new HelperTable() }));
        Assert.Equal("program prog: insn 0: helper bpf_map_lookup_elem#1 is not supported yet", e.Message);
    }

    [Fact]
    public void UnknownKfunc_LoadError() =>
        Assert.Equal("program prog: insn 1: kfunc call (id 77) is not supported", Refused("r0 = 0\ncall kernel-function#77\nexit").Message);

    [Fact]
    public void MapIndexOutOfRange_LoadError() =>
        Assert.Equal("program prog: insn 0: map index 3 is out of range (the object has 1 maps)",
            Refused("r1 = map[idx:3]\nr0 = 0\nexit", Rt.Map("h", MapType.Hash, 4, 4, 4)).Message);

    [Fact]
    public void DirectValueAccess_OnHash_KernelMessage() =>
        Assert.Contains("no direct value access support for this map type",
            Refused("r1 = map[idx:0][0]+0\nr0 = 0\nexit", Rt.Map("h", MapType.Hash, 4, 4, 4)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData(8u, 1u)]
    [InlineData(0u, 2u)]
    public void DirectValueAccess_OffsetPastValueOrSeveralEntries_KernelMessage(uint offset, uint entries) =>
        Assert.Contains($"invalid access to map value pointer, value_size=8 off={offset}",
            Refused($"r1 = map[idx:0][0]+{offset}\nr0 = 0\nexit", Rt.Map("a", MapType.Array, 4, 8, entries)).Message, StringComparison.Ordinal);

    [Fact]
    public void KernelVariable_NotSupported() =>
        Assert.Contains("__ksym", Refused("ld_pseudo r1, 3, 1\nr0 = 0\nexit").Message, StringComparison.Ordinal);

    [Fact]
    public void MaxEntriesZero_NeedsMapSize()
    {
        var spec = Rt.Map("flows", MapType.Hash, 4, 8, 0);
        var e = Refused("r0 = 2\nexit", spec);
        Assert.Contains("--map-size flows=N", e.Message, StringComparison.Ordinal);
        using var obj = LoadedObject.Create([spec], [Rt.Xdp("r0 = 2\nexit")],
            new LoadOptions { PossibleCpus = 1, MapSizes = new Dictionary<string, uint> { ["flows"] = 16 } });
        Assert.Equal(16u, obj.Maps["flows"].Spec.MaxEntries);
    }

    [Fact]
    public void MapSize_UnknownName_Refused()
    {
        var e = Assert.Throws<RuntimeLoadException>(() => LoadedObject.Create([], [Rt.Xdp("r0 = 2\nexit")],
            new LoadOptions { PossibleCpus = 1, MapSizes = new Dictionary<string, uint> { ["nope"] = 4 } }));
        Assert.Contains("no map named \"nope\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PerfEventArray_SizedToCpus()
    {
        using var obj = LoadedObject.Create([Rt.Map("events", MapType.PerfEventArray, 4, 4, 0)], [Rt.Xdp("r0 = 2\nexit")], new LoadOptions { PossibleCpus = 3 });
        Assert.Equal(3u, obj.Maps["events"].Spec.MaxEntries);
    }

    [Fact]
    public void Maps_HandlesAreDistinctAndResolve()
    {
        using var obj = Rt.Load("r0 = 2\nexit", Rt.Map("a", MapType.Hash, 4, 4, 4), Rt.Map("b", MapType.Array, 4, 4, 4));
        var a = obj.Maps["a"];
        var b = obj.Maps[1];
        Assert.Equal(obj.Maps.HandleBase, a.Handle);
        Assert.Equal(obj.Maps.HandleBase + 64, b.Handle);
        Assert.Same(b, obj.Maps.ResolveMap(b.Handle));
        Assert.Null(obj.Maps.ResolveMap(b.Handle + 8));
        Assert.Null(obj.Maps.ResolveMap(obj.Maps.HandleBase + 128));
        Assert.Equal(2u, b.Id);
        Assert.Throws<KeyNotFoundException>(() => obj.Maps["c"]);
    }

    [Fact]
    public void GetProgram_NullWithSeveral_ListsNames()
    {
        using var obj = Rt.Load([], Rt.Xdp("r0 = 2\nexit", "first"), Rt.Xdp("r0 = 1\nexit", "second"));
        var e = Assert.Throws<RuntimeLoadException>(() => obj.GetProgram(null));
        Assert.Contains("first, second", e.Message, StringComparison.Ordinal);
        Assert.Equal("second", obj.GetProgram("second").Name);
        Assert.Contains("no program named \"third\"", Assert.Throws<RuntimeLoadException>(() => obj.GetProgram("third")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NotXdp_RunnerRefuses()
    {
        var tc = new ProgramSpec { Name = "tcprog", SectionName = "tc", Type = ProgramType.SchedCls, Slots = Rt.Xdp("r0 = 0\nexit").Slots };
        using var obj = Rt.Load([], tc);
        Assert.Contains("is not an XDP program", Assert.Throws<RuntimeLoadException>(() => new XdpRunner(obj)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NotAutoLoaded_CheckedOnlyWhenChosen()
    {
        var bad = Rt.Xdp("call 999\nexit", "opt") with { AutoLoad = false };
        using var obj = Rt.Load([], Rt.Xdp("r0 = 2\nexit", "good"), bad);
        Assert.NotNull(new XdpRunner(obj, "good"));
        Assert.Contains("unknown helper id 999", Assert.Throws<RuntimeLoadException>(() => new XdpRunner(obj, "opt")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InitialSlots_UnknownProgram_Refused()
    {
        var progs = Rt.Map("progs", MapType.ProgArray, 4, 4, 2) with { InitialSlots = [new MapSlotInit(0, "missing")] };
        Assert.Contains("no program named \"missing\"", Refused("r0 = 2\nexit", progs).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InitialSlots_MapOfMaps_InnerMapByName()
    {
        var inner = Rt.Map("inner", MapType.Array, 4, 8, 4);
        var outer = Rt.Map("outer", MapType.ArrayOfMaps, 4, 4, 2) with { InnerMap = inner, InitialSlots = [new MapSlotInit(1, "inner")] };
        // lookup(outer, 1) -> the inner map; lookup(inner, 0) -> its value; r0 = value
        const string asm = """
            *(u32 *)(r10 -4) = 1
            r1 = map[idx:1]
            r2 = r10
            r2 += -4
            call bpf_map_lookup_elem
            if r0 == 0 goto miss
            *(u32 *)(r10 -4) = 0
            r1 = r0
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
        using var obj = Rt.Load([inner, outer], Rt.Xdp(asm));
        Assert.Equal(0, obj.Maps["inner"].UserUpdate(Rt.U32(0), Rt.U64(77), 0));
        using var runner = new XdpRunner(obj);
        Assert.Equal(77u, runner.Run(Rt.Frame()).Retval);
    }

    [Fact]
    public void BadMapDefinition_RefusedWithMapName()
    {
        var e = Refused("r0 = 2\nexit", Rt.Map("rb", MapType.Ringbuf, 0, 0, 1000));
        Assert.Contains("map \"rb\"", e.Message, StringComparison.Ordinal);
        Assert.IsType<MapCreateException>(e.InnerException);
    }

    [Fact]
    public void LoadOptions_MachineCpus_Positive() => Assert.True(LoadOptions.MachinePossibleCpus() > 0);
}
