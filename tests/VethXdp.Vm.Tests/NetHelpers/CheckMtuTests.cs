using System.Buffers.Binary;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.NetHelpers;

/// <summary>bpf_check_mtu on loopback (MTU 65536, hard_header_len 14) against the running 6.18 kernel: each row is
/// (ifindex, *mtu_len in, len_diff, flags, frame length) -&gt; (return, *mtu_len out) as BPF_PROG_TEST_RUN gave it.</summary>
public class CheckMtuTests
{
    private static string Program(uint ifindex, uint mtuIn, int diff, ulong flags) => $"""
        r6 = r1
        r7 = *(u32 *)(r6 +0)
        r8 = *(u32 *)(r6 +4)
        r1 = r7
        r1 += 4
        if r1 > r8 goto out
        *(u32 *)(r10 -4) = {mtuIn}
        r1 = r6
        r2 = {ifindex}
        r3 = r10
        r3 += -4
        r4 = {diff}
        r5 = {flags}
        call bpf_check_mtu
        r1 = *(u32 *)(r10 -4)
        *(u32 *)(r7 +0) = r1
        out:
        exit
        """;

    [Theory]
    [InlineData(0u, 0u, 0, 0ul, 64, 0, 65536u)]
    [InlineData(0u, 0u, 65486, 0ul, 64, 0, 65536u)]
    [InlineData(0u, 0u, 65487, 0ul, 64, 1, 65536u)]
    [InlineData(1u, 0u, 0, 0ul, 64, 0, 65536u)]
    [InlineData(0u, 100u, 0, 0ul, 64, 0, 65536u)]
    [InlineData(0u, 65536u, 0, 0ul, 64, 0, 65536u)]
    [InlineData(0u, 65537u, 0, 0ul, 64, 1, 65536u)]
    [InlineData(0u, 0u, 0, 1ul, 64, -Errno.EINVAL, 0u)]
    [InlineData(7u, 0u, 0, 0ul, 64, -Errno.ENODEV, 0u)]
    [InlineData(0u, 0u, -100, 0ul, 64, 0, 65536u)]
    [InlineData(0u, 0u, 62030, 0ul, 5000, 0, 65536u)]   // the linear part (3520 bytes) counts, not the fragments
    [InlineData(0u, 0u, 62031, 0ul, 5000, 1, 65536u)]
    public void CheckMtu_Loopback_AsKernel(uint ifindex, uint mtuIn, int diff, ulong flags, int length, int ret, uint mtuOut)
    {
        var o = NetRun.Once(Program(ifindex, mtuIn, diff, flags), Rt.Frame(length));
        Assert.Null(o.Error);
        Assert.Equal(unchecked((uint)ret), o.Retval);
        Assert.Equal(mtuOut, BinaryPrimitives.ReadUInt32LittleEndian(o.Data));
    }

    [Theory]
    [InlineData(1514, 0)]
    [InlineData(1515, 1)]
    public void CheckMtu_IngressDevice_ItsMtu(int length, int ret)
    {
        var net = new NetEnvironment();
        net.AddInterface("eth0", mtu: 1500);
        using var run = new NetRun(Program(0, 0, 0, 0), net, new RunOptions { Ifindex = 2 });
        var o = run.Run(Rt.Frame(length));
        Assert.Equal((uint)ret, o.Retval);
        Assert.Equal(1500u, BinaryPrimitives.ReadUInt32LittleEndian(o.Data));
    }

    [Fact]
    public void CheckMtu_MtuLenOutsideTheRun_Faults()
    {
        var o = NetRun.Once("r2 = 0\nr3 = 16\nr4 = 0\nr5 = 0\ncall bpf_check_mtu\nexit");
        Assert.Contains("out-of-bounds store of 4 bytes", NetRun.Fault(o));
    }
}
