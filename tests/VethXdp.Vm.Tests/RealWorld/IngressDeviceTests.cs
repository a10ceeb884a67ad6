using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.RealWorld;

/// <summary>BPF_PROG_TEST_RUN takes the ingress device and queue from xdp_md (xdp_convert_md_to_buff): the running
/// kernel refuses a device that does not exist (-ENODEV) or a queue it does not have (-EINVAL), and with
/// ingress_ifindex 0 the frame arrives on the loopback device's queue 0. Seen cross-checking the xdp-tutorial's
/// af_xdp_kern.c with --rx-queue 1 and programs that read ctx-&gt;ingress_ifindex with --ifindex 0.</summary>
public class IngressDeviceTests
{
    // r0 = ingress_ifindex * 100 + rx_queue_index
    private const string IfindexAndQueue = "r0 = *(u32 *)(r1 +12)\nr0 *= 100\nr2 = *(u32 *)(r1 +16)\nr0 += r2\nexit";

    [Fact]
    public void Run_IfindexZero_ArrivesOnLoopback()
    {
        var o = Rt.RunOnce(IfindexAndQueue, options: new RunOptions { Ifindex = 0 });
        Assert.Null(o.Error);
        Assert.Equal(100u, o.Retval);
    }

    [Fact]
    public void Run_IfindexZeroWithQueue_RefusedEinval()
    {
        var o = Rt.RunOnce(IfindexAndQueue, options: new RunOptions { Ifindex = 0, RxQueue = 1 });
        Assert.NotNull(o.Error);
        Assert.EndsWith("(-EINVAL)", o.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_UnknownIfindex_RefusedEnodev()
    {
        var o = Rt.RunOnce(IfindexAndQueue, options: new RunOptions { Ifindex = 9, Network = new NetEnvironment() });
        Assert.NotNull(o.Error);
        Assert.Contains("ingress_ifindex 9", o.Error.Message, StringComparison.Ordinal);
        Assert.EndsWith("(-ENODEV)", o.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_QueuePastTheDevicesQueues_RefusedEinval()
    {
        var o = Rt.RunOnce(IfindexAndQueue, options: new RunOptions { RxQueue = 1, Network = new NetEnvironment() });
        Assert.NotNull(o.Error);
        Assert.Contains("lo has 1 receive queue", o.Error.Message, StringComparison.Ordinal);
        Assert.EndsWith("(-EINVAL)", o.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WithoutNetwork_AnyIfindexAndQueueAreWhatTheProgramReads()
    {
        // `vethxdp run --ifindex 9 --rx-queue 1`: no device model, the program sees what the caller says.
        var o = Rt.RunOnce(IfindexAndQueue, options: new RunOptions { Ifindex = 9, RxQueue = 1 });
        Assert.Null(o.Error);
        Assert.Equal(901u, o.Retval);
    }

    [Fact]
    public void Run_DeviceWithThatQueue_RunsWithIt()
    {
        var network = new NetEnvironment();
        network.AddInterface("veth0", ifindex: 3).RxQueues = 2;
        var o = Rt.RunOnce(IfindexAndQueue, options: new RunOptions { Ifindex = 3, RxQueue = 1, Network = network });
        Assert.Null(o.Error);
        Assert.Equal(301u, o.Retval);
    }

    [Fact]
    public void Run_ShortFrameAndUnknownDevice_EthHlenCheckedFirst()
    {
        var o = Rt.RunOnce(IfindexAndQueue, new byte[10], new RunOptions { Ifindex = 9 });
        Assert.NotNull(o.Error);
        Assert.EndsWith("(-EINVAL)", o.Error.Message, StringComparison.Ordinal);
    }
}
