using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;
using VethXdp.Vm.Tests.Runtime;

namespace VethXdp.Vm.Tests.Helpers;

/// <summary>bpf_redirect and bpf_redirect_map: verdicts, fallbacks, flags, and the target the result reports.</summary>
public class RedirectTests
{
    private static string RedirectMap(ulong key, ulong flags) => $"r1 = map[idx:0]\nr2 = {key} ll\nr3 = {flags} ll\ncall bpf_redirect_map\n";

    private static Outcome Run(string asm, MapSpec map, Action<BpfMap>? fill = null)
    {
        using var obj = Rt.Load(asm, map);
        fill?.Invoke(obj.Maps[0]);
        using var runner = new XdpRunner(obj);
        return Outcome.Of(runner.Run(Rt.Frame()));
    }

    private static MapSpec Devmap(MapType type = MapType.Devmap) => Rt.Map("tx_port", type, 4, 4, 4);

    private static void Port1IsIfindex9(BpfMap m) => Assert.Equal(0, m.UserUpdate(Rt.U32(1), Rt.U32(9), 0));

    [Fact]
    public void Redirect_Ifindex_RedirectWithTarget()
    {
        var o = Rt.RunOnce("r1 = 5\nr2 = 0\ncall bpf_redirect\nexit");
        Assert.Equal(XdpAction.Redirect, o.Action);
        Assert.Equal(new RedirectInfo(RedirectKind.Ifindex, 5, null, null, null, null, false, false), o.Redirect);
        Assert.Equal("ifindex", o.Redirect!.Value.KindName);
    }

    [Fact]
    public void Redirect_Flags_Aborted()
    {
        var o = Rt.RunOnce("r1 = 5\nr2 = 1\ncall bpf_redirect\nexit");
        Assert.Equal(XdpAction.Aborted, o.Action);
        Assert.Null(o.Redirect);
    }

    [Fact]
    public void RedirectMap_DevmapHit_DeviceOfTheEntry()
    {
        var o = Run(RedirectMap(1, 0) + "exit", Devmap(), Port1IsIfindex9);
        Assert.Equal(4u, o.Retval);
        Assert.Equal(new RedirectInfo(RedirectKind.Devmap, 9, "tx_port", 1, null, null, false, false), o.Redirect);
    }

    [Fact]
    public void RedirectMap_DevmapHashHit_DeviceOfTheEntry()
    {
        var o = Run(RedirectMap(1, 0) + "exit", Devmap(MapType.DevmapHash), Port1IsIfindex9);
        Assert.Equal(new RedirectInfo(RedirectKind.Devmap, 9, "tx_port", 1, null, null, false, false), o.Redirect);
    }

    [Fact]
    public void RedirectMap_KeyTruncatedToU32() =>
        Assert.Equal(1u, Run(RedirectMap((1UL << 32) | 1, 0) + "exit", Devmap(), Port1IsIfindex9).Redirect!.Value.Key);

    [Theory]
    [InlineData(0UL, 0u)]
    [InlineData(1UL, 1u)]
    [InlineData(2UL, 2u)]
    [InlineData(3UL, 3u)]
    public void RedirectMap_Miss_FallbackFromFlags(ulong flags, uint verdict)
    {
        var o = Run(RedirectMap(3, flags) + "exit", Devmap(), Port1IsIfindex9);
        Assert.Equal(verdict, o.Retval);
        Assert.Null(o.Redirect);
    }

    [Fact]
    public void RedirectMap_BroadcastOnMiss_Redirects()
    {
        var o = Run(RedirectMap(3, 8) + "exit", Devmap(), Port1IsIfindex9);
        Assert.Equal(4u, o.Retval);
        Assert.Equal(new RedirectInfo(RedirectKind.Devmap, null, "tx_port", 3, null, null, true, false), o.Redirect);
    }

    [Fact]
    public void RedirectMap_BroadcastExcludeIngress()
    {
        var o = Run(RedirectMap(1, 8 | 16) + "exit", Devmap(), Port1IsIfindex9);
        Assert.Equal(new RedirectInfo(RedirectKind.Devmap, 9, "tx_port", 1, null, null, true, true), o.Redirect);
    }

