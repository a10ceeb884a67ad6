using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Runtime;

/// <summary>How an object is loaded: map sizes, the number of CPUs, the helpers.</summary>
public sealed record LoadOptions
{
    /// <summary>The options used when none are given.</summary>
    public static LoadOptions Default { get; } = new();

    /// <summary>max_entries by map name (<c>--map-size NAME=N</c>): required for maps whose definition leaves it 0
    /// (except PERF_EVENT_ARRAY, which gets one entry per CPU), and overriding the definition otherwise, as libbpf's
    /// bpf_map__set_max_entries does. A name no map has is refused.</summary>
    public IReadOnlyDictionary<string, uint> MapSizes { get; init; } = new Dictionary<string, uint>();

    /// <summary>The number of possible CPUs (<c>--cpus</c>): the value count of per-CPU maps and the size of perf event
    /// arrays. Null: the machine's (/sys/devices/system/cpu/possible, as libbpf reads it).</summary>
    public int? PossibleCpus { get; init; }

    /// <summary>The helpers programs may call; <see cref="HelperTable.CreateDefault"/> when null.</summary>
    public HelperTable? Helpers { get; init; }

    /// <summary>True to load the XDP programs bound to a device (prog_ifindex with BPF_F_XDP_DEV_BOUND_ONLY), as the XDP
    /// metadata kfuncs require; Linux refuses to load programs that call them otherwise, and so does the loader.</summary>
    public bool DeviceBound { get; init; }

    /// <summary>Creates the maps; <see cref="MapFactory.Create"/> when null (tests pass their own).</summary>
    public Func<MapSpec, int, BpfMap>? MapFactory { get; init; }

    /// <summary>The machine's number of possible CPUs: the count /sys/devices/system/cpu/possible gives ("0-7" is 8),
    /// else <see cref="Environment.ProcessorCount"/>.</summary>
    public static int MachinePossibleCpus()
    {
        try
        {
            const string path = "/sys/devices/system/cpu/possible";
            if (File.Exists(path) && ParseCpuList(File.ReadAllText(path)) is int n and > 0)
            {
                return n;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return Environment.ProcessorCount;
    }

    // "0-3,5,7-8": the highest CPU + 1, as libbpf's parse_cpu_mask_str counts possible CPUs.
    private static int? ParseCpuList(string text)
    {
        int max = -1;
        foreach (var part in text.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var range = part.Split('-');
            if (!int.TryParse(range[^1], out int last))
            {
                return null;
            }

            max = Math.Max(max, last);
        }

        return max >= 0 ? max + 1 : null;
    }
}
