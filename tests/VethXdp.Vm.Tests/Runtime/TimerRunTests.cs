using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Vm.Tests.Runtime;

/// <summary>BPF timers fire between packets, when the runner moves the clock to the next packet's time.</summary>
public class TimerRunTests
{
    // value = { struct bpf_timer t; u64 fired; }: init, set the callback, start it 1000 ns out, return fired.
    private const string Asm = """
        *(u32 *)(r10 -4) = 0
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r6 = r0
        r1 = r6
        r2 = map[idx:0]
        r3 = 1
        call bpf_timer_init
        r1 = r6
        ld_pseudo r2, 4, 11
        r3 = 0
        call bpf_timer_set_callback
        r1 = r6
        r2 = 1000
        r3 = 0
        call bpf_timer_start
        r0 = *(u64 *)(r6 +16)
        exit
        out:
        r0 = 999
        exit
        r1 = *(u64 *)(r3 +16)
        r1 += 1
        *(u64 *)(r3 +16) = r1
        r0 = 0
        exit
        """;

    [Theory]
    [InlineData(1000UL, new uint[] { 0, 1, 2, 3 })]
    [InlineData(999UL, new uint[] { 0, 0, 0, 0 })]     // each packet restarts it 1000 ns out before it expires
    [InlineData(0UL, new uint[] { 0, 0, 0, 0 })]
    [InlineData(5000UL, new uint[] { 0, 1, 2, 3 })]
    public void Timer_FiresBeforeTheFirstPacketAtOrAfterItsExpiry(ulong step, uint[] fired)
    {
        using var obj = Rt.Load(Asm, Rt.Map("timers", MapType.Array, 4, 24, 1));
        using var runner = new XdpRunner(obj, null, new RunOptions { TimeStepNs = step });
        var seen = new uint[fired.Length];
        for (int i = 0; i < fired.Length; i++)
        {
            var r = runner.Run(Rt.Frame());
            Assert.Null(r.Error);
            seen[i] = r.Retval;
        }

        Assert.Equal(fired, seen);
    }
}
