using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Runtime;

/// <summary>What an XDP_REDIRECT targets.</summary>
public enum RedirectKind
{
    /// <summary>No target: the program returned XDP_REDIRECT without a successful bpf_redirect or bpf_redirect_map
    /// (the kernel's xdp_do_redirect fails with -EBADRQC).</summary>
    None,
    /// <summary>A device by ifindex (bpf_redirect, or XDP_REDIRECT after a failed bpf_redirect_map lookup, which
    /// leaves the last ifindex in place).</summary>
    Ifindex,
    /// <summary>A DEVMAP or DEVMAP_HASH entry (or all of them, with BPF_F_BROADCAST).</summary>
    Devmap,
    /// <summary>A CPUMAP entry: another CPU.</summary>
    Cpumap,
    /// <summary>An XSKMAP entry: an AF_XDP socket.</summary>
    Xskmap,
}

/// <summary>Where an XDP_REDIRECT goes: the kernel's bpf_redirect_info when the program returned, resolved.</summary>
/// <param name="Kind">The kind of target.</param>
/// <param name="Ifindex">The device: bpf_redirect's ifindex, or the devmap entry's device; null otherwise (and for a
/// broadcast whose key named no entry).</param>
/// <param name="Map">The map's name, for map redirects.</param>
/// <param name="Key">The map key, for map redirects.</param>
/// <param name="Cpu">The CPU (the cpumap key), for cpumap redirects.</param>
/// <param name="Queue">The xskmap key (by convention the queue the socket is bound to), for xskmap redirects.</param>
/// <param name="Broadcast">BPF_F_BROADCAST: to every device in the devmap.</param>
/// <param name="ExcludeIngress">BPF_F_EXCLUDE_INGRESS: with broadcast, not to the receiving device.</param>
public readonly record struct RedirectInfo(
    RedirectKind Kind,
    uint? Ifindex,
    string? Map,
    uint? Key,
    uint? Cpu,
    uint? Queue,
    bool Broadcast,
    bool ExcludeIngress)
{
    /// <summary>The kind as the JSON output spells it: "none", "ifindex", "devmap", "cpumap", "xskmap".</summary>
    public string KindName => Kind switch
    {
        RedirectKind.Ifindex => "ifindex",
        RedirectKind.Devmap => "devmap",
        RedirectKind.Cpumap => "cpumap",
        RedirectKind.Xskmap => "xskmap",
        _ => "none",
    };

    /// <summary>Resolves the kernel's redirect state as xdp_do_redirect() reads it.</summary>
    public static RedirectInfo From(in RedirectState ri)
    {
        switch (ri.MapType)
        {
            case MapType.Devmap:
            case MapType.DevmapHash:
            {
                bool broadcast = (ri.Flags & XdpHelpers.BroadcastFlag) != 0;
                return new RedirectInfo(
                    RedirectKind.Devmap,
                    ri.HasTarget ? ri.TargetValue : null,
                    ri.Map?.Name,
                    ri.TargetIndex,
                    null,
                    null,
                    broadcast,
                    broadcast && (ri.Flags & XdpHelpers.ExcludeIngressFlag) != 0);
            }

            case MapType.Cpumap:
                return new RedirectInfo(RedirectKind.Cpumap, null, ri.Map?.Name, ri.TargetIndex, ri.TargetIndex, null, false, false);
            case MapType.Xskmap:
                return new RedirectInfo(RedirectKind.Xskmap, null, ri.Map?.Name, ri.TargetIndex, null, ri.TargetIndex, false, false);
            default:
                return ri.MapId == RedirectState.IfindexMapId
                    ? new RedirectInfo(RedirectKind.Ifindex, ri.TargetIndex, null, null, null, null, false, false)
                    : new RedirectInfo(RedirectKind.None, null, null, null, null, null, false, false);
        }
    }
}
