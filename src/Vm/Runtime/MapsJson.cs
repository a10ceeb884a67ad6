using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using VethXdp.Vm.Maps;

namespace VethXdp.Vm.Runtime;

/// <summary>The maps JSON of <c>vethxdp run --json</c>'s last line and of <c>--maps-in</c>:
/// <c>{"maps": {NAME: {"type": "hash", "entries": [{"key": "0a000001", "value": "0100000000000000"}]}}}</c>.</summary>
/// <remarks>
/// <para>Per map: <c>"type"</c> is bpftool's name of the map type (<see cref="MapTypeNames"/>); <c>"entries"</c> is a
/// list whose shape depends on the type. Keys and values are the map's raw bytes (host order, little-endian) as
/// lowercase hex without separators.</para>
/// <list type="table">
/// <item><term>hash, lru_hash, lpm_trie, ... (default)</term><description><c>{"key", "value"}</c>, sorted by key bytes so
/// that two dumps of the same contents compare equal as text.</description></item>
/// <item><term>array</term><description><c>{"key", "value"}</c> for the non-zero values only, in index order.</description></item>
/// <item><term>percpu_hash, percpu_array, lru_percpu_hash</term><description><c>{"key", "values": [one per possible CPU]}</c>
/// (value_size bytes each, without the kernel's rounding to 8); a per-CPU array lists the keys where any CPU's value is
/// non-zero.</description></item>
/// <item><term>queue, stack</term><description><c>{"value"}</c> in pop order (<see cref="BpfMap.Entries"/>; nothing is popped).</description></item>
/// <item><term>bloom_filter</term><description>none (it cannot be enumerated); <c>--maps-in</c> pushes the values given.</description></item>
/// <item><term>prog_array</term><description><c>{"key", "value": "program name"}</c>.</description></item>
/// <item><term>array_of_maps, hash_of_maps</term><description><c>{"key", "value": "inner map name"}</c>.</description></item>
/// <item><term>devmap, devmap_hash</term><description><c>{"key", "value": ifindex}</c> (a number), plus
/// <c>"program": "name"</c> where a program is attached.</description></item>
/// <item><term>cpumap</term><description><c>{"key", "value": qsize}</c> (a number), plus <c>"program"</c> where one is attached.</description></item>
/// <item><term>ringbuf, user_ringbuf, perf_event_array</term><description>none: their records are the run's events.</description></item>
/// <item><term>xskmap</term><description><c>{"key", "value"}</c> for the slots whose user-side lookup succeeds; not accepted by <c>--maps-in</c>.</description></item>
/// </list>
/// <para>Program arrays, maps of maps, devmaps and cpumaps hold references on their user side as the kernel's do:
/// a 32-bit number in the value's first word (prog_array, maps of maps) or second word (the <c>bpf_prog</c> of devmap
/// and cpumap values). A lookup returns the referenced object's id, an update takes its "fd" (the runtime's numbering);
/// <see cref="IMapsJsonNames"/> turns ids into names (writing) and names into fds (reading). A devmap or cpumap value
/// whose program id is 0 has no program, as in the kernel.</para>
/// <para><c>--maps-in</c> (<see cref="Apply(string, string, IReadOnlyDictionary{string, BpfMap}, IMapsJsonNames?)"/>) takes
/// exactly this format. Every entry is checked against its map (name, type, key and value sizes, CPU count, hex,
/// names) before any map is touched; then entries are applied in order with the maps' user-side API
/// (BPF_MAP_UPDATE_ELEM with BPF_ANY, which pushes for queue, stack and bloom filter). A problem throws
/// <see cref="MapsJsonException"/> naming the file, the map and the entry index.</para>
/// </remarks>
public static class MapsJson
{
    private const ulong BpfAny = 0;

    // ---- writing ----

