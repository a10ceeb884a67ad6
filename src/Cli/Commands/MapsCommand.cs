using System.CommandLine;
using VethXdp.Vm.Maps;

namespace VethXdp.Cli.Commands;

/// <summary><c>vethxdp maps OBJ [--json]</c>: the object's maps with their definitions.</summary>
internal static class MapsCommand
{
    public static Command Create()
    {
        var obj = new Argument<string>("OBJ") { Description = "A clang-compiled BPF object (.o)." };
        var json = new Option<bool>("--json") { Description = "Print the maps as JSON." };
        var cmd = new Command("maps", "List the maps an object defines (BTF .maps, the legacy maps section, global data).") { obj, json };
        cmd.SetAction(p => Run(p.GetValue(obj)!, p.GetValue(json)));
        return cmd;
    }

    private static int Run(string path, bool json)
    {
        var bytes = InputFiles.ReadBytes(path);
        var obj = InputFiles.LoadElf(path, bytes);
        if (json)
        {
            Json.Print(w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteStartArray("maps");
                foreach (var m in obj.Maps)
                {
                    w.WriteStartObject();
                    w.WriteString("name", m.Name);
                    w.WriteString("type", MapTypeNames.ToName(m.Type));
                    w.WriteNumber("key_size", m.KeySize);
                    w.WriteNumber("value_size", m.ValueSize);
                    w.WriteNumber("max_entries", m.MaxEntries);
                    w.WriteNumber("map_flags", m.Flags);
                    w.WriteString("section", m.SectionName);
                    w.WriteBoolean("frozen", m.Frozen);
                    if (m.InnerMap is { } inner)
                    {
                        w.WriteString("inner_type", MapTypeNames.ToName(inner.Type));
                    }

                    if (m.InitialSlots.Count > 0)
                    {
                        w.WriteStartObject("initial");
                        foreach (var s in m.InitialSlots)
                        {
                            w.WriteString(s.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), s.Target);
                        }

                        w.WriteEndObject();
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            });
        }
        else
        {
            foreach (var m in obj.Maps)
            {
                var flags = m.Flags != 0 ? $" flags 0x{m.Flags:x}" : string.Empty;
                var frozen = m.Frozen ? ", frozen" : string.Empty;
                var inner = m.InnerMap is { } i ? $", inner {MapTypeNames.ToName(i.Type)}" : string.Empty;
                var init = m.InitialSlots.Count > 0 ? ", initial " + string.Join(" ", m.InitialSlots.Select(s => $"[{s.Index}]={s.Target}")) : string.Empty;
                Console.Out.WriteLine($"{m.Name}: {MapTypeNames.ToName(m.Type)}  key {m.KeySize}  value {m.ValueSize}  max_entries {m.MaxEntries}{flags}  ({m.SectionName}{frozen}{inner}{init})");
            }
        }

        return ExitCode.Ok;
    }
}
