using System.Globalization;
using System.Text;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Verifier.Helpers;

/// <summary>Which maps a helper may take and which helpers a map may be given to: the verifier's two-way
/// <c>check_map_func_compatibility()</c> (kernel/bpf/verifier.c, Linux 6.18), with its messages.</summary>
/// <remarks>Helper ids are <c>enum bpf_func_id</c> values; map types are <see cref="MapType"/> (the kernel's numbers).
/// The check runs only for calls that pass a map (an <see cref="ArgType.ConstMapPtr"/> argument).</remarks>
public static class MapFuncCompatibility
{
    /// <summary>"cannot pass map_type %d into func %s#%d": the map type's number, the helper's <c>func_id_name()</c>
    /// ("bpf_tail_call") and its id.</summary>
    public const string CannotPassMessage = "cannot pass map_type {0} into func {1}#{2}";

    /// <summary>"cannot update sockmap in this context": printed by <c>may_update_sockmap()</c> just before the
    /// <see cref="CannotPassMessage"/> line when map_update_elem/map_delete_elem on a SOCKMAP/SOCKHASH is refused.</summary>
    public const string CannotUpdateSockmapMessage = "cannot update sockmap in this context";

    private static readonly CompositeFormat s_cannotPass = CompositeFormat.Parse(CannotPassMessage);

    /// <summary>True when <paramref name="funcId"/> may be called with a map of <paramref name="mapType"/> from a program
    /// of <paramref name="progType"/> (both directions of the kernel's check).</summary>
    public static bool IsCompatible(ProgramType progType, MapType mapType, int funcId) =>
        MapAllows(progType, mapType, funcId) && FuncAllows(mapType, funcId);

    /// <summary>Null when compatible, else the kernel's log line(s) for the refusal, without the trailing newline
    /// (two lines for a refused sockmap update).</summary>
    public static string? Check(ProgramType progType, MapType mapType, int funcId)
    {
        if (IsCompatible(progType, mapType, funcId))
        {
            return null;
        }

        string line = Message(mapType, funcId);
        return RefusedSockmapUpdate(progType, mapType, funcId) ? CannotUpdateSockmapMessage + "\n" + line : line;
    }

    /// <summary>"cannot pass map_type 2 into func bpf_tail_call#12".</summary>
    public static string Message(MapType mapType, int funcId) =>
        string.Format(CultureInfo.InvariantCulture, s_cannotPass, (uint)mapType, HelperNames.Name(funcId) ?? "unknown", funcId);

    /// <summary>The first direction, "from map perspective": some map types work with a few helpers only.</summary>
    public static bool MapAllows(ProgramType progType, MapType mapType, int funcId) => mapType switch
    {
        MapType.ProgArray => funcId == 12,                                            // tail_call
        MapType.PerfEventArray => funcId is 22 or 25 or 111 or 55 or 121,            // perf_event_read/output, skb_output, read_value, xdp_output
        MapType.Ringbuf => funcId is 130 or 131 or 134 or 198 or 199 or 200,          // ringbuf_output/reserve/query, *_dynptr
        MapType.UserRingbuf => funcId == 209,                                         // user_ringbuf_drain
        MapType.StackTrace => funcId == 27,                                           // get_stackid
        MapType.CgroupArray => funcId is 33 or 37,                                    // skb_under_cgroup, current_task_under_cgroup
        MapType.CgroupStorage or MapType.PercpuCgroupStorage => funcId == 81,        // get_local_storage
        MapType.Devmap or MapType.DevmapHash => funcId is 51 or 1,                    // redirect_map, map_lookup_elem
        MapType.Cpumap => funcId == 51,
        MapType.Xskmap => funcId is 51 or 1,
        MapType.ArrayOfMaps or MapType.HashOfMaps => funcId == 1,
        MapType.Sockmap => funcId is 52 or 53 or 60 or 82 or 1 || MaySockmapUpdate(progType, funcId),
        MapType.Sockhash => funcId is 72 or 70 or 71 or 82 or 1 || MaySockmapUpdate(progType, funcId),
        MapType.ReuseportSockarray => funcId == 82,                                   // sk_select_reuseport
        MapType.Queue or MapType.Stack => funcId is 89 or 88 or 87,                   // peek, pop, push
        MapType.SkStorage => funcId is 107 or 108,
        MapType.InodeStorage => funcId is 145 or 146,
        MapType.TaskStorage => funcId is 156 or 157,
        MapType.CgrpStorage => funcId is 210 or 211,
        MapType.BloomFilter => funcId is 89 or 87,
        _ => true,
    };