    /// <summary>Writes <c>{"maps": {...}}</c> for <paramref name="maps"/>, in their order.</summary>
    /// <param name="writer">Where to write (not indented for the run's last line).</param>
    /// <param name="maps">The maps.</param>
    /// <param name="names">Names for the ids that program arrays, maps of maps, devmaps and cpumaps hold; without
    /// it (or for an id it does not know) the reference is written as hex.</param>
    public static void Write(Utf8JsonWriter writer, IEnumerable<BpfMap> maps, IMapsJsonNames? names = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(maps);
        writer.WriteStartObject();
        writer.WritePropertyName("maps");
        writer.WriteStartObject();
        foreach (var map in maps)
        {
            writer.WritePropertyName(map.Name);
            WriteMap(writer, map, names);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>The whole <c>{"maps": {...}}</c> object as one line of text (no indentation, no newline).</summary>
    public static string Format(IEnumerable<BpfMap> maps, IMapsJsonNames? names = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            Write(writer, maps, names);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes one map's object: <c>{"type": "...", "entries": [...]}</c>.</summary>
    public static void WriteMap(Utf8JsonWriter writer, BpfMap map, IMapsJsonNames? names = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(map);
        writer.WriteStartObject();
        writer.WriteString("type", MapTypeNames.ToName(map.Type));
        writer.WritePropertyName("entries");
        writer.WriteStartArray();
        switch (map.Type)
        {
            case MapType.Ringbuf or MapType.UserRingbuf or MapType.PerfEventArray or MapType.BloomFilter:
                break;
            case MapType.Queue or MapType.Stack:
                WriteQueueOrStack(writer, map);
                break;
            default:
                WriteKeyed(writer, map, names);
                break;
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteQueueOrStack(Utf8JsonWriter writer, BpfMap map)
    {
        // BpfMap.Entries gives a queue's or stack's values in pop order without popping them.
        foreach (var (_, value) in map.Entries())
        {
            writer.WriteStartObject();
            writer.WriteString("value", Hex(value));
            writer.WriteEndObject();
        }
    }

    private static void WriteKeyed(Utf8JsonWriter writer, BpfMap map, IMapsJsonNames? names)
    {
        bool perCpu = MapTypeNames.IsPerCpu(map.Type);
        bool isArray = map.Type is MapType.Array or MapType.PercpuArray;
        // Entries: keys in BPF_MAP_GET_NEXT_KEY order, values as BPF_MAP_LOOKUP_ELEM gives them; slots whose lookup
        // fails (empty program array, devmap, cpumap, map-of-maps slots: -ENOENT) are left out.
        var entries = map.Entries().ToList();
        if (!isArray && !IsIndexed(map.Type))
        {
            // Hash order depends on the hash seed: sort, so that two dumps of the same contents are the same text.
            entries.Sort(static (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        }

        foreach (var (key, value) in entries)
        {
            if (isArray && !value.AsSpan().ContainsAnyExcept((byte)0))
            {
                continue;
            }

            writer.WriteStartObject();
            writer.WriteString("key", Hex(key));
            switch (map.Type)
            {
                case MapType.ProgArray:
                    WriteReference(writer, "value", names?.ProgramName(U32(value, 0)), value);
                    break;
                case MapType.ArrayOfMaps or MapType.HashOfMaps:
                    WriteReference(writer, "value", names?.MapName(U32(value, 0)), value);
                    break;
                case MapType.Devmap or MapType.DevmapHash or MapType.Cpumap:
                    writer.WriteNumber("value", U32(value, 0));
                    if (value.Length >= 8 && U32(value, 4) != 0)
                    {
                        WriteReference(writer, "program", names?.ProgramName(U32(value, 4)), value.AsSpan(4, 4));
                    }

                    break;
                default:
                    if (perCpu)
                    {
                        WritePerCpu(writer, map, value);
                    }
                    else
                    {
                        writer.WriteString("value", Hex(value));
                    }

                    break;
            }

            writer.WriteEndObject();
        }
    }

    private static void WriteReference(Utf8JsonWriter writer, string property, string? name, ReadOnlySpan<byte> raw)
    {
        if (name is not null)
        {
            writer.WriteString(property, name);
        }
        else
        {
            writer.WriteString(property, Hex(raw));
        }
    }

    private static void WritePerCpu(Utf8JsonWriter writer, BpfMap map, byte[] value)
    {
        int size = (int)map.Spec.ValueSize;
        int stride = PerCpuStride(map);
        writer.WritePropertyName("values");
        writer.WriteStartArray();
        for (int cpu = 0; cpu < map.PossibleCpus; cpu++)
        {
            writer.WriteStringValue(Hex(value.AsSpan(cpu * stride, size)));
        }

        writer.WriteEndArray();
    }

    private static bool IsIndexed(MapType type) =>
        type is MapType.ProgArray or MapType.PerfEventArray or MapType.ArrayOfMaps or MapType.Devmap or MapType.Cpumap
            or MapType.Xskmap or MapType.CgroupArray;

    private static int PerCpuStride(BpfMap map) => (int)((map.Spec.ValueSize + 7) & ~7u);

    // ---- reading ----

    /// <summary>Parses the maps JSON into entries, checking its shape (not yet against any map).</summary>
    /// <param name="jsonText">The text.</param>
    /// <param name="fileName">The file's name, for messages.</param>
    /// <exception cref="MapsJsonException">Not JSON, or not this format; names the file, the map and the entry index.</exception>
    public static IReadOnlyList<MapsJsonMap> Parse(string jsonText, string fileName)
    {
        ArgumentNullException.ThrowIfNull(jsonText);
        ArgumentNullException.ThrowIfNull(fileName);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(jsonText, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new MapsJsonException(fileName, null, -1,
                $"invalid JSON at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}: {FirstSentence(ex.Message)}", ex);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("maps", out var mapsElement))
            {
                throw new MapsJsonException(fileName, null, -1, "expected an object {\"maps\": {NAME: {\"type\": ..., \"entries\": [...]}}}");
            }

            if (mapsElement.ValueKind != JsonValueKind.Object)
            {
                throw new MapsJsonException(fileName, null, -1, "\"maps\" must be an object of maps by name");
            }

            var result = new List<MapsJsonMap>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in mapsElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw new MapsJsonException(fileName, property.Name, -1, "the map is given twice");
                }

                result.Add(ParseMap(fileName, property.Name, property.Value));
            }

            return result;
        }
    }

    private static MapsJsonMap ParseMap(string file, string name, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new MapsJsonException(file, name, -1, "expected an object {\"type\": ..., \"entries\": [...]}");
        }

        if (!element.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            throw new MapsJsonException(file, name, -1, "\"type\" (a string, as bpftool names map types) is missing");
        }

        string typeName = typeElement.GetString()!;
        if (!MapTypeNames.TryParse(typeName, out var type))
        {
            throw new MapsJsonException(file, name, -1, $"unknown map type \"{typeName}\"");
        }

        foreach (var property in element.EnumerateObject())
        {
            if (property.Name is not ("type" or "entries"))
            {
                throw new MapsJsonException(file, name, -1, $"unknown property \"{property.Name}\" (a map has \"type\" and \"entries\")");
            }
        }

        var entries = new List<MapsJsonEntry>();
        if (element.TryGetProperty("entries", out var entriesElement))
        {
            if (entriesElement.ValueKind != JsonValueKind.Array)
            {
                throw new MapsJsonException(file, name, -1, "\"entries\" must be an array");
            }

            int index = 0;
            foreach (var entry in entriesElement.EnumerateArray())
            {
                entries.Add(ParseEntry(file, name, type, index, entry));
                index++;
            }
        }

        return new MapsJsonMap(name, type, entries);
    }

    private static MapsJsonEntry ParseEntry(string file, string map, MapType type, int index, JsonElement entry)
    {
        MapsJsonException Bad(string reason) => new(file, map, index, reason);

        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw Bad("an entry must be an object");
        }

        if (type is MapType.Ringbuf or MapType.UserRingbuf or MapType.PerfEventArray)
        {
            throw Bad($"{MapTypeNames.ToName(type)} maps take no entries (their records are the run's events)");
        }

        if (type == MapType.Xskmap)
        {
            throw Bad("xskmap entries cannot be given: they need AF_XDP sockets");
        }

        bool keyless = type is MapType.Queue or MapType.Stack or MapType.BloomFilter;
        bool perCpu = MapTypeNames.IsPerCpu(type);
        bool named = type is MapType.ProgArray or MapType.ArrayOfMaps or MapType.HashOfMaps;
        bool numbered = type is MapType.Devmap or MapType.DevmapHash or MapType.Cpumap;
        string[] allowed = keyless ? ["value"] : perCpu ? ["key", "values"] : numbered ? ["key", "value", "program"] : ["key", "value"];
        foreach (var property in entry.EnumerateObject())
        {
            if (Array.IndexOf(allowed, property.Name) < 0)
            {
                throw Bad($"unexpected property \"{property.Name}\" in a {MapTypeNames.ToName(type)} entry (expected {string.Join(", ", allowed.Select(a => "\"" + a + "\""))})");
            }
        }

