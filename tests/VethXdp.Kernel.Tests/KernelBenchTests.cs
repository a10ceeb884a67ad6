using System.Buffers.Binary;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Kernel.Tests;

/// <summary>KernelBench: BPF_PROG_TEST_RUN with repeat, the kernel's duration, and its "nothing reset between runs".</summary>
public class KernelBenchTests
{
    // Adds 1 to the frame's first byte (after the data_end check) and passes.
    private const string IncrementFirstByte = """
        r2 = *(u32 *)(r1 +0)
        r3 = *(u32 *)(r1 +4)
        r4 = r2
        r4 += 1
        if r4 > r3 goto out
        r5 = *(u8 *)(r2 +0)
        r5 += 1
        *(u8 *)(r2 +0) = r5
        out:
        r0 = 2
        exit
        """;

    // Counts runs in an array map and drops.
    private const string CountRuns = """
        r1 = 0
        *(u32 *)(r10 -4) = r1
        r2 = r10
        r2 += -4
        r1 = map[idx:0]
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = 1
        lock *(u64 *)(r0 +0) += r1
        out:
        r0 = 1
        exit
        """;

    private static readonly MapSpec Runs = new() { Name = "runs", Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1 };

    private static byte[] Frame(int length, byte first)
    {
        var f = new byte[length];
        for (int i = 0; i < length; i++)
        {
            f[i] = (byte)i;
        }

        f[0] = first;
        return f;
    }

    [SkippableFact]
    public void Run_ProgramIncrementsByte_KernelByteGrewByRepeatMod256()
    {
        KernelSkip.IfNotPermitted();
        var result = KernelBench.Run([], [KernelObjectTests.Xdp("inc", IncrementFirstByte)], null,
            [Frame(60, 250)], new KernelBenchOptions { Repeat = 300 });

        Assert.Null(result.Error);
        var p = Assert.Single(result.Packets);
        Assert.Null(p.Error);
        Assert.Equal(2u, p.Retval);
        Assert.Equal(60, p.Data.Length);
        Assert.Equal((byte)((250 + 300) % 256), p.Data[0]);
        Assert.Equal(Frame(60, 0).AsSpan(1).ToArray(), p.Data[1..].ToArray());
        Assert.True(p.Duration > 0, "the kernel reports a duration per run");
        Assert.Equal<double?>(p.Duration, result.NsPerRun);
    }

    [SkippableFact]
    public void TestRun_Repeat_ProgramRanRepeatTimes()
    {
        KernelSkip.IfNotPermitted();
        using var kernel = KernelObject.Load([Runs], [KernelObjectTests.Xdp("count", CountRuns)]);
        var p = KernelBench.TestRun(kernel, "count", Frame(64, 0), 1234);
        Assert.Null(p.Error);
        Assert.Equal(1u, p.Retval);
        var value = new byte[8];
        Assert.True(kernel.LookupMap("runs", new byte[4], value));
        Assert.Equal(1234ul, BinaryPrimitives.ReadUInt64LittleEndian(value));
    }

    [SkippableFact]
    public void Run_ShortFrameAmongOthers_RefusedWithEinvalAndLeftOutOfMean()
    {
        KernelSkip.IfNotPermitted();
        var result = KernelBench.Run([], [KernelObjectTests.Xdp("inc", IncrementFirstByte)], null,
            [Frame(60, 0), new byte[10], Frame(100, 0)], new KernelBenchOptions { Repeat = 1000 });

        Assert.Null(result.Error);
        Assert.Equal(3, result.Packets.Count);
        Assert.Contains("EINVAL", result.Packets[1].Error, StringComparison.Ordinal);
        Assert.Same(result.Packets[1], result.FirstError);
        Assert.Equal<double?>((result.Packets[0].Duration + result.Packets[2].Duration) / 2.0, result.NsPerRun);
    }

    [SkippableFact]
    public void Run_CorpusPass_KernelDurationAndVerdict()
    {
        KernelSkip.IfNotPermitted();
        var obj = ElfObjectReader.Load(File.ReadAllBytes(Path.Combine(TestPaths.CorpusDir, "xdp", "xdp_pass.v4.o")), "xdp_pass.v4.o");
        var result = KernelBench.Run(obj, [Frame(64, 0)], new KernelBenchOptions { Repeat = 10_000 });

        Assert.Null(result.Error);
        Assert.Equal("xdp_pass", result.Program);
        var p = Assert.Single(result.Packets);
        Assert.Null(p.Error);
        Assert.Equal(2u, p.Retval);
        Assert.InRange(p.Duration, 1u, 100_000u);
    }

    [SkippableFact]
    public void Run_ProgramTheKernelRefuses_ErrorNotException()
    {
        KernelSkip.IfNotPermitted();

        // r0 is never written: the verifier refuses "R0 !read_ok".
        var bad = KernelObjectTests.Xdp("bad", "exit");
        var result = KernelBench.Run([], [bad], null, [Frame(60, 0)], new KernelBenchOptions { Repeat = 10 });

        Assert.NotNull(result.Error);
        Assert.Contains("refused", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Packets);
        Assert.Null(result.NsPerRun);
    }

    [Fact]
    public void Run_NoSuchProgram_ThrowsArgumentException()
    {
        var prog = KernelObjectTests.Xdp("inc", IncrementFirstByte);
        Assert.Throws<ArgumentException>(() => KernelBench.Run([], [prog], null, [Frame(60, 0)], new KernelBenchOptions { Program = "nope" }));
    }
}