    /// <summary>The second direction, "from the function itself": some helpers want one kind of map.</summary>
    public static bool FuncAllows(MapType mapType, int funcId) => funcId switch
    {
        12 => mapType == MapType.ProgArray,
        22 or 25 or 55 or 111 or 121 => mapType == MapType.PerfEventArray,
        130 or 131 or 134 or 198 or 199 or 200 => mapType == MapType.Ringbuf,
        209 => mapType == MapType.UserRingbuf,
        27 => mapType == MapType.StackTrace,
        37 or 33 => mapType == MapType.CgroupArray,
        51 => mapType is MapType.Devmap or MapType.DevmapHash or MapType.Cpumap or MapType.Xskmap,
        52 or 60 or 53 => mapType == MapType.Sockmap,
        72 or 71 or 70 => mapType == MapType.Sockhash,
        81 => mapType is MapType.CgroupStorage or MapType.PercpuCgroupStorage,
        82 => mapType is MapType.ReuseportSockarray or MapType.Sockmap or MapType.Sockhash,
        88 => mapType is MapType.Queue or MapType.Stack,
        89 or 87 => mapType is MapType.Queue or MapType.Stack or MapType.BloomFilter,
        195 => mapType is MapType.PercpuArray or MapType.PercpuHash or MapType.LruPercpuHash,
        107 or 108 => mapType == MapType.SkStorage,
        145 or 146 => mapType == MapType.InodeStorage,
        156 or 157 => mapType == MapType.TaskStorage,
        210 or 211 => mapType == MapType.CgrpStorage,
        _ => true,
    };

    /// <summary>The map types helper <paramref name="funcId"/> accepts when called from <paramref name="progType"/>,
    /// ascending by number (every type the kernel defines, <see cref="MapType.Hash"/> to <see cref="MapType.Arena"/>).</summary>
    public static MapType[] AllowedMapTypes(ProgramType progType, int funcId)
    {
        var types = new List<MapType>();
        for (var t = MapType.Hash; t <= MapType.Arena; t++)
        {
            if (IsCompatible(progType, t, funcId))
            {
                types.Add(t);
            }
        }

        return [.. types];
    }

    // kernel: may_update_sockmap(): map_update_elem/map_delete_elem on a sockmap or sockhash, from the program types
    // where no locked socket can be reached (the modelled ones among them: socket filter, tc, xdp).
    private static bool MaySockmapUpdate(ProgramType progType, int funcId)
    {
        if (funcId is not (2 or 3))
        {
            return false;
        }

        return progType switch
        {
            ProgramType.SockOps => funcId == 3,
            ProgramType.SocketFilter or ProgramType.SchedCls or ProgramType.SchedAct or ProgramType.Xdp
                or ProgramType.SkReuseport or ProgramType.FlowDissector or ProgramType.SkLookup => true,
            _ => false,    // BPF_PROG_TYPE_TRACING needs expected_attach_type BPF_TRACE_ITER; not modelled
        };
    }

    private static bool RefusedSockmapUpdate(ProgramType progType, MapType mapType, int funcId) =>
        mapType is MapType.Sockmap or MapType.Sockhash && funcId is 2 or 3 && !MaySockmapUpdate(progType, funcId);
}
