using System.Net;
using VethXdp.Kernel;
using VethXdp.Vm.Elf;

namespace VethXdp.Kernel.Tests;

/// <summary>xdp_fib_router in the manifest's lab namespace on destinations the corpus pcap does not hold: special
/// IPv4 and IPv6 addresses (broadcast, network, local, loopback, multicast, link-local, the subnet-router anycast
/// address, v4-mapped) at sizes around veth1's MTU of 1400, entering on veth0. bpf_fib_lookup's answer lands in the
/// fib_results counters, which the cross-check compares after every packet.</summary>
public class CrossCheckFibProbeTests
{
    public static TheoryData<string> Destinations() =>
    [
        "10.1.0.1", "10.0.0.255", "10.0.0.254", "10.0.0.0", "10.0.1.2", "10.0.1.7", "127.0.0.1", "224.0.0.1",
        "255.255.255.255", "0.0.0.0", "8.8.8.8", "10.0.1.255", "169.254.1.1",
        "fd00::", "fd00:1::", "fe80::1", "ff02::1", "fd00::1", "fd00:1::2", "2001:db8:1::1", "::1", "fd00::fe",
        "::ffff:10.1.0.1", "::", "2001:db8:2::1",
    ];

    private static IEnumerable<ReadOnlyMemory<byte>> Frames(string destination)
    {
        var address = IPAddress.Parse(destination);
        foreach (int l3 in new[] { 28, 1400, 1401, 65535 })
        {
            if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            {
                // Ethernet, IPv4 (10.0.0.1 -> destination, TTL 64, UDP, tot_len l3), UDP 2500 -> 53.
                var f = Convert.FromHexString("02000000000202000000000108004500001c000140004011000c0a0000010a01000109c4003500080000");
                address.GetAddressBytes().CopyTo(f, 30);
                f[16] = (byte)(l3 >> 8);
                f[17] = (byte)l3;
                yield return f;
            }
            else
            {
                // Ethernet, IPv6 (fd00::1 -> destination, hop limit 64, TCP, payload_len l3 - 40 + 20), a TCP SYN.
                var f = Convert.FromHexString("02000000000202000000000186dd6000000000140640fd000000000000000000000000000001fd0000000000000000000000000000019c400050000003e8000000005002ffff15660000");
                address.GetAddressBytes().CopyTo(f, 38);
                int payload = Math.Min(l3 - 8, 65535);
                f[18] = (byte)(payload >> 8);
                f[19] = (byte)payload;
                yield return f;
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Destinations))]
    public void Run_FibRouterOnSpecialDestination_KernelAndVmAgree(string destination)
    {
        KernelSkip.IfNotPermitted();
        var c = CrossCheckManifest.Cases.First(x => x.Object == "xdp_fib_router" && x.Build == "v4");
        CrossCheckCorpusTests.SkipUnlessMet(c);
        var obj = ElfObjectReader.Load(c.ObjectPath);

        var report = CrossCheck.Run(obj, Frames(destination), CrossCheckCorpusTests.Options(c) with { CompareMapsAfterEachPacket = true });

        Assert.True(report.Agrees, $"{destination}:\n{report.Summary}");
    }
}
