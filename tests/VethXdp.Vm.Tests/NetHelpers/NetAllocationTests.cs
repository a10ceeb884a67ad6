using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.NetHelpers;

/// <summary>The networking and dynptr helpers allocate nothing per call.</summary>
public class NetAllocationTests
{
    private const string Asm = """
        r6 = r1
        r7 = *(u32 *)(r6 +0)
        r8 = *(u32 *)(r6 +4)
        r1 = r7
        r1 += 200
        if r1 > r8 goto out
        r1 = 0
        r2 = 0
        r3 = r7
        r3 += 14
        r4 = 20
        r5 = 0
        call bpf_csum_diff
        r1 = 0
        *(u64 *)(r10 -64) = r1
        *(u64 *)(r10 -56) = r1
        *(u64 *)(r10 -48) = r1
        *(u64 *)(r10 -40) = r1
        *(u64 *)(r10 -32) = r1
        *(u64 *)(r10 -24) = r1
        *(u64 *)(r10 -16) = r1
        *(u64 *)(r10 -8) = r1
        *(u8 *)(r10 -64) = 2
        *(u32 *)(r10 -56) = 3
        *(u32 *)(r10 -32) = 0x0302010a
        r1 = r6
        r2 = r10
        r2 += -64
        r3 = 64
        r4 = 16
        call bpf_fib_lookup
        r1 = *(u32 *)(r7 +26)
        *(u32 *)(r10 -80) = r1
        r1 = *(u32 *)(r7 +30)
        *(u32 *)(r10 -76) = r1
        r1 = *(u32 *)(r7 +34)
        *(u32 *)(r10 -72) = r1
        r1 = r6
        r2 = r10
        r2 += -80
        r3 = 12
        r4 = -1
        r5 = 0
        call bpf_sk_lookup_tcp
        if r0 == 0 goto nosk
        r9 = r0
        r1 = r0
        call bpf_skc_to_tcp_sock
        r1 = r9
        call bpf_sk_release
        nosk:
        r1 = r7
        r1 += 14
        r2 = r7
        r2 += 34
        r3 = 24
        call bpf_tcp_raw_gen_syncookie_ipv4
        *(u32 *)(r10 -84) = 0
        r1 = map[idx:0]
        r2 = r10
        r2 += -84
        call bpf_map_lookup_elem
        if r0 == 0 goto nolock
        r9 = r0
        r1 = r9
        call bpf_spin_lock
        r1 = r9
        call bpf_spin_unlock
        nolock:
        r1 = r6
        r2 = 0
        r3 = r10
        r3 += -112
        call bpf_dynptr_from_xdp#1
        r1 = r10
        r1 += -112
        r2 = 12
        r3 = 0
        r4 = 2
        call bpf_dynptr_slice#2
        r1 = r10
        r1 += -128
        r2 = 4
        r3 = r10
        r3 += -112
        r4 = 6
        r5 = 0
        call bpf_dynptr_read
        r0 = 2
        out:
        exit
        """;

    [Fact]
    public void Run_NetAndDynptrHelpers_AllocateNothing()
    {
        var net = FibLookupTests.Namespace();
        net.AddSocket(new NetSocket { LocalPort = 8080 });
        using var obj = Rt.Load(Asm, Rt.Map("locks", MapType.Array, 4, 8, 1));
        using var runner = new XdpRunner(obj, null, new RunOptions { Network = net });
        var frame = Pkt.V4("10.0.0.2", "10.0.0.1", Pkt.Tcp(1234, 8080, 1, 0, Pkt.Syn, 1460));
        var warm = runner.Run(frame);
        Assert.Null(warm.Error);
        Assert.Equal(2u, warm.Retval);

        uint sum = 0, runs = 0;
        long allocated = SteadyState.AllocatedBytes(() =>
        {
            sum += runner.Run(frame).Retval;
            runs++;
        });

        Assert.Equal(0, allocated);
        Assert.Equal(2u * runs, sum); // every run returned XDP_PASS
    }
}