        byte[]? key = null;
        if (!keyless)
        {
            if (!entry.TryGetProperty("key", out var keyElement))
            {
                throw Bad("\"key\" is missing");
            }

            key = ParseHex(keyElement, "key", Bad);
        }

        if (perCpu)
        {
            if (!entry.TryGetProperty("values", out var valuesElement) || valuesElement.ValueKind != JsonValueKind.Array)
            {
                throw Bad("\"values\" (an array of hex strings, one per CPU) is missing");
            }

            var values = new List<byte[]>();
            foreach (var v in valuesElement.EnumerateArray())
            {
                values.Add(ParseHex(v, $"values[{values.Count}]", Bad));
            }

            return new MapsJsonEntry(key, null, values, null, null);
        }

        if (!entry.TryGetProperty("value", out var valueElement))
        {
            throw Bad("\"value\" is missing");
        }

        if (named)
        {
            if (valueElement.ValueKind != JsonValueKind.String)
            {
                throw Bad($"\"value\" must be the name of a {(type == MapType.ProgArray ? "program" : "map")}");
            }

            return new MapsJsonEntry(key, null, null, valueElement.GetString(), null);
        }

        if (numbered)
        {
            if (valueElement.ValueKind != JsonValueKind.Number || !valueElement.TryGetUInt32(out uint number))
            {
                throw Bad($"\"value\" must be {(type == MapType.Cpumap ? "the queue size" : "an ifindex")}: a number from 0 to 4294967295");
            }

            string? program = null;
            if (entry.TryGetProperty("program", out var programElement))
            {
                if (programElement.ValueKind != JsonValueKind.String)
                {
                    throw Bad("\"program\" must be the name of a program");
                }

                program = programElement.GetString();
            }

            return new MapsJsonEntry(key, null, null, program, number);
        }

