using System.Text.Json;
using VethXdp.Devices.Scenarios;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Devices.Xsk;

/// <summary>Reads a scenario's <c>"xsk"</c> section (docs/scenarios.md): UMEM and ring sizes, the sockets (device,
/// queue, XSKMAP slot) and the user-space switch over them.</summary>
public static class XskScenario
{
    /// <summary>Creates what <paramref name="root"/>'s "xsk" section describes in <paramref name="world"/>; nothing when
    /// there is no such section.</summary>
    /// <exception cref="ScenarioException">The section is not usable.</exception>
    public static void Apply(SimWorld world, JsonElement root, IReadOnlyDictionary<string, LoadedObject> objects)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentNullException.ThrowIfNull(objects);
        if (!root.TryGetProperty("xsk", out var x) || x.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var hub = XskHub.Of(world);
        var byName = new Dictionary<string, XskSocket>();
        if (x.TryGetProperty("sockets", out var socks) && socks.ValueKind == JsonValueKind.Array)
        {
            foreach (var s in socks.EnumerateArray())
            {
                string devName = Str(s, "device") ?? throw new ScenarioException("xsk.sockets: an entry without device");
                var dev = world.Device(devName) ?? throw new ScenarioException($"xsk.sockets: no device \"{devName}\"");
                uint queue = (uint)(Num(s, "queue") ?? 0);
                string name = Str(s, "name") ?? devName;
                var umem = hub.CreateUmem(
                    (ulong)(Num(s, "umem_size") ?? Num(x, "umem_size") ?? (4096L * 4096)),
                    new XskUmemConfig
                    {
                        FrameSize = (uint)(Num(s, "frame_size") ?? Num(x, "frame_size") ?? XskConstants.DefaultFrameSize),
                        FillSize = (uint)(Num(s, "fill_size") ?? Num(x, "fill_size") ?? XskConstants.DefaultRingSize),
                        CompSize = (uint)(Num(s, "comp_size") ?? Num(x, "comp_size") ?? XskConstants.DefaultRingSize),
                    });
                var cfg = new XskSocketConfig
                {
                    Name = name,
                    RxSize = (uint)(Num(s, "rx_size") ?? Num(x, "rx_size") ?? XskConstants.DefaultRingSize),
                    TxSize = (uint)(Num(s, "tx_size") ?? Num(x, "tx_size") ?? XskConstants.DefaultRingSize),
                    BindFlags = (Str(s, "mode") ?? "") switch
                    {
                        "zerocopy" => XskConstants.ZeroCopy | XskConstants.UseNeedWakeup,
                        "copy" => XskConstants.Copy | XskConstants.UseNeedWakeup,
                        _ => XskConstants.UseNeedWakeup,
                    },
                };
                XskSocket sock;
                try
                {
                    sock = hub.CreateSocket(dev, queue, umem, cfg);
                }
                catch (XskException e)
                {
                    throw new ScenarioException($"xsk socket {name}: {e.Message}", e);
                }

                byName[name] = sock;
                if (s.TryGetProperty("map", out var m))
                {
                    string objName = Str(m, "object") ?? throw new ScenarioException($"xsk socket {name}: map without object");
                    var obj = objects.GetValueOrDefault(objName) ?? throw new ScenarioException($"xsk socket {name}: no object \"{objName}\"");
                    string mapName = Str(m, "map") ?? throw new ScenarioException($"xsk socket {name}: map without a map name");
                    if (!obj.Maps.TryGet(mapName, out var map) || map is not XskMap xm)
                    {
                        throw new ScenarioException($"xsk socket {name}: object {objName} has no XSKMAP \"{mapName}\"");
                    }

                    uint key = (uint)(Num(m, "key") ?? queue);
                    int err = hub.SetSlot(xm, key, sock);
                    if (err != 0)
                    {
                        throw new ScenarioException($"xsk socket {name}: update of {mapName}[{key}] failed with {err}");
                    }
                }
            }
        }

        if (x.TryGetProperty("switch", out var sw) && sw.ValueKind == JsonValueKind.Object)
        {
            var ports = new List<XskSocket>();
            if (sw.TryGetProperty("sockets", out var ps) && ps.ValueKind == JsonValueKind.Array)
            {
                foreach (var p in ps.EnumerateArray())
                {
                    string n = p.GetString() ?? "";
                    ports.Add(byName.GetValueOrDefault(n) ?? throw new ScenarioException($"xsk.switch: no socket \"{n}\""));
                }
            }
            else
            {
                ports.AddRange(byName.Values);
            }

            hub.AddApp(new XskSwitch(Str(sw, "name") ?? "switch", ports), (int)(Num(sw, "cpu") ?? 0));
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long? Num(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;
}
