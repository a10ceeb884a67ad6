using VethXdp.Vm.Runtime;

namespace VethXdp.Cli;

/// <summary>The maps after a run, for people: one line per entry, as the JSON has them.</summary>
internal static class MapsText
{
    public static void Write(TextWriter w, LoadedObject loaded, IMapsJsonNames names)
    {
        var parsed = MapsJson.Parse(MapsJson.Format(loaded.Maps, names), "(maps)");
        w.WriteLine("maps:");
        foreach (var m in parsed)
        {
            w.WriteLine($"  {m.Name} ({Vm.Maps.MapTypeNames.ToName(m.Type)}): {m.Entries.Count} entr{(m.Entries.Count == 1 ? "y" : "ies")}");
            foreach (var e in m.Entries)
            {
                string key = e.Key is null ? string.Empty : Convert.ToHexStringLower(e.Key) + " -> ";
                string value = e.Name ?? (e.Number is { } n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    : e.Values is { } vs ? "[" + string.Join(", ", vs.Select(Convert.ToHexStringLower)) + "]"
                    : e.Value is { } v ? Convert.ToHexStringLower(v) : string.Empty);
                w.WriteLine($"    {key}{value}");
            }
        }
    }
}
