using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Kernel;

/// <summary>Maps on both sides of a cross-check: which can be compared, their canonical dumps
/// (<see cref="CrossCheckMapDump"/>), and the initial contents in the maps JSON format applied to the kernel's.</summary>
public static class CrossCheckMaps
{
    /// <summary>Why a map of this type is not compared entry by entry, or null when it is.</summary>
    /// <param name="type">The map type.</param>
    public static string? NotComparableReason(MapType type) => type switch
    {
        MapType.Ringbuf => "a ring buffer holds records, not entries: its records are compared as events",
        MapType.UserRingbuf => "a user ring buffer is written by user space only",
        MapType.PerfEventArray => "BPF_PROG_TEST_RUN opens no perf event in the slots (the kernel's bpf_perf_event_output returns -ENOENT and records nothing), so there is nothing to compare",
        MapType.BloomFilter => "a bloom filter cannot be enumerated (BPF_MAP_GET_NEXT_KEY is -EINVAL)",
        MapType.Xskmap => "the kernel gives user space no lookup of XSKMAP slots (-EOPNOTSUPP)",
        MapType.Sockmap or MapType.Sockhash => "socket maps hold sockets, which only the kernel side has",
        _ => null,
    };

    /// <summary>The maps of <paramref name="specs"/> that are compared; what is not, and why, goes to <paramref name="notCompared"/>.</summary>
    /// <param name="specs">The object's maps.</param>
    /// <param name="skips">The fields left out (whole maps by name).</param>
    /// <param name="notCompared">Receives one line per map left out.</param>
    public static IReadOnlyList<MapSpec> Comparable(IReadOnlyList<MapSpec> specs, IReadOnlyList<CrossCheckSkip> skips, ICollection<string> notCompared)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(skips);
        ArgumentNullException.ThrowIfNull(notCompared);
        var list = new List<MapSpec>();
        foreach (var spec in specs)
        {
            if (NotComparableReason(spec.Type) is { } why)
            {
                notCompared.Add($"map \"{spec.Name}\" ({MapTypeNames.ToName(spec.Type)}): {why}");
                continue;
            }

            bool whole = false;
            foreach (var s in skips)
            {
                if (s.Field == CrossCheckSkipField.Map && s.Map == spec.Name)
                {
                    notCompared.Add(s.ToString());
                    whole |= s.Start is null;
                }
            }

            if (!whole)
            {
                list.Add(spec);
            }
        }