        return new MapsJsonEntry(key, ParseHex(valueElement, "value", Bad), null, null, null);
    }

    private static byte[] ParseHex(JsonElement element, string what, Func<string, MapsJsonException> bad)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            throw bad($"\"{what}\" must be a hex string");
        }

        string text = element.GetString()!;
        if (text.Length % 2 != 0)
        {
            throw bad($"bad hex string in \"{what}\": \"{Shorten(text)}\" has an odd number of digits");
        }

        var bytes = new byte[text.Length / 2];
        for (int i = 0; i < text.Length; i++)
        {
            int digit = HexDigit(text[i]);
            if (digit < 0)
            {
                throw bad($"bad hex string in \"{what}\": '{text[i]}' at character {i + 1} is not a hex digit");
            }

            bytes[i / 2] = (byte)((bytes[i / 2] << 4) | digit);
        }

        return bytes;
    }

    // ---- applying ----

    /// <summary>Parses <paramref name="jsonText"/> and applies it to <paramref name="maps"/> (see the remarks on
    /// <see cref="MapsJson"/>).</summary>
    /// <param name="jsonText">The maps JSON.</param>
    /// <param name="fileName">The file's name, for messages.</param>
    /// <param name="maps">The object's maps by name.</param>
    /// <param name="names">The fds of the programs and maps the JSON names (program arrays, maps of maps, devmap and
    /// cpumap programs); required when it names any.</param>
    /// <exception cref="MapsJsonException">The JSON is bad, does not match the maps, or an update fails.</exception>
    public static void Apply(string jsonText, string fileName, IReadOnlyDictionary<string, BpfMap> maps, IMapsJsonNames? names = null) =>
        Apply(Parse(jsonText, fileName), fileName, maps, names);

    /// <summary>Applies parsed maps JSON to <paramref name="maps"/>: checks every entry first, then updates.</summary>
    /// <exception cref="MapsJsonException">An entry does not match its map, or an update fails.</exception>
    public static void Apply(IReadOnlyList<MapsJsonMap> parsed, string fileName, IReadOnlyDictionary<string, BpfMap> maps, IMapsJsonNames? names = null)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(maps);

        // First build every update, so that a bad entry anywhere leaves every map untouched.
        var work = new List<(BpfMap Map, int Index, byte[]? Key, byte[] Value)>();
        foreach (var m in parsed)
        {
            if (!maps.TryGetValue(m.Name, out var map))
            {
                string known = maps.Count == 0 ? "the object has no maps" : "maps: " + string.Join(", ", maps.Keys.Order(StringComparer.Ordinal));
                throw new MapsJsonException(fileName, m.Name, -1, $"no map of that name in the object ({known})");
            }

            if (map.Type != m.Type)
            {
                throw new MapsJsonException(fileName, m.Name, -1,
                    $"type \"{MapTypeNames.ToName(m.Type)}\" does not match the map's type \"{MapTypeNames.ToName(map.Type)}\"");
            }

            var items = new List<(BpfMap, int, byte[]?, byte[])>();
            for (int i = 0; i < m.Entries.Count; i++)
            {
                items.Add((map, i, m.Entries[i].Key, BuildValue(fileName, map, i, m.Entries[i], names)));
            }

            if (map.Type == MapType.Stack)
            {
                items.Reverse(); // listed in pop order: push the bottom first
            }

            work.AddRange(items);
        }

        foreach (var (map, index, key, value) in work)
        {
            // Queue, stack and bloom filter: BPF_MAP_UPDATE_ELEM without a key pushes.
            int rc = map.UserUpdate(key, value, BpfAny);
            if (rc != 0)
            {
                throw new MapsJsonException(fileName, map.Name, index, $"update failed: {ErrnoText(rc)}");
            }
        }
    }

    private static byte[] BuildValue(string file, BpfMap map, int index, MapsJsonEntry entry, IMapsJsonNames? names)
    {
        MapsJsonException Bad(string reason) => new(file, map.Name, index, reason);

        uint keySize = map.Spec.KeySize, valueSize = map.Spec.ValueSize;
        if (entry.Key is not null && entry.Key.Length != keySize)
        {
            throw Bad($"key is {entry.Key.Length} bytes, the map's key_size is {keySize}");
        }

        switch (map.Type)
        {
            case MapType.ProgArray or MapType.ArrayOfMaps or MapType.HashOfMaps:
            {
                bool program = map.Type == MapType.ProgArray;
                uint fd = Resolve(entry.Name!, program, names, Bad);
                return ReferenceValue(fd, 0, valueSize, Bad);
            }

            case MapType.Devmap or MapType.DevmapHash or MapType.Cpumap:
            {
                var value = new byte[valueSize];
                if (valueSize < 4)
                {
                    throw Bad($"the map's value_size is {valueSize}, too small for an {(map.Type == MapType.Cpumap ? "queue size" : "ifindex")}");
                }

                BinaryPrimitives.WriteUInt32LittleEndian(value, entry.Number!.Value);
                if (entry.Name is not null)
                {
                    if (valueSize < 8)
                    {
                        throw Bad($"a program is given, but the map's value_size is {valueSize} (8 holds one)");
                    }

                    uint fd = Resolve(entry.Name, true, names, Bad);
                    if (fd == 0)
                    {
                        // kernel: a bpf_prog.fd of 0 (or less) attaches no program
                        throw Bad($"program \"{entry.Name}\" has fd 0, which a {MapTypeNames.ToName(map.Type)} value takes as no program");
                    }

                    BinaryPrimitives.WriteUInt32LittleEndian(value.AsSpan(4), fd);
                }

                return value;
            }

            default:
                break;
        }

        if (entry.Values is not null)
        {
            if (entry.Values.Count != map.PossibleCpus)
            {
                throw Bad($"\"values\" has {entry.Values.Count} value(s); the map has one per possible CPU ({map.PossibleCpus})");
            }

            int stride = PerCpuStride(map);
            var value = new byte[map.UserValueSize];
            for (int cpu = 0; cpu < entry.Values.Count; cpu++)
            {
                if (entry.Values[cpu].Length != valueSize)
                {
                    throw Bad($"values[{cpu}] is {entry.Values[cpu].Length} bytes, the map's value_size is {valueSize}");
                }

                entry.Values[cpu].CopyTo(value, cpu * stride);
            }

            return value;
        }

        var plain = entry.Value!;
        if (plain.Length != valueSize)
        {
            throw Bad($"value is {plain.Length} bytes, the map's value_size is {valueSize}");
        }

        return plain;
    }

    private static uint Resolve(string name, bool program, IMapsJsonNames? names, Func<string, MapsJsonException> bad)
    {
        uint fd = 0;
        bool found = names is not null && (program ? names.TryGetProgramFd(name, out fd) : names.TryGetMapFd(name, out fd));
        if (!found)
        {
            throw bad($"no {(program ? "program" : "map")} named \"{name}\"");
        }

        return fd;
    }

    private static byte[] ReferenceValue(uint fd, int at, uint valueSize, Func<string, MapsJsonException> bad)
    {
        if (valueSize < at + 4)
        {
            throw bad($"the map's value_size is {valueSize}, too small for a reference");
        }

        var value = new byte[valueSize];
        BinaryPrimitives.WriteUInt32LittleEndian(value.AsSpan(at), fd);
        return value;
    }

    // ---- text ----

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    private static uint U32(ReadOnlySpan<byte> value, int at) =>
        value.Length >= at + 4 ? BinaryPrimitives.ReadUInt32LittleEndian(value[at..]) : 0;

    private static int HexDigit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd();
    }

    /// <summary>"-E2BIG" for -7: the kernel's name of a negative errno.</summary>
    internal static string ErrnoText(long rc)
    {
        long e = -rc;
        string? name = e switch
        {
            Errno.EPERM => "EPERM",
            Errno.ENOENT => "ENOENT",
            Errno.E2BIG => "E2BIG",
            Errno.EBADF => "EBADF",
            Errno.EAGAIN => "EAGAIN",
            Errno.ENOMEM => "ENOMEM",
            Errno.EACCES => "EACCES",
            Errno.EFAULT => "EFAULT",
            Errno.EBUSY => "EBUSY",
            Errno.EEXIST => "EEXIST",
            Errno.ENODEV => "ENODEV",
            Errno.EINVAL => "EINVAL",
            Errno.ENOSPC => "ENOSPC",
            Errno.ERANGE => "ERANGE",
            Errno.EOPNOTSUPP => "EOPNOTSUPP",
            Errno.ENOTSUPP => "ENOTSUPP",
            _ => null,
        };
        return name is null ? rc.ToString(CultureInfo.InvariantCulture) : "-" + name;
    }
}

