using VethXdp.Devices.Frames;
using VethXdp.Devices.Napi;
using VethXdp.Devices.Nic;
using VethXdp.Devices.Traffic;
using VethXdp.Devices.Veth;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Runtime;

namespace VethXdp.Devices;

/// <summary>The simulated machine: devices (the loopback first), simulated CPUs, the frame pool, the loaded objects,
/// the traffic source and the kernel profile. Built by <see cref="Scenarios.ScenarioBuilder"/> or by hand
/// (add devices, attach programs, then <see cref="Seal"/>).</summary>
public sealed class SimWorld : INetDeviceResolver, IDisposable
{
    private readonly List<NetDevice> _devices = [];
    private readonly List<LoadedObject> _objects = [];
    private readonly Dictionary<object, XdpProgramInstance[]> _egress = new(ReferenceEqualityComparer.Instance);
    private readonly List<XdpProgramInstance> _instances = [];
    private readonly List<SimProgram> _programs = [];

    // Live spacers allocated between the per-CPU objects of different CPUs, so that state two worker threads write
    // (run state, counters) never shares a cache line (the heap keeps allocation order).
    private readonly List<byte[]> _spacers = [];
    private NetDevice?[] _byIfindex = new NetDevice?[8];
    private NapiContext[] _cpus = [];
    private FramePool? _pool;

