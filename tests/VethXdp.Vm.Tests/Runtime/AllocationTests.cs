using System.Text;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.Runtime;

/// <summary>The per-packet path allocates nothing, with maps, helpers, redirects, trace and events in play.</summary>
public class AllocationTests
{
    // Counts packets per ifindex in a hash map, reads the clock and a random number, grows the head and shrinks it
    // back, prints a constant message, emits a ring buffer record, and redirects through a devmap.
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
        r1 = map[idx:1]
        r2 = 0
        r3 = 0
        call bpf_redirect_map
        exit
        """;

    [Fact]
    public void Run_TenThousandPackets_AllocatesNothing()
    {
        using var obj = Rt.Load(Asm,
            Rt.Map("counts", MapType.Hash, 4, 8, 16),
            Rt.Map("tx", MapType.Devmap, 4, 4, 4),
            Rt.Map("rb", MapType.Ringbuf, 0, 0, 4096),
            Rt.Global(".rodata", Encoding.ASCII.GetBytes("hello\0")));
        Assert.Equal(0, obj.Maps["tx"].UserUpdate(Rt.U32(0), Rt.U32(3), 0));
        using var runner = new XdpRunner(obj, null, new RunOptions { TimeStepNs = 1000 });
        var frame = Rt.Frame(64);
        var warm = runner.Run(frame);
        Assert.Null(warm.Error);
        Assert.Equal(XdpAction.Redirect, warm.Action);
        Assert.Single(warm.Trace);
        Assert.Single(warm.Events);

        long before = GC.GetAllocatedBytesForCurrentThread();
        ulong sum = 0;
        for (int i = 0; i < 10_000; i++)
        {
            var r = runner.Run(frame);
            sum += r.Retval + (ulong)r.Data.Length + (ulong)r.Trace.Count + (ulong)r.Events.Count + r.Redirect!.Value.Ifindex!.Value;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(10_000UL * (4 + 64 + 1 + 1 + 3), sum);
        Assert.Equal(0, allocated);
        var count = new byte[8];
        Assert.Equal(0, obj.Maps["counts"].UserLookup(Rt.U32(1), count));
        Assert.Equal(10_001UL, BitConverter.ToUInt64(count));
    }
}