    [Fact]
    public void RedirectMap_ExcludeIngressWithoutBroadcast_NotReported()
    {
        var o = Run(RedirectMap(1, 16) + "exit", Devmap(), Port1IsIfindex9);
        Assert.Equal(4u, o.Retval);
        Assert.False(o.Redirect!.Value.ExcludeIngress);
    }

    [Theory]
    [InlineData(1UL << 5)]
    [InlineData(1UL << 2)]
    [InlineData(1UL << 63)]
    public void RedirectMap_UnknownFlags_Aborted(ulong flags) =>
        Assert.Equal(0u, Run(RedirectMap(1, flags | 2) + "exit", Devmap(), Port1IsIfindex9).Retval);

    [Fact]
    public void RedirectMap_CpumapHit_Cpu_BroadcastFlagAborts()
    {
        var cpumap = Rt.Map("cpus", MapType.Cpumap, 4, 4, 4);
        void Fill(BpfMap m) => Assert.Equal(0, m.UserUpdate(Rt.U32(1), Rt.U32(192), 0));
        var o = Run(RedirectMap(1, 0) + "exit", cpumap, Fill);
        Assert.Equal(new RedirectInfo(RedirectKind.Cpumap, null, "cpus", 1, 1, null, false, false), o.Redirect);
        Assert.Equal(0u, Run(RedirectMap(1, 8) + "exit", cpumap, Fill).Retval);
    }

    [Fact]
    public void RedirectMap_XskmapHit_Queue()
    {
        var xsk = Rt.Map("xsks", MapType.Xskmap, 4, 4, 4);
        var o = Run(RedirectMap(2, 0) + "exit", xsk, m => Assert.Equal(0, ((XskMap)m).SetSocket(2, 5, new object())));
        Assert.Equal(new RedirectInfo(RedirectKind.Xskmap, null, "xsks", 2, null, 2, false, false), o.Redirect);
    }

    [Fact]
    public void RedirectAfterFailedLookup_LastIfindexStays()
    {
        // bpf_redirect(7), then a redirect_map miss (which clears the map but keeps tgt_index), then XDP_REDIRECT:
        // xdp_do_redirect sends to ifindex 7.
        var o = Run("r1 = 7\nr2 = 0\ncall bpf_redirect\n" + RedirectMap(3, 0) + "r0 = 4\nexit", Devmap(), Port1IsIfindex9);
        Assert.Equal(new RedirectInfo(RedirectKind.Ifindex, 7, null, null, null, null, false, false), o.Redirect);
    }

    [Fact]
    public void ReturnRedirect_WithoutHelper_KindNone()
    {
        var o = Rt.RunOnce("r0 = 4\nexit");
        Assert.Equal(RedirectKind.None, o.Redirect!.Value.Kind);
        Assert.Equal("none", o.Redirect!.Value.KindName);
    }

    [Fact]
    public void RedirectMap_ThenPass_NoRedirectReported() =>
        Assert.Null(Run(RedirectMap(1, 0) + "r0 = 2\nexit", Devmap(), Port1IsIfindex9).Redirect);

    [Fact]
    public void RedirectState_FreshForEveryPacket()
    {
        using var obj = Rt.Load("r2 = *(u32 *)(r1 +0)\nr3 = *(u8 *)(r2 +0)\nif r3 != 0 goto ret\nr1 = 7\nr2 = 0\ncall bpf_redirect\nret:\nr0 = 4\nexit");
        using var runner = new XdpRunner(obj);
        Assert.Equal(RedirectKind.Ifindex, runner.Run(new byte[20]).Redirect!.Value.Kind);
        var frame = new byte[20];
        frame[0] = 1;
        Assert.Equal(RedirectKind.None, runner.Run(frame).Redirect!.Value.Kind);
    }

    [Fact]
    public void RedirectMap_OnHash_Faults()
    {
        var o = Run(RedirectMap(1, 0) + "exit", Rt.Map("h", MapType.Hash, 4, 4, 4));
        Assert.Equal("cannot pass map_type 1 into func bpf_redirect_map#51", o.Error!.Message);
    }
}
