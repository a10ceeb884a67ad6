using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using VethXdp.Devices.Nic;
using VethXdp.Devices.Traffic;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Devices.Scenarios;

/// <summary>Reads a scenario file (docs/scenarios.md) and builds its <see cref="SimWorld"/>.</summary>
public static class ScenarioBuilder
{
    /// <summary>Builds the world of the scenario at <paramref name="path"/>.</summary>
    /// <param name="path">The scenario file.</param>
    /// <param name="engines">Turns an engine name into a factory (the command knows the JIT; the interpreter is
    /// <see cref="InterpreterEngineFactory.Instance"/>).</param>
    /// <param name="packets">Overrides traffic.packets when not null.</param>
    /// <param name="engine">Overrides the scenario's engine when not null.</param>
    /// <exception cref="ScenarioException">The file is not a usable scenario.</exception>
    public static SimWorld Build(string path, Func<string, IBpfEngineFactory> engines, long? packets = null, string? engine = null)
    {
        ArgumentNullException.ThrowIfNull(engines);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            throw new ScenarioException($"{path}: {e.Message}", e);
        }

        using (doc)
        {
            try
            {
                return Build(doc.RootElement, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", engines, packets, engine);
            }
            catch (ScenarioException e)
            {
                throw new ScenarioException($"{path}: {e.Message}", e);
            }
            catch (Exception e) when (e is RuntimeLoadException or Vm.Elf.ElfLoadException or ArgumentException or InvalidOperationException or FormatException)
            {
                throw new ScenarioException($"{path}: {e.Message}", e);
            }
        }
    }

    /// <summary>The scenario's name (its "name", or the file name without .json).</summary>
    public static string NameOf(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (doc.RootElement.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
            {
                return n.GetString()!;
            }
        }
        catch (JsonException)
        {
        }

        return Path.GetFileNameWithoutExtension(path);
    }