        return list;
    }

    /// <summary>Our maps in canonical form.</summary>
    /// <param name="loaded">Our loaded object.</param>
    /// <param name="maps">The maps to dump (all of the object's when null).</param>
    /// <param name="skips">Value bytes left out (shown as "--").</param>
    public static IReadOnlyList<CrossCheckMapDump> DumpVm(LoadedObject loaded, IReadOnlyList<MapSpec>? maps = null, IReadOnlyList<CrossCheckSkip>? skips = null)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        var names = loaded.Names;
        var list = new List<CrossCheckMapDump>();
        foreach (var map in loaded.Maps)
        {
            if (maps is not null && !Contains(maps, map.Name))
            {
                continue;
            }

            var entries = new List<(byte[] Key, byte[] Value)>();
            foreach (var e in map.Entries())
            {
                entries.Add(e);
            }

            list.Add(Canonical(map.Spec, entries, loaded.PossibleCpus, names.ProgramName, names.MapName, skips));
        }

        return list;
    }

    /// <summary>The kernel's maps in canonical form (program and map ids turned into names).</summary>
    /// <param name="kernel">The object loaded into the kernel.</param>
    /// <param name="maps">The maps to dump (all of the object's when null).</param>
    /// <param name="skips">Value bytes left out (shown as "--").</param>
    public static IReadOnlyList<CrossCheckMapDump> DumpKernel(KernelObject kernel, IReadOnlyList<MapSpec>? maps = null, IReadOnlyList<CrossCheckSkip>? skips = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var list = new List<CrossCheckMapDump>();
        foreach (var spec in kernel.Maps)
        {
            if (maps is not null && !Contains(maps, spec.Name))
            {
                continue;
            }

            var entries = new List<(byte[] Key, byte[] Value)>();
            foreach (var e in kernel.DumpMap(spec.Name))
            {
                entries.Add((e.Key, e.Value));
            }

            list.Add(Canonical(spec, entries, KernelObject.PossibleCpus, kernel.ProgramNameById, kernel.MapNameById, skips));
        }

        return list;
    }

    /// <summary>Puts the map types into maps JSON that leaves them out (the corpus manifest's run maps), and wraps a
    /// bare <c>{NAME: {...}}</c> into <c>{"maps": {...}}</c>.</summary>
    /// <param name="json">The maps JSON.</param>
    /// <param name="specs">The object's maps.</param>
    /// <exception cref="MapsJsonException">Not a JSON object, or a map the object does not have.</exception>
    public static string WithTypes(string json, IReadOnlyList<MapSpec> specs)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(specs);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new MapsJsonException("initial maps", null, -1, $"invalid JSON: {e.Message}", e);
        }

        if (root is not JsonObject obj)
        {
            throw new MapsJsonException("initial maps", null, -1, "expected an object {\"maps\": {NAME: {...}}}");
        }

        if (obj["maps"] is not JsonObject maps)
        {
            maps = obj;
            root = new JsonObject { ["maps"] = obj.DeepClone() };
            maps = (JsonObject)root["maps"]!;
        }

        foreach (var (name, value) in maps.ToList())
        {
            if (value is JsonObject m && !m.ContainsKey("type"))
            {
                var spec = specs.FirstOrDefault(s => s.Name == name)
                    ?? throw new MapsJsonException("initial maps", name, -1, $"no map of that name in the object (maps: {string.Join(", ", specs.Select(s => s.Name))})");
                m.Insert(0, "type", MapTypeNames.ToName(spec.Type));
            }
        }

        return root.ToJsonString();
    }

    /// <summary>Applies parsed maps JSON to the kernel's maps, as <see cref="MapsJson.Apply(IReadOnlyList{MapsJsonMap}, string, IReadOnlyDictionary{string, BpfMap}, IMapsJsonNames?)"/>
    /// applies it to ours: in order, BPF_ANY, pushing into queues and stacks (a stack's values listed in pop order),
    /// program and map names turned into the kernel's fds.</summary>
    /// <param name="parsed">The maps JSON.</param>
    /// <param name="kernel">The object loaded into the kernel.</param>
    /// <exception cref="KernelBpfException">An update failed.</exception>
    /// <exception cref="MapsJsonException">An entry does not fit its map.</exception>
    public static void ApplyToKernel(IReadOnlyList<MapsJsonMap> parsed, KernelObject kernel)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentNullException.ThrowIfNull(kernel);
        foreach (var m in parsed)
        {
            var spec = kernel.Maps.FirstOrDefault(s => s.Name == m.Name)
                ?? throw new MapsJsonException("initial maps", m.Name, -1, "the kernel has no map of that name");
            var entries = m.Entries.ToList();
            if (spec.Type == MapType.Stack)
            {
                entries.Reverse();
            }

            for (int i = 0; i < entries.Count; i++)
            {
                var e = entries[i];
                byte[] value = KernelValue(spec, e, kernel, m.Name, i);
                try
                {
                    kernel.UpdateMap(m.Name, e.Key ?? [], value);
                }
                catch (KernelBpfException ex)
                {
                    throw new MapsJsonException("initial maps", m.Name, i, $"the kernel's update failed with {ex.ErrnoName}", ex);
                }
            }
        }
    }

    private static byte[] KernelValue(MapSpec spec, MapsJsonEntry e, KernelObject kernel, string map, int index)
    {
        switch (spec.Type)
        {
            case MapType.ProgArray:
                return U32((uint)kernel.ProgramFd(e.Name!).Value, 4);
            case MapType.ArrayOfMaps or MapType.HashOfMaps:
                return U32((uint)kernel.MapFd(e.Name!).Value, 4);
            case MapType.Devmap or MapType.DevmapHash or MapType.Cpumap:
            {
                var value = new byte[spec.ValueSize];
                BinaryPrimitives.WriteUInt32LittleEndian(value, e.Number ?? 0);
                if (e.Name is not null)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(4), kernel.ProgramFd(e.Name).Value);
                }

                return value;
            }
        }

        if (e.Values is not null)
        {
            int stride = (int)((spec.ValueSize + 7) & ~7u);
            if (e.Values.Count != KernelObject.PossibleCpus)
            {
                throw new MapsJsonException("initial maps", map, index,
                    string.Create(CultureInfo.InvariantCulture, $"\"values\" has {e.Values.Count} value(s); the kernel has {KernelObject.PossibleCpus} possible CPUs"));
            }

            var value = new byte[stride * e.Values.Count];
            for (int cpu = 0; cpu < e.Values.Count; cpu++)
            {
                e.Values[cpu].CopyTo(value, cpu * stride);
            }

            return value;
        }

        return e.Value ?? [];
    }

    private static byte[] U32(uint v, int size)
    {
        var b = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    private static bool Contains(IReadOnlyList<MapSpec> maps, string name)
    {
        foreach (var m in maps)
        {
            if (m.Name == name)
            {
                return true;
            }
        }

        return false;
    }

    // One side's entries (keys in BPF_MAP_GET_NEXT_KEY order, values as BPF_MAP_LOOKUP_ELEM gives them) in canonical form.
    internal static CrossCheckMapDump Canonical(MapSpec spec, List<(byte[] Key, byte[] Value)> entries, int cpus,
        Func<uint, string?> programName, Func<uint, string?> mapName, IReadOnlyList<CrossCheckSkip>? skips)
    {
        var (maskStart, maskEnd) = ValueMask(spec.Name, skips);
        bool ordered = spec.Type is MapType.Queue or MapType.Stack;
        var list = new List<CrossCheckMapEntry>(entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            var (key, value) = entries[i];
            string k = ordered ? string.Create(CultureInfo.InvariantCulture, $"#{i}") : Convert.ToHexStringLower(key);
            list.Add(new CrossCheckMapEntry(k, Values(spec, value, cpus, programName, mapName, maskStart, maskEnd)));
        }

        if (!ordered)
        {
            list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        }

        return new CrossCheckMapDump(spec.Name, spec.Type, list, ordered);
    }

    private static string[] Values(MapSpec spec, byte[] value, int cpus, Func<uint, string?> programName,
        Func<uint, string?> mapName, int maskStart, int maskEnd)
    {
        switch (spec.Type)
        {
            case MapType.ProgArray:
                return [Reference("prog", Word(value, 0), programName)];
            case MapType.ArrayOfMaps or MapType.HashOfMaps:
                return [Reference("map", Word(value, 0), mapName)];
            case MapType.Devmap or MapType.DevmapHash or MapType.Cpumap:
            {
                string first = string.Create(CultureInfo.InvariantCulture, $"{(spec.Type == MapType.Cpumap ? "qsize" : "ifindex")} {Word(value, 0)}");
                uint prog = value.Length >= 8 ? Word(value, 4) : 0;
                return [prog == 0 ? first : first + ", " + Reference("prog", prog, programName)];
            }
        }

        if (MapTypeNames.IsPerCpu(spec.Type))
        {
            int size = (int)spec.ValueSize;
            int stride = (size + 7) & ~7;
            var list = new string[cpus];
            for (int cpu = 0; cpu < cpus; cpu++)
            {
                int at = cpu * stride;
                list[cpu] = at + size <= value.Length
                    ? Hex(value.AsSpan(at, size), maskStart, maskEnd)
                    : "(missing)";
            }

            return list;
        }

        return [Hex(value, maskStart, maskEnd)];
    }

    private static string Reference(string kind, uint id, Func<uint, string?> name) =>
        id == 0 ? kind + " (none)" : name(id) is { } n ? kind + " " + n : string.Create(CultureInfo.InvariantCulture, $"{kind} id {id} (not one of the object's)");

    private static uint Word(byte[] value, int at) => value.Length >= at + 4 ? BinaryPrimitives.ReadUInt32LittleEndian(value.AsSpan(at)) : 0;

    private static string Hex(ReadOnlySpan<byte> bytes, int maskStart, int maskEnd)
    {
        string hex = Convert.ToHexStringLower(bytes);
        if (maskStart >= maskEnd || maskStart >= bytes.Length)
        {
            return hex;
        }

        int end = Math.Min(maskEnd, bytes.Length);
        return string.Concat(hex.AsSpan(0, 2 * maskStart), new string('-', 2 * (end - maskStart)), hex.AsSpan(2 * end));
    }

    private static (int Start, int End) ValueMask(string map, IReadOnlyList<CrossCheckSkip>? skips)
    {
        if (skips is not null)
        {
            foreach (var s in skips)
            {
                if (s.Field == CrossCheckSkipField.Map && s.Map == map && s.Start is int a && s.End is int b)
                {
                    return (a, b);
                }
            }
        }

        return (0, 0);
    }
}
