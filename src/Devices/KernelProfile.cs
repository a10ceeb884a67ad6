namespace VethXdp.Devices;

/// <summary>The kernel behaviours of the veth XDP world that changed between releases (docs/differences.md has the
/// table): which kernel the simulator imitates.</summary>
/// <param name="Name">"4.19", "5.13" or "6.18".</param>
/// <param name="XdpFeatures">6.3+: devices advertise xdp_features and __xdp_enqueue refuses a target without
/// NETDEV_XDP_ACT_NDO_XMIT (-EOPNOTSUPP) at redirect time; before, only a missing ndo_xdp_xmit is refused there.</param>
/// <param name="GroNapi">5.13+: GRO on a veth enables its NAPI (and rings) without an XDP program.</param>
/// <param name="VethTxBulk">5.3+: veth's XDP_TX is bulked 16 frames per producer lock; before, one lock per frame.</param>
/// <param name="XmitStopsAtFirstFailure">5.13+: ndo_xdp_xmit stops at the first frame the ring refuses and the
/// caller frees the rest; before, the driver drops each refused frame and goes on.</param>
/// <param name="NdoXmitErrorCountsDropped">5.5+: a failed veth ndo_xdp_xmit adds the frames to the device's
/// dropped counter (tx_dropped).</param>
/// <param name="IfindexRedirectBulked">5.x+: bpf_redirect(ifindex) goes through the same per-CPU bulk queue as
/// devmaps; 4.19 transmits each frame at once (__bpf_tx_xdp with XDP_XMIT_FLUSH).</param>
/// <param name="Broadcast">5.14+: BPF_F_BROADCAST.</param>
public sealed record KernelProfile(
    string Name,
    bool XdpFeatures,
    bool GroNapi,
    bool VethTxBulk,
    bool XmitStopsAtFirstFailure,
    bool NdoXmitErrorCountsDropped,
    bool IfindexRedirectBulked,
    bool Broadcast)
{
    /// <summary>Linux 4.19: veth native XDP as the paper introduced it.</summary>
    public static KernelProfile Linux4_19 { get; } = new("4.19", false, false, false, false, false, false, false);

    /// <summary>Linux 5.13: GRO-enabled NAPI, bulked XDP_TX, xmit stops at the first failure.</summary>
    public static KernelProfile Linux5_13 { get; } = new("5.13", false, true, true, true, true, true, false);

    /// <summary>Linux 6.18 (the reference machine): xdp_features.</summary>
    public static KernelProfile Linux6_18 { get; } = new("6.18", true, true, true, true, true, true, true);

    /// <summary>The profiles by name.</summary>
    public static IReadOnlyList<KernelProfile> All { get; } = [Linux4_19, Linux5_13, Linux6_18];

    /// <summary>The profile named <paramref name="name"/>, or null.</summary>
    public static KernelProfile? Find(string name)
    {
        foreach (var p in All)
        {
            if (p.Name == name)
            {
                return p;
            }
        }

        return null;
    }
}