    private static SimWorld Build(JsonElement root, string dir, Func<string, IBpfEngineFactory> engines, long? packets, string? engineOverride)
    {
        string kernel = Str(root, "kernel") ?? "6.18";
        var profile = KernelProfile.Find(kernel) ?? throw new ScenarioException($"kernel \"{kernel}\": not one of 4.19, 5.13, 6.18");
        int cpus = Int(root, "cpus") ?? 1;
        if (cpus is < 1 or > 256)
        {
            throw new ScenarioException($"cpus {cpus}: must be 1..256");
        }

        string engineName = engineOverride ?? Str(root, "engine") ?? "interp";
        var engine = engines(engineName);
        var world = new SimWorld(profile, cpus) { Seed = (ulong)(Int(root, "seed") ?? 0) };
        try
        {
            byte[] key = Toeplitz.DefaultKey.ToArray();
            if (Str(root, "rss_key") is { } hex)
            {
                key = Convert.FromHexString(hex.Replace(":", "", StringComparison.Ordinal));
                if (key.Length < 16)
                {
                    throw new ScenarioException($"rss_key: {key.Length} bytes is too short (40 is usual)");
                }
            }

            foreach (var d in Array(root, "devices"))
            {
                string name = Str(d, "name") ?? throw new ScenarioException("a device without a name");
                string type = Str(d, "type") ?? throw new ScenarioException($"device {name}: no type (nic or veth)");
                uint mtu = (uint)(Int(d, "mtu") ?? 1500);
                int queues = Int(d, "queues") ?? cpus;
                switch (type)
                {
                    case "nic":
                        world.Add(new PhysicalNic(name, world.NextIfindex, mtu, queues, Int(d, "ring_size") ?? 1024, key, cpus));
                        break;
                    case "veth":
                        string peer = Str(d, "peer") ?? throw new ScenarioException($"veth {name}: no peer");
                        var (a, b) = world.AddVethPair(name, peer, queues, mtu);
                        a.Gro = Bool(d, "gro") ?? false;
                        b.Gro = Bool(d, "peer_gro") ?? false;
                        break;
                    default:
                        throw new ScenarioException($"device {name}: type \"{type}\" is not nic or veth");
                }
            }

            foreach (var g in Array(root, "gro"))
            {
                string name = g.GetString() ?? "";
                (world.Device(name) ?? throw new ScenarioException($"gro: no device \"{name}\"")).Gro = true;
            }

            var objects = new Dictionary<string, LoadedObject>();
            if (root.TryGetProperty("objects", out var objs))
            {
                foreach (var o in objs.EnumerateObject())
                {
                    string file = Path.Combine(dir, o.Value.GetString() ?? "");
                    var obj = LoadedObject.Open(file, new LoadOptions { PossibleCpus = cpus });
                    world.Own(obj);
                    objects[o.Name] = obj;
                    foreach (var map in obj.Maps)
                    {
                        switch (map)
                        {
                            case DevMap dm:
                                dm.DeviceResolver = world;
                                break;
                            case DevMapHash dh:
                                dh.DeviceResolver = world;
                                break;
                        }
                    }
                }
            }

            foreach (var m in Array(root, "maps"))
            {
                FillMap(world, objects, m, engine);
            }

            foreach (var a in Array(root, "attach"))
            {
                string devName = Str(a, "device") ?? throw new ScenarioException("attach: no device");
                var dev = world.Device(devName) ?? throw new ScenarioException($"attach: no device \"{devName}\"");
                string objName = Str(a, "object") ?? throw new ScenarioException($"attach to {devName}: no object");
                var obj = objects.GetValueOrDefault(objName) ?? throw new ScenarioException($"attach to {devName}: no object \"{objName}\"");
                var mode = (Str(a, "mode") ?? "native") switch
                {
                    "native" or "drv" => XdpMode.Native,
                    "generic" or "skb" => XdpMode.Generic,
                    var other => throw new ScenarioException($"attach to {devName}: mode \"{other}\" is not native or generic"),
                };
                world.Attach(dev, obj, objName, Str(a, "program"), mode, engine);
            }

            Xsk.XskScenario.Apply(world, root, objects); // xsk: sockets, XSKMAP slots, the user-space switch
            var t = root.TryGetProperty("traffic", out var tr) ? tr : throw new ScenarioException("no traffic");
            var spec = new TrafficSpec
            {
                Device = Str(t, "device") ?? "eth0",
                Flows = Int(t, "flows") ?? 1,
                FrameSize = Int(t, "frame_size") ?? 64,
                Packets = Long(t, "packets") ?? 10_000,
                Protocol = Str(t, "protocol") ?? "udp",
                Src = Str(t, "src") ?? "198.18.0.1",
                Dst = Str(t, "dst") ?? "198.18.1.1",
                SrcPort = Int(t, "src_port") ?? 9,
                DstPort = Int(t, "dst_port") ?? 9,
                SrcMac = Str(t, "src_mac") ?? "02:00:00:00:00:01",
                DstMac = Str(t, "dst_mac") ?? "02:00:00:00:00:02",
                Pcap = Str(t, "pcap"),
            };
            var nic = world.Device(spec.Device) as PhysicalNic ?? throw new ScenarioException($"traffic: \"{spec.Device}\" is not a nic");
            List<byte[]>? frames = null;
            if (spec.Pcap is { } pcap)
            {
                frames = ReadPcap(Path.Combine(dir, pcap));
            }

            world.Seal();
            world.Source = new PacketSource(nic, spec, packets ?? spec.Packets, frames);
            return world;
        }
        catch
        {
            world.Dispose();
            throw;
        }
    }

    private static List<byte[]> ReadPcap(string path)
    {
        var list = new List<byte[]>();
        using var reader = Vm.Pcap.PcapReader.Open(path);
        foreach (var rec in reader.ReadAll())
        {
            list.Add(rec.Data.ToArray());
        }

        return list.Count > 0 ? list : throw new ScenarioException($"traffic.pcap {path}: no frames");
    }

