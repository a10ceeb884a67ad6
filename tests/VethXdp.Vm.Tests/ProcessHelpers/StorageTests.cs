using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.CurrentTask;

/// <summary>Task and cgroup local storage: the sequence Linux 6.18 ran for an XDP program, and map creation checks.</summary>
public class StorageTests
{
    private static MapSpec Storage(MapType type, uint flags = MapFlags.NoPrealloc, uint max = 0, uint key = 4, uint value = 8) =>
        Rt.Map(type == MapType.TaskStorage ? "ts" : "cs", type, key, value, max, flags);

    private static string Step(int slot, string call) => $"""
        {call}
        *(u64 *)(r7 +{slot * 8}) = r0

        """;

    [Fact]
    public void TaskStorage_KernelSequence_SameResultsAsLinux()
    {
        // get (no create) -> NULL; create -> value (zeroed), set 7; get -> 7; delete -> 0; delete -> -ENOENT;
        // get with an unknown flag -> NULL. Linux: [0, 1, 0, 7, 0, -2, 0].
        string asm = Proc.OutInR7 + """
            call bpf_get_current_task_btf
            r6 = r0

            """
            + Step(0, "r1 = map[idx:1]\nr2 = r6\nr3 = 0\nr4 = 0\ncall bpf_task_storage_get")
            + """
            r1 = map[idx:1]
            r2 = r6
            r3 = 0
            r4 = 1
            call bpf_task_storage_get
            if r0 == 0 goto fail
            r1 = 1
            *(u64 *)(r7 +8) = r1
            r1 = *(u64 *)(r0 +0)
            *(u64 *)(r7 +16) = r1
            r1 = 7
            *(u64 *)(r0 +0) = r1
            r1 = map[idx:1]
            r2 = r6
            r3 = 0
            r4 = 0
            call bpf_task_storage_get
            if r0 == 0 goto fail
            r1 = *(u64 *)(r0 +0)
            *(u64 *)(r7 +24) = r1

            """
            + Step(4, "r1 = map[idx:1]\nr2 = r6\ncall bpf_task_storage_delete")
            + Step(5, "r1 = map[idx:1]\nr2 = r6\ncall bpf_task_storage_delete")
            + Step(6, "r1 = map[idx:1]\nr2 = r6\nr3 = 0\nr4 = 2\ncall bpf_task_storage_get")
            + Proc.Done;
        using var obj = Proc.Load(asm, Proc.Out(), Storage(MapType.TaskStorage));
        using var runner = new XdpRunner(obj);
        Assert.Equal(Rt.Pass, runner.Run(Rt.Frame()).Retval);
        var v = Proc.ReadOut(obj);
        Assert.Equal([0L, 1L, 0L, 7L, 0L, -Errno.ENOENT, 0L], Enumerable.Range(0, 7).Select(i => Proc.U64(v, i)).ToArray());
    }

    [Fact]
    public void NullOwners_KernelSequence_SameResultsAsLinux()
    {
        // Linux: task_storage_get(NULL) NULL, task_storage_delete(NULL) -EINVAL, the same for cgroups.
        string asm = Proc.OutInR7
            + Step(0, "r1 = map[idx:1]\nr2 = 0\nr3 = 0\nr4 = 1\ncall bpf_task_storage_get")
            + Step(1, "r1 = map[idx:1]\nr2 = 0\ncall bpf_task_storage_delete")
            + Step(2, "r1 = map[idx:2]\nr2 = 0\nr3 = 0\nr4 = 1\ncall bpf_cgrp_storage_get")
            + Step(3, "r1 = map[idx:2]\nr2 = 0\ncall bpf_cgrp_storage_delete")
            + Proc.Done;
        using var obj = Proc.Load(asm, Proc.Out(), Storage(MapType.TaskStorage), Storage(MapType.CgrpStorage));
        using var runner = new XdpRunner(obj);
        Assert.Equal(Rt.Pass, runner.Run(Rt.Frame()).Retval);
        var v = Proc.ReadOut(obj);
        Assert.Equal([0L, -Errno.EINVAL, 0L, -Errno.EINVAL], Enumerable.Range(0, 4).Select(i => Proc.U64(v, i)).ToArray());
    }

    [Fact]
    public void TaskStorage_CreateFromValue_CopiesItAndPersistsAcrossRuns()
    {
        string asm = """
            *(u64 *)(r10 -8) = 41
            call bpf_get_current_task_btf
            r2 = r0
            r1 = map[idx:0]
            r3 = r10
            r3 += -8
            r4 = 1
            call bpf_task_storage_get
            if r0 == 0 goto fail
            r1 = *(u64 *)(r0 +0)
            r1 += 1
            *(u64 *)(r0 +0) = r1
            r0 = r1
            exit
            fail:
            r0 = 999
            exit
            """;
        using var obj = Proc.Load(asm, Storage(MapType.TaskStorage));
        using var runner = new XdpRunner(obj);
        Assert.Equal(42u, runner.Run(Rt.Frame()).Retval);
        Assert.Equal(43u, runner.Run(Rt.Frame()).Retval);
        var map = (LocalStorageMap)obj.Maps["ts"];
        Assert.Equal(1, map.Count);
        Assert.Empty(map.Entries());                                   // no get_next_key, as in Linux
        Assert.Equal(-Errno.EBADF, map.UserLookup(new byte[4], new byte[8]));
    }

    [Fact]
    public void TaskStorage_OtherMapType_FaultsWithVerifierMessage()
    {
        var o = Proc.Run("r1 = map[idx:0]\nr2 = 0\nr3 = 0\nr4 = 0\ncall bpf_task_storage_get\nexit", null, Rt.Map("h", MapType.Hash, 4, 8, 4));
        Assert.NotNull(o.Error);
        Assert.Contains("cannot pass map_type 1 into func bpf_task_storage_get#156", o.Error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MapFlags.NoPrealloc, 1u, 4u, 8u, Errno.EINVAL)]       // max_entries must be 0
    [InlineData(0u, 0u, 4u, 8u, Errno.EINVAL)]                        // BPF_F_NO_PREALLOC is required
    [InlineData(MapFlags.NoPrealloc, 0u, 8u, 8u, Errno.EINVAL)]       // the key is an int (an fd)
    [InlineData(MapFlags.NoPrealloc, 0u, 4u, 0u, Errno.EINVAL)]
    [InlineData(MapFlags.NoPrealloc, 0u, 4u, 65408u, Errno.E2BIG)]    // above BPF_LOCAL_STORAGE_MAX_VALUE_SIZE
    public void LocalStorageMap_BadDefinition_KernelErrno(uint flags, uint max, uint key, uint value, int errno)
    {
        var e = Assert.Throws<MapCreateException>(() => new LocalStorageMap(Storage(MapType.TaskStorage, flags, max, key, value), 1));
        Assert.Equal(errno, e.ErrorCode);
    }

    [Fact]
    public void LocalStorageMap_LargestValue_Created()
    {
        using var map = new LocalStorageMap(Storage(MapType.CgrpStorage, value: LocalStorageMap.MaxValueSize), 1);
        Assert.Single(map.ValueRegions);
    }
}