/// <summary>Names for the 32-bit references that program arrays, maps of maps, devmaps and cpumaps hold on their user
/// side: BPF_MAP_LOOKUP_ELEM returns the referenced program's or map's id, BPF_MAP_UPDATE_ELEM takes its fd.</summary>
public interface IMapsJsonNames
{
    /// <summary>The name (function symbol) of the program whose id is <paramref name="id"/>, or null.</summary>
    string? ProgramName(uint id);

    /// <summary>The fd that map updates take for the program named <paramref name="name"/>; false when there is none.</summary>
    bool TryGetProgramFd(string name, out uint fd);

    /// <summary>The name of the map whose id is <paramref name="id"/>, or null.</summary>
    string? MapName(uint id);

    /// <summary>The fd that map updates take for the map named <paramref name="name"/>; false when there is none.</summary>
    bool TryGetMapFd(string name, out uint fd);
}

/// <summary>An <see cref="IMapsJsonNames"/> made of four functions.</summary>
/// <param name="programName">Program id to name, or null.</param>
/// <param name="programFd">Program name to fd, or null when there is none.</param>
/// <param name="mapName">Map id to name, or null.</param>
/// <param name="mapFd">Map name to fd, or null when there is none.</param>
public sealed class MapsJsonNames(Func<uint, string?> programName, Func<string, uint?> programFd, Func<uint, string?> mapName, Func<string, uint?> mapFd)
    : IMapsJsonNames
{
    /// <inheritdoc/>
    public string? ProgramName(uint id) => programName(id);

    /// <inheritdoc/>
    public bool TryGetProgramFd(string name, out uint fd)
    {
        uint? found = programFd(name);
        fd = found.GetValueOrDefault();
        return found.HasValue;
    }

    /// <inheritdoc/>
    public string? MapName(uint id) => mapName(id);

    /// <inheritdoc/>
    public bool TryGetMapFd(string name, out uint fd)
    {
        uint? found = mapFd(name);
        fd = found.GetValueOrDefault();
        return found.HasValue;
    }
}