    private static void FillMap(SimWorld world, Dictionary<string, LoadedObject> objects, JsonElement m, IBpfEngineFactory engine)
    {
        string objName = Str(m, "object") ?? throw new ScenarioException("maps: an entry without object");
        var obj = objects.GetValueOrDefault(objName) ?? throw new ScenarioException($"maps: no object \"{objName}\"");
        string mapName = Str(m, "map") ?? throw new ScenarioException($"maps of {objName}: no map");
        if (!obj.Maps.TryGet(mapName, out var map))
        {
            throw new ScenarioException($"object {objName} has no map \"{mapName}\"");
        }

        foreach (var e in Array(m, "entries"))
        {
            var keyEl = e.TryGetProperty("key", out var k) ? k : throw new ScenarioException($"map {mapName}: an entry without key");
            var valEl = e.TryGetProperty("value", out var v) ? v : throw new ScenarioException($"map {mapName}: an entry without value");
            if (map is DevMap or DevMapHash)
            {
                uint key = DeviceOrNumber(world, keyEl, mapName);
                uint ifindex;
                object? prog = null;
                uint progId = 0;
                if (valEl.ValueKind == JsonValueKind.Object)
                {
                    ifindex = DeviceOrNumber(world, valEl.GetProperty("device"), mapName);
                    if (Str(valEl, "program") is { } pn)
                    {
                        var spec = obj.GetProgram(pn);
                        prog = obj.Prepare(spec);
                        progId = obj.ProgramId(spec);
                        world.AddEgressProgram(obj, prog, engine);
                    }
                }
                else
                {
                    ifindex = DeviceOrNumber(world, valEl, mapName);
                }

                int err = map is DevMap dm ? dm.SetTarget(key, ifindex, prog, progId) : ((DevMapHash)map).SetTarget(key, ifindex, prog, progId);
                if (err != 0)
                {
                    throw new ScenarioException($"map {mapName}: update of key {key} -> ifindex {ifindex} failed with {err}");
                }

                continue;
            }

            var keyBytes = Bytes(world, keyEl, (int)map.Spec.KeySize, mapName);
            var valBytes = Bytes(world, valEl, (int)map.Spec.ValueSize, mapName);
            int r = map.UserUpdate(keyBytes, valBytes, 0);
            if (r != 0)
            {
                throw new ScenarioException($"map {mapName}: update failed with {r}");
            }
        }
    }

    private static uint DeviceOrNumber(SimWorld world, JsonElement e, string map) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetUInt32(),
        JsonValueKind.String => (uint)(world.Device(e.GetString()!)?.Ifindex ?? throw new ScenarioException($"map {map}: no device \"{e.GetString()}\"")),
        _ => throw new ScenarioException($"map {map}: {e} is neither a device name nor a number"),
    };

    private static byte[] Bytes(SimWorld world, JsonElement e, int size, string map)
    {
        var b = new byte[size];
        if (e.ValueKind == JsonValueKind.String && e.GetString()!.StartsWith("0x", StringComparison.Ordinal))
        {
            var hex = Convert.FromHexString(e.GetString()![2..]);
            hex.AsSpan(0, Math.Min(hex.Length, size)).CopyTo(b);
            return b;
        }

        ulong n = e.ValueKind == JsonValueKind.Number ? e.GetUInt64() : DeviceOrNumber(world, e, map);
        Span<byte> tmp = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(tmp, n);
        tmp[..Math.Min(8, size)].CopyTo(b);
        return b;
    }

    private static List<JsonElement> Array(JsonElement e, string name) =>
        e.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? [.. a.EnumerateArray()] : [];

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    private static long? Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    private static bool? Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    internal static string Format(long n) => n.ToString(CultureInfo.InvariantCulture);
}
