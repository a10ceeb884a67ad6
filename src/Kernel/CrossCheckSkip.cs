using System.Globalization;
using System.Text.Json;

namespace VethXdp.Kernel;

/// <summary>One field a cross-check cannot compare, with the reason: the corpus manifest's <c>kernelSkipFields</c>
/// entries (<c>{"field": "data", "bytes": [38, 42], "packets": [0, 1], "reason": "..."}</c>, <c>{"field": "map",
/// "map": "conntrack", "valueBytes": [8, 16], "reason": "..."}</c>, <c>{"field": "events", "reason": "..."}</c>,
/// <c>{"field": "trace", "reason": "..."}</c>).</summary>
/// <param name="Field">What is left out.</param>
/// <param name="Reason">Why it cannot be compared.</param>
/// <param name="Map">The map, for <see cref="CrossCheckSkipField.Map"/>.</param>
/// <param name="Start">The first byte left out (data, or value bytes), or null for all of it.</param>
/// <param name="End">One past the last byte left out, or null.</param>
/// <param name="Packets">The packets it applies to (data), or null for every packet.</param>
public sealed record CrossCheckSkip(
    CrossCheckSkipField Field,
    string Reason,
    string? Map = null,
    int? Start = null,
    int? End = null,
    IReadOnlyList<int>? Packets = null)
{
    /// <summary>True when this skip applies to packet <paramref name="packet"/>.</summary>
    /// <param name="packet">The packet's index.</param>
    public bool AppliesTo(int packet)
    {
        if (Packets is null)
        {
            return true;
        }

        foreach (int p in Packets)
        {
            if (p == packet)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>How the skip reads in a report.</summary>
    public override string ToString()
    {
        string range = Start is { } a && End is { } b ? string.Create(CultureInfo.InvariantCulture, $" bytes [{a}, {b})") : "";
        string packets = Packets is null ? "" : $" in packet(s) {string.Join(", ", Packets)}";
        return Field switch
        {
            CrossCheckSkipField.Data => $"data{range}{packets}: {Reason}",
            CrossCheckSkipField.Map => $"map \"{Map}\"{(range.Length == 0 ? "" : " value" + range)}: {Reason}",
            CrossCheckSkipField.Events => $"events: {Reason}",
            _ => $"trace: {Reason}",
        };
    }

    /// <summary>Reads a <c>kernelSkipFields</c> array.</summary>
    /// <param name="array">The JSON array.</param>
    /// <exception cref="FormatException">An entry is not in the format (unknown field, no reason, a bad range).</exception>
    public static IReadOnlyList<CrossCheckSkip> ParseList(JsonElement array)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("kernelSkipFields must be an array");
        }

        var list = new List<CrossCheckSkip>();
        int index = 0;
        foreach (var e in array.EnumerateArray())
        {
            list.Add(Parse(e, index++));
        }

        return list;
    }

    /// <summary>Reads one <c>kernelSkipFields</c> entry.</summary>
    /// <param name="e">The entry.</param>
    /// <param name="index">Its index, for messages.</param>
    /// <exception cref="FormatException">The entry is not in the format.</exception>
    public static CrossCheckSkip Parse(JsonElement e, int index = 0)
    {
        string where = string.Create(CultureInfo.InvariantCulture, $"kernelSkipFields[{index}]");
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{where}: an entry must be an object");
        }

        string field = e.TryGetProperty("field", out var f) && f.ValueKind == JsonValueKind.String
            ? f.GetString()!
            : throw new FormatException($"{where}: \"field\" is missing");
        string reason = e.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String && r.GetString()!.Length > 0
            ? r.GetString()!
            : throw new FormatException($"{where}: every skipped field needs a \"reason\"");
        switch (field)
        {
            case "data":
            {
                var (a, b) = Range(e, "bytes", where) ?? throw new FormatException($"{where}: a data skip needs \"bytes\": [start, end)");
                return new CrossCheckSkip(CrossCheckSkipField.Data, reason, null, a, b, ParsePackets(e, where));
            }

            case "map":
            {
                string map = e.TryGetProperty("map", out var m) && m.ValueKind == JsonValueKind.String
                    ? m.GetString()!
                    : throw new FormatException($"{where}: a map skip needs \"map\"");
                var range = Range(e, "valueBytes", where);
                return new CrossCheckSkip(CrossCheckSkipField.Map, reason, map, range?.Start, range?.End);
            }

            case "events":
                return new CrossCheckSkip(CrossCheckSkipField.Events, reason);
            case "trace":
                return new CrossCheckSkip(CrossCheckSkipField.Trace, reason);
            default:
                throw new FormatException($"{where}: unknown field \"{field}\" (data, map, events, trace)");
        }
    }

    private static (int Start, int End)? Range(JsonElement e, string name, string where)
    {
        if (!e.TryGetProperty(name, out var r))
        {
            return null;
        }

        if (r.ValueKind != JsonValueKind.Array || r.GetArrayLength() != 2
            || !r[0].TryGetInt32(out int a) || !r[1].TryGetInt32(out int b) || a < 0 || b <= a)
        {
            throw new FormatException($"{where}: \"{name}\" must be [start, end) with 0 <= start < end");
        }

        return (a, b);
    }

    private static List<int>? ParsePackets(JsonElement e, string where)
    {
        if (!e.TryGetProperty("packets", out var p))
        {
            return null;
        }

        if (p.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{where}: \"packets\" must be an array of packet indexes");
        }

        var list = new List<int>();
        foreach (var x in p.EnumerateArray())
        {
            list.Add(x.TryGetInt32(out int i) && i >= 0 ? i : throw new FormatException($"{where}: bad packet index {x}"));
        }

        return list;
    }
}