    /// <summary>A machine with <paramref name="cpus"/> CPUs imitating <paramref name="profile"/>.</summary>
    public SimWorld(KernelProfile profile, int cpus)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cpus);
        Profile = profile;
        CpuCount = cpus;
        Add(new LoopbackDevice());
    }

    /// <summary>The kernel profile.</summary>
    public KernelProfile Profile { get; }

    /// <summary>Simulated CPUs.</summary>
    public int CpuCount { get; }

    /// <summary>The devices, loopback first.</summary>
    public IReadOnlyList<NetDevice> Devices => _devices;

    /// <summary>The sk_buff records, one per frame of <see cref="Pool"/> (after <see cref="Seal"/>).</summary>
    internal Skb.SkbHeads Skbs { get; private set; } = null!;

    /// <summary>The frame pool (after <see cref="Seal"/>).</summary>
    public FramePool Pool => _pool ?? throw new InvalidOperationException("the world is not sealed");

    /// <summary>The traffic source.</summary>
    public PacketSource? Source { get; set; }

    /// <summary>Where frames are captured, or null.</summary>
    public SimCapture? Capture { get; set; }

    /// <summary>The AF_XDP sockets and applications, or null (created by <see cref="Xsk.XskHub.Of"/>).</summary>
    public Xsk.XskHub? Xsk { get; internal set; } // xsk:

    internal IReadOnlyList<LoadedObject> ObjectsForXsk => _objects; // xsk:

    /// <summary>The seed of the programs' random generators.</summary>
    public ulong Seed { get; set; }

    internal int MaxDevmapEntries { get; private set; }

    private const int CacheSpacer = 256;

    /// <summary>The next free ifindex.</summary>
    public int NextIfindex => _devices.Count == 0 ? 1 : _devices[^1].Ifindex + 1;

    /// <summary>Adds a device.</summary>
    public T Add<T>(T device)
        where T : NetDevice
    {
        ArgumentNullException.ThrowIfNull(device);
        if (Device(device.Name) is not null || Device(device.Ifindex) is not null)
        {
            throw new ArgumentException($"device {device.Name} (ifindex {device.Ifindex}) exists", nameof(device));
        }

        device.Index = _devices.Count;
        device.AllocStats(CpuCount);
        _devices.Add(device);
        if (device.Ifindex >= _byIfindex.Length)
        {
            Array.Resize(ref _byIfindex, Math.Max(device.Ifindex + 1, _byIfindex.Length * 2));
        }

        _byIfindex[device.Ifindex] = device;
        return device;
    }

    /// <summary>Creates a veth pair (ip link add NAME type veth peer name PEER).</summary>
    public (VethDevice Dev, VethDevice Peer) AddVethPair(string name, string peer, int queues = 1, uint mtu = 1500)
    {
        var a = Add(new VethDevice(name, NextIfindex, mtu, queues, Profile));
        var b = Add(new VethDevice(peer, NextIfindex, mtu, queues, Profile));
        a.Peer = b;
        b.Peer = a;
        return (a, b);
    }

    /// <summary>Keeps <paramref name="obj"/> alive (and disposes it with the world).</summary>
    public void Own(LoadedObject obj) => _objects.Add(obj);

    /// <summary>Attaches <paramref name="program"/> of <paramref name="obj"/> to <paramref name="device"/>.</summary>
    /// <exception cref="InvalidOperationException">Linux would refuse the attach (dev_xdp_attach()): a program of the
    /// other mode is attached (-EEXIST), the program is not an XDP program, is a devmap or cpumap program, or is
    /// device-bound and the mode generic (-EINVAL).</exception>
    public XdpAttachment Attach(NetDevice device, LoadedObject obj, string objectName, string? program, XdpMode mode, IBpfEngineFactory engine)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(engine);
        var spec = obj.GetProgram(program);
        CheckAttach(device, obj, spec, mode);

        var exec = obj.Prepare(spec);
        var perCpu = new XdpProgramInstance[CpuCount];
        for (int c = 0; c < CpuCount; c++)
        {
            perCpu[c] = new XdpProgramInstance(obj, exec, engine, c, Seed, egress: false);
            _instances.Add(perCpu[c]);
            _spacers.Add(new byte[CacheSpacer]);
        }

        var a = new XdpAttachment(objectName, spec.Name, mode, perCpu);
        _programs.Add(new SimProgram(device.Name, mode == XdpMode.Native ? "native" : "generic", objectName, spec.Name, engine.Name));
        if (mode == XdpMode.Native)
        {
            device.Native = a;
        }
        else
        {
            device.Generic = a;
        }

        return a;
    }

    // kernel: dev_xdp_attach(): the checks on the new program (the -EEXIST one first, as there).
    private static void CheckAttach(NetDevice device, LoadedObject obj, Vm.Programs.ProgramSpec spec, XdpMode mode)
    {
        if ((mode == XdpMode.Native ? device.Generic : device.Native) is not null)
        {
            throw new InvalidOperationException($"{device.Name}: native and generic XDP cannot be active at the same time (-EEXIST)");
        }

        string? why = null;
        if (spec.Type != Vm.Programs.ProgramType.Xdp)
        {
            why = $"program {spec.Name} is of type {spec.Type}, not XDP"; // bpf_prog_get_type_dev()
        }
        else if (obj.Options.DeviceBound && mode == XdpMode.Generic)
        {
            why = "Can't attach device-bound programs in generic mode";
        }
        else if (spec.ExpectedAttachType == (uint)Vm.Programs.AttachType.XdpDevmap)
        {
            why = "BPF_XDP_DEVMAP programs can not be attached to a device";
        }
        else if (spec.ExpectedAttachType == (uint)Vm.Programs.AttachType.XdpCpumap)
        {
            why = "BPF_XDP_CPUMAP programs can not be attached to a device";
        }

        if (why is not null)
        {
            throw new InvalidOperationException($"{device.Name}: cannot attach {spec.Name}: {why} (-EINVAL)");
        }
    }

    /// <summary>Prepares the per-CPU instances of a devmap egress program (what devmap values refer to).</summary>
    public void AddEgressProgram(LoadedObject obj, object executable, IBpfEngineFactory engine) =>
        AddEgressProgram(obj, executable, engine, "?", "devmap");

    /// <summary>Prepares the per-CPU instances of a devmap egress program (what devmap values refer to), recording the
    /// scenario's name for its object and the devmap's name for the result.</summary>
    public void AddEgressProgram(LoadedObject obj, object executable, IBpfEngineFactory engine, string objectName, string map)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(engine);
        if (executable is not Vm.Interpreter.ExecutableProgram exec || _egress.ContainsKey(exec))
        {
            return;
        }

        _programs.Add(new SimProgram(map, "devmap", objectName, exec.Name, engine.Name));

        var perCpu = new XdpProgramInstance[CpuCount];
        for (int c = 0; c < CpuCount; c++)
        {
            perCpu[c] = new XdpProgramInstance(obj, exec, engine, c, Seed, egress: true);
            _instances.Add(perCpu[c]);
            _spacers.Add(new byte[CacheSpacer]);
        }

        _egress[exec] = perCpu;
    }

    /// <summary>The programs attached and the devmap egress programs, with the engine each runs on.</summary>
    public IReadOnlyList<SimProgram> Programs => _programs;

    /// <summary>Every program instance (attached and egress), for fault reports.</summary>
    public IReadOnlyList<XdpProgramInstance> Instances => _instances;

    /// <summary>Finishes the machine: devmaps resolve here, the pool and the CPUs are created.</summary>
    public void Seal(int framesPerCpu = 0)
    {
        foreach (var obj in _objects)
        {
            foreach (var map in obj.Maps)
            {
                if (map is DevMap or DevMapHash)
                {
                    MaxDevmapEntries = Math.Max(MaxDevmapEntries, (int)map.Spec.MaxEntries);
                }
            }
        }

        int rings = 0;
        foreach (var d in _devices)
        {
            if (d is PhysicalNic nic)
            {
                foreach (var q in nic.Rx)
                {
                    q.OwnerCpu = q.Index % CpuCount;
                    rings += 2 * q.Ring.Capacity;
                }
            }
            else if (d is VethDevice v)
            {
                foreach (var q in v.Rq)
                {
                    q.OwnerCpu = q.Index % CpuCount;
                    rings += q.Ring.Capacity;
                }
            }
        }

        if (framesPerCpu <= 0)
        {
            framesPerCpu = rings + Backlog.MaxBacklog + (BulkQueue.BulkSize * (_devices.Count + 1)) + 1024;
        }

        _pool = new FramePool(CpuCount, framesPerCpu);
        Skbs = new Skb.SkbHeads(CpuCount * framesPerCpu);
        _cpus = new NapiContext[CpuCount];
        for (int c = 0; c < CpuCount; c++)
        {
            _spacers.Add(new byte[CacheSpacer]);
            _cpus[c] = new NapiContext(this, c);
        }

        _spacers.Add(new byte[CacheSpacer]);
        SharesWritableMaps = false;
        foreach (var obj in _objects)
        {
            foreach (var map in obj.Maps)
            {
                SharesWritableMaps |= !IsPrivateToCpu(map.Spec);
            }
        }
    }

    /// <summary>True when some map may be written by programs on several CPUs (anything but per-CPU maps, device
    /// maps and read-only data): then CPUs on different worker threads must advance in lock-step rounds.</summary>
    public bool SharesWritableMaps { get; private set; }

    private static bool IsPrivateToCpu(MapSpec spec) =>
        spec.Frozen || (spec.Flags & MapFlags.RdonlyProg) != 0 || spec.Type is MapType.PercpuArray or MapType.PercpuHash
            or MapType.LruPercpuHash or MapType.Devmap or MapType.DevmapHash or MapType.PercpuCgroupStorage or MapType.ProgArray;

    /// <summary>Simulated CPU <paramref name="id"/>.</summary>
    public NapiContext Cpu(int id) => _cpus[id];

    /// <summary>The device with <paramref name="ifindex"/>, or null.</summary>
    public NetDevice? Device(int ifindex) => (uint)ifindex < (uint)_byIfindex.Length ? _byIfindex[ifindex] : null;

    /// <summary>The device named <paramref name="name"/>, or null.</summary>
    public NetDevice? Device(string name)
    {
        foreach (var d in _devices)
        {
            if (d.Name == name)
            {
                return d;
            }
        }

        return null;
    }

    /// <inheritdoc/>
    INetDevice? INetDeviceResolver.Find(int ifindex) => Device(ifindex);

    internal XdpProgramInstance? EgressProgram(BpfMap? map, uint key, int cpu)
    {
        if (_egress.Count == 0)
        {
            return null;
        }

        object? prog = map switch
        {
            DevMap dm => dm.GetProgram(key),
            DevMapHash dh => dh.GetProgram(key),
            _ => null,
        };
        return prog is not null && _egress.TryGetValue(prog, out var perCpu) ? perCpu[cpu] : null;
    }

    /// <summary>Frees the pool, the engines and the objects.</summary>
    public void Dispose()
    {
        foreach (var i in _instances)
        {
            i.Dispose();
        }

        foreach (var o in _objects)
        {
            o.Dispose();
        }

        Capture?.Dispose();
        Xsk?.Dispose(); // xsk:
        _pool?.Dispose();
    }
}