/// <summary>One map of a maps JSON document.</summary>
/// <param name="Name">The map's name.</param>
/// <param name="Type">Its declared type.</param>
/// <param name="Entries">Its entries, in order.</param>
public sealed record MapsJsonMap(string Name, MapType Type, IReadOnlyList<MapsJsonEntry> Entries);

/// <summary>One entry of a maps JSON map; which members are set depends on the map's type.</summary>
/// <param name="Key">The key (null for queue, stack and bloom filter).</param>
/// <param name="Value">The value (plain maps, queue, stack, bloom filter).</param>
/// <param name="Values">One value per CPU (per-CPU maps).</param>
/// <param name="Name">The program (prog_array; devmap and cpumap "program") or inner map (maps of maps) named.</param>
/// <param name="Number">The ifindex (devmaps) or queue size (cpumap).</param>
public sealed record MapsJsonEntry(byte[]? Key, byte[]? Value, IReadOnlyList<byte[]>? Values, string? Name, uint? Number);

/// <summary>A maps JSON file that is malformed or does not match the object's maps, named by file, map and entry:
/// <c>maps.json: map "flows": entry 3: key is 2 bytes, the map's key_size is 4</c>.</summary>
public sealed class MapsJsonException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="file">The file's name.</param>
    /// <param name="map">The map's name, or null.</param>
    /// <param name="entryIndex">The entry's index (from 0), or -1.</param>
    /// <param name="reason">What is wrong.</param>
    public MapsJsonException(string file, string? map, int entryIndex, string reason)
        : this(file, map, entryIndex, reason, null)
    {
    }

    /// <summary>Creates the exception with the error that caused it.</summary>
    public MapsJsonException(string file, string? map, int entryIndex, string reason, Exception? inner)
        : base(Compose(file, map, entryIndex, reason), inner)
    {
        FileName = file;
        MapName = map;
        EntryIndex = entryIndex;
        Reason = reason;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public MapsJsonException()
        : this("<unknown>", null, -1, "invalid maps JSON")
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    public MapsJsonException(string message)
        : this("<unknown>", null, -1, message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying error.</summary>
    public MapsJsonException(string message, Exception innerException)
        : this("<unknown>", null, -1, message, innerException)
    {
    }

    /// <summary>The file's name.</summary>
    public string FileName { get; }

    /// <summary>The map's name, or null when the problem is not in one map.</summary>
    public string? MapName { get; }

    /// <summary>The entry's index (from 0), or -1.</summary>
    public int EntryIndex { get; }

    /// <summary>What is wrong, without the file/map/entry prefix.</summary>
    public string Reason { get; }

    private static string Compose(string file, string? map, int entryIndex, string reason)
    {
        var sb = new StringBuilder(file).Append(": ");
        if (map is not null)
        {
            sb.Append("map \"").Append(map).Append("\": ");
        }

        if (entryIndex >= 0)
        {
            sb.Append("entry ").Append(entryIndex.ToString(CultureInfo.InvariantCulture)).Append(": ");
        }

        return sb.Append(reason).ToString();
    }
}
