using System.Globalization;
using VethXdp.Kernel;
using VethXdp.Vm.Maps;

namespace VethXdp.Kernel.Tests;

public class KernelNetnsTests
{
    private static readonly NetnsSpec TwoEnds = new()
    {
        Veths = [new VethPairSpec("v0", "v1", "02:00:00:00:00:01", "02:00:00:00:00:11")],
        Addresses = [new NetnsAddress("v0", "10.1.0.1/24")],
        Neighbours = [new NetnsNeighbour("10.1.0.2", "02:00:00:00:00:02", "v0")],
        Forwarding = true,
    };

    private static void SkipUnlessAvailable()
    {
        KernelSkip.IfNotPermitted();
        Skip.IfNot(KernelNetns.IsAvailable(out string reason), reason);
    }

    [SkippableFact]
    public void TestRun_DevmapRedirectInsideTheNamespace_ReturnsRedirect()
    {
        SkipUnlessAvailable();
        using var ns = KernelNetns.Create(TwoEnds);
        uint v0 = ns.Ifindex("v0");
        uint v1 = ns.Ifindex("v1");
        Assert.NotEqual(v0, v1);
        var devmap = new MapSpec
        {
            Name = "tx_port",
            Type = MapType.Devmap,
            KeySize = 4,
            ValueSize = 4,
            MaxEntries = 4,
            InitialSlots = [new MapSlotInit(0, v1.ToString(CultureInfo.InvariantCulture))],
        };
        const string source = """
            r1 = map[idx:0]
            r2 = 0
            r3 = 0
            call bpf_redirect_map
            exit
            """;
        using var scope = ns.Enter();
        using var obj = KernelObject.Load([devmap], [KernelObjectTests.Xdp("redir", source)]);
        var r = obj.TestRun("redir", new byte[64], ingressIfindex: v0, rxQueue: 0);
        Assert.Equal(4u, r.Retval);   // XDP_REDIRECT
        var slot = Assert.Single(obj.DumpMap("tx_port"));
        Assert.Equal(v1, BitConverter.ToUInt32(slot.Value));
    }

    [SkippableFact]
    public void TestRun_FibLookupAgainstTheNamespace_FindsTheNeighbour()
    {
        SkipUnlessAvailable();
        using var ns = KernelNetns.Create(TwoEnds);
        uint v0 = ns.Ifindex("v0");
        uint v1 = ns.Ifindex("v1");
        // struct bpf_fib_lookup (64 bytes) at r10-64: family @0, ifindex @8, ipv4_dst @32, dmac @58.
        const string source = """
            r6 = r1
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
            r2 = *(u32 *)(r6 +12)
            *(u32 *)(r10 -56) = r2
            *(u32 *)(r10 -32) = 33554698
            r1 = r6
            r2 = r10
            r2 += -64
            r3 = 64
            r4 = 0
            call bpf_fib_lookup
            if r0 != 0 goto fail
            r0 = *(u32 *)(r10 -56)
            r0 <<= 8
            r1 = *(u8 *)(r10 -1)
            r0 |= r1
            exit
            fail:
            r0 += 100
            exit
            """;
        using var scope = ns.Enter();
        using var obj = KernelObject.Load([], [KernelObjectTests.Xdp("fib", source)]);
        var r = obj.TestRun("fib", new byte[64], ingressIfindex: v1, rxQueue: 0);
        Assert.Equal((v0 << 8) | 0x02, r.Retval);   // out through v0, to 02:00:00:00:00:02
    }

    [SkippableFact]
    public void TestRun_OutsideTheNamespace_DoesNotSeeItsDevices()
    {
        SkipUnlessAvailable();
        using var ns = KernelNetns.Create(TwoEnds);
        uint v1 = ns.Ifindex("v1");
        using var obj = KernelObject.Load([], [KernelObjectTests.Xdp("pass", "r0 = 2\nexit")]);
        using (ns.Enter())
        {
            Assert.Equal(2u, obj.TestRun("pass", new byte[14], ingressIfindex: v1).Retval);
        }

        // In the original namespace that ifindex is either absent (ENODEV) or some other device; loopback still works.
        Assert.Equal(2u, obj.TestRun("pass", new byte[14], ingressIfindex: 1).Retval);
    }
}
