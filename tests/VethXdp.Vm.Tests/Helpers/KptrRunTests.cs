using System.Buffers.Binary;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.Helpers;

/// <summary>bpf_kptr_xchg, bpf_per_cpu_ptr, bpf_this_cpu_ptr and the allocation kfuncs, through
/// corpus/xdp/xdp_kptr (what each frame does is in its opening comment).</summary>
public class KptrRunTests
{
    // The `results` slots of xdp_kptr.c.
    private const int Frames = 0, New = 1, Dropped = 2, PutBack = 3, PcpuNew = 4, PcpuDropped = 5, Cpu0Frames = 6,
        FarNull = 7, Cpus = 8, ThisBytes = 9;

    private static readonly byte[] s_frame = Convert.FromHexString(
        "ffffffffffff020000000001080045000028000140004006" + "26cd0a0000010a0000029c400050000003e8000000005002ffff" + "fb670000");

    private static LoadedObject Open(int cpus)
    {
        string path = Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_kptr.v4.o");
        Skip.IfNot(File.Exists(path), $"{path} is not built");
        return LoadedObject.Open(path, new LoadOptions { PossibleCpus = cpus });
    }

    private static ulong Result(LoadedObject obj, int slot)
    {
        var value = new byte[8];
        Assert.Equal(0, obj.Maps["results"].UserLookup(BitConverter.GetBytes((uint)slot), value));
        return BinaryPrimitives.ReadUInt64LittleEndian(value);
    }

    [SkippableFact]
    public void Run_SevenFrames_ObjectsMadeExchangedAndDropped()
    {
        using var obj = Open(cpus: 2);
        using var runner = new XdpRunner(obj, "xdp_kptr", RunOptions.Default);
        var macs = new List<string>();
        for (int i = 0; i < 7; i++)
        {
            var r = runner.Run(s_frame);
            Assert.Null(r.Error);
            Assert.Equal(3u, r.Retval);
            macs.Add(Convert.ToHexString(r.Data.Span[..3]).ToLowerInvariant());
        }

        // dest MAC = the slot's frame count, its object's generation, CPU 0's frame count (the per-CPU object is
        // freed after its fifth frame and made anew).
        Assert.Equal(["010101", "020102", "030103", "010204", "020205", "030201", "010302"], macs);
        Assert.Equal(
            [7UL, 3, 2, 5, 2, 1, 2, 7, 2, 2UL * (ulong)s_frame.Length],
            new[] { Frames, New, Dropped, PutBack, PcpuNew, PcpuDropped, Cpu0Frames, FarNull, Cpus, ThisBytes }.Select(s => Result(obj, s)));

        // (this CPU's bytes count from the per-CPU object made at frame 6.) One flow object and one per-CPU object are alive, held by the maps; user space reads their fields as 0.
        Assert.Equal(1, obj.Maps["flows"].Objects!.LiveObjects);
        Assert.Equal(1, obj.Maps["cpu_stats"].Objects!.LiveObjects);
        var slot = new byte[16];
        Assert.Equal(0, obj.Maps["flows"].UserLookup(BitConverter.GetBytes((uint)(s_frame.Length % 4)), slot));
        Assert.Equal("03000000000000000000000000000000", Convert.ToHexString(slot).ToLowerInvariant());
    }

    [SkippableFact]
    public void Run_OnCpu1_ThisCpuPtrCountsCpu1AndCpu0StaysZero()
    {
        using var obj = Open(cpus: 2);
        using var runner = new XdpRunner(obj, "xdp_kptr", RunOptions.Default with { Cpu = 1 });
        var r = runner.Run(s_frame);

        // CPU 0's copy was never counted into: the program gives up with XDP_ABORTED.
        Assert.Equal(0u, r.Retval);
        Assert.Equal((ulong)s_frame.Length, Result(obj, ThisBytes));
        Assert.Equal(0UL, Result(obj, Cpu0Frames));
    }

    [SkippableFact]
    public void Run_FourCpus_PerCpuPtrFindsEveryCopy()
    {
        using var obj = Open(cpus: 4);
        using var runner = new XdpRunner(obj, "xdp_kptr", RunOptions.Default);
        runner.Run(s_frame);
        Assert.Equal(4UL, Result(obj, Cpus));
        Assert.Equal(1UL, Result(obj, FarNull));
    }

    [SkippableFact]
    public void UserUpdate_SlotHoldingObject_FreesIt()
    {
        using var obj = Open(cpus: 1);
        using var runner = new XdpRunner(obj, "xdp_kptr", RunOptions.Default);
        runner.Run(s_frame);
        var flows = obj.Maps["flows"];
        Assert.Equal(1, flows.Objects!.LiveObjects);

        // kernel: array_map_update_elem() -> bpf_obj_free_fields(): overwriting the element frees its object.
        Assert.Equal(0, flows.UserUpdate(BitConverter.GetBytes((uint)(s_frame.Length % 4)), new byte[16], 0));
        Assert.Equal(0, flows.Objects.LiveObjects);
    }
}
