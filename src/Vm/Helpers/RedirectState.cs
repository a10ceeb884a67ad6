using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Helpers;

/// <summary>The kernel's per-CPU <c>struct bpf_redirect_info</c>: what bpf_redirect and bpf_redirect_map leave for
/// <c>xdp_do_redirect()</c> to act on when the program returns XDP_REDIRECT.</summary>
/// <remarks>Zeroed before every packet, as BPF_PROG_TEST_RUN gives every run a fresh one (<c>bpf_net_ctx_set</c>).
/// The target a devmap, cpumap or xskmap entry names is resolved when the helper runs (the kernel keeps a pointer
/// to the entry), so a later change to the map does not change where the frame goes.</remarks>
public struct RedirectState
{
    /// <summary>The kernel's <c>map_id</c> for an ifindex redirect: INT_MAX, an id no map ever gets.</summary>
    public const int IfindexMapId = int.MaxValue;

    /// <summary>tgt_index: the ifindex (bpf_redirect) or the map key (bpf_redirect_map).</summary>
    public uint TargetIndex;

    /// <summary>map_id: <see cref="IfindexMapId"/> for bpf_redirect and after a failed lookup; 1 when a map was hit; 0 when nothing was set.</summary>
    public int MapId;

    /// <summary>map_type: the map's type after a successful bpf_redirect_map, else Unspec.</summary>
    public MapType MapType;

    /// <summary>flags: BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS when broadcasting, else 0.</summary>
    public ulong Flags;

    /// <summary>The map of the last successful bpf_redirect_map (kernel: the map's id, and ri->map when broadcasting).</summary>
    public BpfMap? Map;

    /// <summary>tgt_value != NULL: the key named an entry.</summary>
    public bool HasTarget;

    /// <summary>For a devmap entry: the device's ifindex; for a cpumap entry: the cpu; for an xskmap entry: the queue.</summary>
    public uint TargetValue;

    /// <summary>Clears the state (a fresh bpf_redirect_info).</summary>
    public void Reset() => this = default;
}
