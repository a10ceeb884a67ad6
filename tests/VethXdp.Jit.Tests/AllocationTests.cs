using System.Text;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using static VethXdp.Jit.Tests.Asm;

namespace VethXdp.Jit.Tests;

/// <summary>Runs on the JIT allocate nothing after warm-up; compiled programs are collectible.</summary>
public class AllocationTests
{
    // The Vm runtime's allocation program: a hash map counter, the clock, a random number, adjust_head there and back,
    // a printk, a ring buffer record, a devmap redirect; plus a bpf_loop and a BPF-to-BPF call.
    private const string Asm = """
        r6 = r1
        r7 = *(u32 *)(r6 +12)
        *(u32 *)(r10 -4) = r7
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto insert
        r1 = 1
        lock *(u64 *)(r0 +0) += r1
        goto counted
        insert:
        *(u64 *)(r10 -16) = 1
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 0
        call bpf_map_update_elem
        counted:
        call bpf_ktime_get_ns
        call bpf_get_prandom_u32
        r1 = r6
        r2 = -14
        call bpf_xdp_adjust_head
        r1 = r6
        r2 = 14
        call bpf_xdp_adjust_head
        r1 = map[idx:3][0]+0
        r2 = 6
        call bpf_trace_printk
        r1 = map[idx:2]
        r2 = r10
        r2 += -16
        r3 = 8
        r4 = 0
        call bpf_ringbuf_output
        r1 = 4
        ld_pseudo r2, 4, 11
        r3 = 0
        r4 = 0
        call bpf_loop
        call sub
        r1 = map[idx:1]
        r2 = 0
        r3 = 0
        call bpf_redirect_map
        exit
        r0 = 0
        exit
        sub:
        r0 = 1
        exit
        """;

    [Fact]
    public void XdpRunner_JitChecked_TenThousandPacketsAllocateNothing()
    {
        using var obj = LoadedObject.Create(
            [
                Xdp.Map("counts", MapType.Hash, 4, 8, 16),
                Xdp.Map("tx", MapType.Devmap, 4, 4, 4),
                Xdp.Map("rb", MapType.Ringbuf, 0, 0, 4096),
                Xdp.Global(".rodata", Encoding.ASCII.GetBytes("hello\0")),
            ],
            [Xdp.Prog(Asm)],
            new LoadOptions { PossibleCpus = 2 });
        Assert.Equal(0, obj.Maps["tx"].UserUpdate(BitConverter.GetBytes(0u), BitConverter.GetBytes(3u), 0));
        using var runner = new XdpRunner(obj, null, new RunOptions { TimeStepNs = 1000 }, JitEngineFactory.Checked);
        Assert.Equal("jit-checked", runner.Engine.EngineName);
        var frame = Xdp.Frame(64);
        var warm = runner.Run(frame);
        Assert.Null(warm.Error);
        Assert.Equal(XdpAction.Redirect, warm.Action);

        long before = GC.GetAllocatedBytesForCurrentThread();
        ulong sum = 0;
        for (int i = 0; i < 10_000; i++)
        {
            var r = runner.Run(frame);
            sum += r.Retval + (ulong)r.Data.Length + (ulong)r.Trace.Count + (ulong)r.Events.Count;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(10_000UL * (4 + 64 + 1 + 1), sum);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void XdpRunner_TailCallChain_AllocatesNothingAfterTheFirstPacket()
    {
        string TailCall(int slot) => $"r6 = r1\nr1 = r6\nr2 = map[idx:0]\nr3 = {slot}\ncall bpf_tail_call\nr0 = 1\nexit";
        using var obj = LoadedObject.Create(
            [Xdp.Progs((0, "b"), (1, "c"))],
            [Xdp.Prog(TailCall(0), "a"), Xdp.Prog(TailCall(1), "b"), Xdp.Prog("r0 = 2\nexit", "c")],
            new LoadOptions { PossibleCpus = 2 });
        using var runner = new XdpRunner(obj, "a", null, JitEngineFactory.Checked);
        var frame = Xdp.Frame(64);
        Assert.Equal(2u, runner.Run(frame).Retval);   // compiles b and c
        long before = GC.GetAllocatedBytesForCurrentThread();
        uint sum = 0;
        for (int i = 0; i < 10_000; i++)
        {
            sum += runner.Run(frame).Retval;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(20_000u, sum);
    }

    [Fact]
    public void RunWithMemory_JitChecked_AllocatesNothing()
    {
        var prog = BpfProgram.Create(Prog(Mov64(R0, 0), I(Op.LdxB, R3, R1, 0), I(Op.Add64Reg, R0, R3), I(Op.StxB, R1, R0, 1), Exit()));
        using var vm = new JitEngine(JitCompiler.Compile(prog));
        var mem = new byte[4];
        vm.RunWithMemory(mem);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            vm.RunWithMemory(mem);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    internal static WeakReference<JitProgram> CompileAndRun(int count, byte[] mem)
    {
        WeakReference<JitProgram>? weak = null;
        for (int i = 0; i < count; i++)
        {
            var code = JitCompiler.Compile(BpfProgram.Create(Prog(Mov64(R0, i), I(Op.LdxB, R3, R1, 0), I(Op.Add64Reg, R0, R3), I(Op.JeqImm, R0, off: 1, imm: 3), I(Op.Add64Imm, R0, imm: 1), Exit())));
            using var vm = new JitEngine(code);
            Assert.Equal(i == 3 ? 3UL : (ulong)i + 1, vm.RunWithMemory(mem).R0);
            weak ??= new WeakReference<JitProgram>(code);
        }

        return weak!;
    }

    internal static long Settle()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }
}

/// <summary>Tests that measure process-wide managed memory: they run alone, since other test classes allocate in parallel.</summary>
[CollectionDefinition(nameof(ProcessMemoryCollection), DisableParallelization = true)]
public sealed class ProcessMemoryCollection;

[Collection(nameof(ProcessMemoryCollection))]
public class CompileMemoryTests
{
    [Fact]
    public void Compile_TwoThousandProgramsDropped_MemoryDoesNotGrow()
    {
        var mem = new byte[8];
        var weak = AllocationTests.CompileAndRun(200, mem);
        long before = AllocationTests.Settle();
        AllocationTests.CompileAndRun(2000, mem);
        long after = AllocationTests.Settle();
        Assert.False(weak.TryGetTarget(out _), "a dropped JitProgram is still alive");

        // Each program is a distinct DynamicMethod of ~1.5 KB of IL and its native code; 2,000 kept alive would be
        // several MB of managed memory alone.
        Assert.True(after - before < 2_000_000, $"managed memory grew by {after - before} bytes over 2,000 compilations");
    }
}
