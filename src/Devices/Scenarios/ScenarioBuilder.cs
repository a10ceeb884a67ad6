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
    /// <summary>Builds the world of the scenario at <paramref name="path"/>, asking <paramref name="select"/> for the
    /// engine of every program it attaches (XDP programs, devmap egress programs).</summary>
    /// <param name="path">The scenario file.</param>
    /// <param name="select">Chooses each program's engine (and may refuse the program by throwing).</param>
    /// <param name="packets">Overrides traffic.packets when not null.</param>
    /// <param name="engine">Overrides the scenario's engine when not null.</param>
    /// <exception cref="ScenarioException">The file is not a usable scenario.</exception>
    public static SimWorld Build(string path, EngineSelector select, long? packets = null, string? engine = null)
    {
        ArgumentNullException.ThrowIfNull(select);
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
                string name = doc.RootElement.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : Path.GetFileNameWithoutExtension(path);
                return Build(doc.RootElement, name, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", select, packets, engine);
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

    private static SimWorld Build(JsonElement root, string scenario, string dir, EngineSelector select, long? packets, string? engineOverride)
    {
        string kernel = Str(root, "kernel") ?? "6.18";
        var profile = KernelProfile.Find(kernel) ?? throw new ScenarioException($"kernel \"{kernel}\": not one of 4.19, 5.13, 6.18");
        int cpus = Int(root, "cpus") ?? 1;
        if (cpus is < 1 or > 256)
        {
            throw new ScenarioException($"cpus {cpus}: must be 1..256");
        }

        string? engineName = engineOverride ?? Str(root, "engine");
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
                string type = Str(d, "type") ?? throw new ScenarioException($"device {name}: no type (nic, veth or bridge)");
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
                    case "bridge":
                        world.Add(new Bridge.BridgeDevice(name, world.NextIfindex, mtu));
                        break;
                    default:
                        throw new ScenarioException($"device {name}: type \"{type}\" is not nic, veth or bridge");
                }
            }

            foreach (var d in Array(root, "devices"))
            {
                // ip link set DEV address MAC (and "peer_mac" for a veth's peer); none: every unicast is PACKET_HOST
                SetMac(world, Str(d, "name")!, Str(d, "mac"));
                if (Str(d, "type") == "veth")
                {
                    SetMac(world, Str(d, "peer")!, Str(d, "peer_mac"));
                }
            }

            foreach (var d in Array(root, "devices"))
            {
                // ip link set PORT master BRIDGE, once every device exists
                if (Str(d, "type") == "bridge")
                {
                    var br = (Bridge.BridgeDevice)world.Device(Str(d, "name")!)!;
                    foreach (var p in Array(d, "ports"))
                    {
                        string port = p.GetString() ?? "";
                        br.AddPort(world.Device(port) ?? throw new ScenarioException($"bridge {br.Name}: no device \"{port}\""));
                    }
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
                FillMap(world, objects, m, scenario, select, engineName);
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
                var progSpec = obj.GetProgram(Str(a, "program"));
                var request = new ProgramAttachRequest(scenario, objName, obj, progSpec, obj.Prepare(progSpec),
                    mode == XdpMode.Native ? ProgramAttachKind.Native : ProgramAttachKind.Generic, devName, engineName);
                world.Attach(dev, obj, objName, progSpec.Name, mode, select(request)); // loaded (verified) first, then attached
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

    private static void FillMap(SimWorld world, Dictionary<string, LoadedObject> objects, JsonElement m, string scenario, EngineSelector select, string? engine)
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
                        var exec = obj.Prepare(spec);
                        prog = exec;
                        progId = obj.ProgramId(spec);
                        var request = new ProgramAttachRequest(scenario, objName, obj, spec, exec, ProgramAttachKind.DevmapEgress, mapName, engine);
                        var factory = select(request); // loaded (verified) first, then put into the map
                        CheckEgress(obj, spec, mapName);
                        world.AddEgressProgram(obj, exec, factory, objName, mapName);
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

    // kernel: __dev_map_alloc_node(): the entry's program must be an XDP program loaded for BPF_XDP_DEVMAP and not
    // bound to a device (bpf_prog_get_type_dev(fd, BPF_PROG_TYPE_XDP, false)); else the update fails with -EINVAL.
    private static void CheckEgress(LoadedObject obj, Vm.Programs.ProgramSpec spec, string map)
    {
        if (spec.Type != Vm.Programs.ProgramType.Xdp || spec.ExpectedAttachType != (uint)Vm.Programs.AttachType.XdpDevmap || obj.Options.DeviceBound)
        {
            throw new ScenarioException($"map {map}: program {spec.Name} cannot be a devmap entry's program: it must be an XDP program loaded with expected_attach_type BPF_XDP_DEVMAP (SEC(\"xdp/devmap\")) and not device-bound (the update fails with -EINVAL)");
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

    private static void SetMac(SimWorld world, string device, string? mac)
    {
        if (mac is null)
        {
            return;
        }

        byte[] b;
        try
        {
            b = Convert.FromHexString(mac.Replace(":", "", StringComparison.Ordinal));
        }
        catch (FormatException)
        {
            b = [];
        }

        if (b.Length != 6 || (b[0] & 1) != 0 || System.Linq.Enumerable.All(b, x => x == 0))
        {
            throw new ScenarioException($"device {device}: \"{mac}\" is not a unicast MAC address (-EADDRNOTAVAIL)");
        }

        ulong v = 0;
        foreach (byte x in b)
        {
            v = (v << 8) | x;
        }

        world.Device(device)!.DevAddr = v;
    }
}
