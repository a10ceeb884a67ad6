using System.Buffers.Binary;
using System.Globalization;
using VethXdp.Vm.Btf;
using VethXdp.Vm.Isa;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Xdp;

namespace VethXdp.Kernel;

/// <summary>An object loaded into the running kernel from our own loader's output: its maps created, its
/// programs verified and loaded, program arrays and maps of maps filled; ready to test-run and inspect.</summary>
/// <remarks>
/// Loading follows libbpf's order: maps in <see cref="MapSpec"/> order (inner-map templates first, global data
/// written and <c>.rodata</c> frozen), then programs (their 64-bit map loads carry src BPF_PSEUDO_MAP_IDX or
/// _IDX_VALUE with the map's index, and we pass every map's fd as fd_array, Linux 5.14+), then the initial
/// slots. Disposing closes every fd, which frees the objects.
/// </remarks>
public sealed class KernelObject : IDisposable
{
    private readonly List<MapSpec> _specs = [];
    private readonly List<BpfFd> _mapFds = [];
    private readonly Dictionary<string, int> _mapIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ProgramSpec Spec, BpfFd Fd, string Log)> _programs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KernelUserRingBuffer> _userRings = new(StringComparer.Ordinal);
    private readonly int _cpu;
    private BtfSpec? _btfSpec;
    private BpfFd? _btf;
    private IReadOnlyDictionary<string, uint>? _btfStrings;
    private bool _disposed;

    private KernelObject(int cpu) => _cpu = cpu;

    /// <summary>True when the object's BTF was loaded (maps get key/value types, programs func_info).</summary>
    public bool HasBtf => _btf is not null;

    /// <summary>Why the object's BTF could not be loaded (the object then loads without it, as libbpf does), or null.</summary>
    public string? BtfError { get; private set; }

    /// <summary>The maps, in object order, with the max_entries the kernel got.</summary>
    public IReadOnlyList<MapSpec> Maps => _specs;

    /// <summary>The names of the loaded programs.</summary>
    public IReadOnlyCollection<string> ProgramNames => _programs.Keys;

    /// <summary>Number of possible CPUs (per-CPU values hold one slot of round_up(value size, 8) bytes each).</summary>
    public static int PossibleCpus => CpuTopology.PossibleCpus;

    /// <summary>Loads an object our ELF loader read: its maps, then its programs (those libbpf loads by default, or
    /// those <see cref="KernelLoadOptions.Programs"/> names), then its initial slots.</summary>
    /// <param name="obj">The object.</param>
    /// <param name="options">Map sizes, which programs, the CPU; null for the defaults.</param>
    /// <exception cref="KernelBpfException">The kernel refused a map, a program (with the verifier's log) or a slot.</exception>
    /// <exception cref="NotSupportedException">The object needs something the bridge cannot give the kernel yet.</exception>
    public static KernelObject Load(VethXdp.Vm.Elf.BpfObject obj, KernelLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return Load(obj.Maps, obj.Programs, obj.Btf, options);
    }

    /// <summary>Loads <paramref name="maps"/> and <paramref name="programs"/> into the kernel.</summary>
    /// <param name="maps">The object's maps; program map references index this list.</param>
    /// <param name="programs">The object's linked programs.</param>
    /// <param name="options">Map sizes, which programs, the CPU; null for the defaults.</param>
    /// <exception cref="KernelBpfException">The kernel refused a map, a program (with the verifier's log) or a slot.</exception>
    /// <exception cref="NotSupportedException">The object needs something the bridge cannot give the kernel yet
    /// (kernel variables; a map left unsized; a local storage map without the object's BTF).</exception>
    public static KernelObject Load(IReadOnlyList<MapSpec> maps, IReadOnlyList<ProgramSpec> programs, KernelLoadOptions? options = null) =>
        Load(maps, programs, null, options);

    /// <summary>Loads <paramref name="maps"/> and <paramref name="programs"/> into the kernel, with the object's BTF
    /// <paramref name="btf"/> (map key and value types, func_info) when the kernel takes it.</summary>
    /// <param name="maps">The object's maps; program map references index this list.</param>
    /// <param name="programs">The object's linked programs.</param>
    /// <param name="btf">The object's BTF, or null.</param>
    /// <param name="options">Map sizes, which programs, the CPU; null for the defaults.</param>
    /// <exception cref="KernelBpfException">The kernel refused a map, a program (with the verifier's log) or a slot.</exception>
    /// <exception cref="NotSupportedException">The object needs something the bridge cannot give the kernel.</exception>
    public static KernelObject Load(IReadOnlyList<MapSpec> maps, IReadOnlyList<ProgramSpec> programs, BtfSpec? btf, KernelLoadOptions? options)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(programs);
        options ??= new KernelLoadOptions();
        var obj = new KernelObject(options.Cpu);
        try
        {
            if (btf is not null)
            {
                obj.LoadBtf(btf, programs);
            }

            foreach (var spec in maps)
            {
                obj.CreateMap(spec, options);
            }

            foreach (var prog in programs)
            {
                bool wanted = options.Programs is null ? prog.AutoLoad : options.Programs.Contains(prog.Name);
                if (wanted)
                {
                    obj.LoadProgram(prog, options);
                }
            }

            foreach (var spec in obj._specs)
            {
                obj.FillSlots(spec);
            }

            return obj;
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }

    /// <summary>The map's fd.</summary>
    /// <param name="name">The map's name.</param>
    public BpfFd MapFd(string name) => _mapFds[IndexOf(name)];

    /// <summary>The program's fd.</summary>
    /// <param name="name">The program's function name.</param>
    public BpfFd ProgramFd(string name) => Program(name).Fd;

    /// <summary>The verifier log of the program's load (empty unless <see cref="KernelLoadOptions.LogLevel"/> was set).</summary>
    /// <param name="name">The program's function name.</param>
    public string ProgramLog(string name) => Program(name).Log;

    /// <summary>Size of a user-side value of the map: the value size, or for per-CPU maps round_up(value size, 8)
    /// times the number of possible CPUs.</summary>
    /// <param name="name">The map's name.</param>
    public int UserValueSize(string name) => UserValueSize(_specs[IndexOf(name)]);

    /// <summary>Runs the program once with BPF_PROG_TEST_RUN on <paramref name="packet"/>, on the CPU of
    /// <see cref="KernelLoadOptions.Cpu"/>, with ctx_in an <c>xdp_md</c> giving the ingress device and queue.</summary>
    /// <param name="program">The program's function name.</param>
    /// <param name="packet">The frame (at least 14 bytes, as the kernel demands).</param>
    /// <param name="ingressIfindex">ingress_ifindex: a device in the calling thread's network namespace (1: loopback).</param>
    /// <param name="rxQueue">rx_queue_index: a queue of that device.</param>
    /// <exception cref="KernelBpfException">The kernel refused the run (EINVAL for a short frame or a bad queue, ENODEV ...).</exception>
    public KernelRunResult TestRun(string program, ReadOnlySpan<byte> packet, uint ingressIfindex = 1, uint rxQueue = 0)
    {
        var fd = ProgramFd(program);
        var ctx = new byte[XdpMd.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(XdpMd.Data), 0);                     // no metadata
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(XdpMd.DataEnd), (uint)packet.Length); // must equal data_size_in
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(XdpMd.IngressIfindex), ingressIfindex);
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(XdpMd.RxQueueIndex), rxQueue);
        var request = new TestRunRequest
        {
            Data = packet.ToArray(),
            DataOutCapacity = packet.Length + 8192,
            Context = ctx,
            ContextOutCapacity = XdpMd.Size,
        };
        TestRunResult r;
        using (CpuTopology.PinCurrentThread(_cpu))
        {
            r = BpfSyscall.ProgTestRun(fd, request);
        }

        int meta = r.ContextOut.Length >= 4 ? (int)BinaryPrimitives.ReadUInt32LittleEndian(r.ContextOut) : 0;
        return new KernelRunResult(r.Retval, r.DataOut, Math.Min(meta, r.DataOut.Length), r.Duration);
    }

    /// <summary>Every entry of the map, in the kernel's BPF_MAP_GET_NEXT_KEY order. Queue and stack are popped
    /// empty (giving their values in pop order) and pushed back as they were; ring buffers and perf event arrays
    /// list nothing (their records are events, not entries), nor do local storages (task, cgroup, socket, inode:
    /// their keys are file descriptors of the owners, and they have no BPF_MAP_GET_NEXT_KEY).</summary>
    /// <param name="name">The map's name.</param>
    public IReadOnlyList<KernelMapEntry> DumpMap(string name)
    {
        int index = IndexOf(name);
        var spec = _specs[index];
        var fd = _mapFds[index];
        var entries = new List<KernelMapEntry>();
        switch (spec.Type)
        {
            case MapType.Ringbuf or MapType.UserRingbuf or MapType.PerfEventArray:
                return entries;
            case MapType.TaskStorage or MapType.CgrpStorage or MapType.SkStorage or MapType.InodeStorage:
                return entries;   // keyed by a pidfd, cgroup fd, socket fd or file fd; no get_next_key (-ENOTSUPP)
            case MapType.Queue or MapType.Stack:
            {
                var value = new byte[spec.ValueSize];
                while (BpfSyscall.TryMapLookupAndDelete(fd, [], value))
                {
                    entries.Add(new KernelMapEntry([], (byte[])value.Clone()));
                }

                // Push back so the map is as it was: a queue in pop order, a stack in reverse pop order.
                for (int i = 0; i < entries.Count; i++)
                {
                    var e = entries[spec.Type == MapType.Queue ? i : entries.Count - 1 - i];
                    BpfSyscall.MapUpdate(fd, [], e.Value);
                }

                return entries;
            }
        }

        var key = Array.Empty<byte>();
        var next = new byte[spec.KeySize];
        var buffer = new byte[UserValueSize(spec)];
        while (BpfSyscall.TryMapGetNextKey(fd, key, next))
        {
            key = (byte[])next.Clone();
            try
            {
                if (BpfSyscall.TryMapLookup(fd, key, buffer))
                {
                    entries.Add(new KernelMapEntry(key, (byte[])buffer.Clone()));
                }
            }
            catch (KernelBpfException e) when (e.Errno is Errno.EOPNOTSUPP or Errno.ENOTSUPP)
            {
                return entries;   // e.g. XSKMAP: no user-space lookup
            }
        }

        return entries;
    }

    /// <summary>BPF_MAP_LOOKUP_ELEM on the named map; false when the key is absent.</summary>
    /// <param name="name">The map's name.</param>
    /// <param name="key">The key.</param>
    /// <param name="value">Receives the value (<see cref="UserValueSize(string)"/> bytes).</param>
    public bool LookupMap(string name, ReadOnlySpan<byte> key, Span<byte> value) => BpfSyscall.TryMapLookup(MapFd(name), key, value);

    /// <summary>BPF_MAP_UPDATE_ELEM on the named map (per-CPU maps take every CPU's value at once; an empty key pushes
    /// onto a queue or stack).</summary>
    /// <param name="name">The map's name.</param>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="flags">BPF_ANY, BPF_NOEXIST or BPF_EXIST.</param>
    public void UpdateMap(string name, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = BpfFlags.Any) =>
        BpfSyscall.MapUpdate(MapFd(name), key, value, flags);

    /// <summary>User space's producer side of the named BPF_MAP_TYPE_USER_RINGBUF (mapped on first use, unmapped
    /// when this object is disposed).</summary>
    /// <param name="name">The map's name.</param>
    /// <exception cref="ArgumentException">The map is not a user ring buffer.</exception>
    /// <exception cref="KernelBpfException">mmap failed.</exception>
    public KernelUserRingBuffer UserRingBuffer(string name)
    {
        int index = IndexOf(name);
        if (_specs[index].Type != MapType.UserRingbuf)
        {
            throw new ArgumentException($"map \"{name}\" is a {MapTypeNames.ToName(_specs[index].Type)} map, not a user_ringbuf", nameof(name));
        }

        if (!_userRings.TryGetValue(name, out var ring))
        {
            ring = new KernelUserRingBuffer(_mapFds[index], _specs[index].MaxEntries);
            _userRings.Add(name, ring);
        }

        return ring;
    }

    /// <summary>BPF_MAP_DELETE_ELEM on the named map; false when the key is absent.</summary>
    /// <param name="name">The map's name.</param>
    /// <param name="key">The key.</param>
    public bool DeleteFromMap(string name, ReadOnlySpan<byte> key) => BpfSyscall.TryMapDelete(MapFd(name), key);

    /// <summary>The name of the loaded program with kernel id <paramref name="id"/> (as program arrays report their
    /// slots), or null.</summary>
    /// <param name="id">A program id.</param>
    public string? ProgramNameById(uint id)
    {
        foreach (var (name, p) in _programs)
        {
            if (BpfSyscall.GetObjectId(p.Fd) == id)
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>The name of the map with kernel id <paramref name="id"/> (as maps of maps report their slots), or null.</summary>
    /// <param name="id">A map id.</param>
    public string? MapNameById(uint id)
    {
        for (int i = 0; i < _mapFds.Count; i++)
        {
            if (BpfSyscall.GetObjectId(_mapFds[i]) == id)
            {
                return _specs[i].Name;
            }
        }

        return null;
    }

    /// <summary>Closes every map and program fd.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var ring in _userRings.Values)
        {
            ring.Dispose();
        }

        foreach (var p in _programs.Values)
        {
            p.Fd.Dispose();
        }

        foreach (var fd in _mapFds)
        {
            fd.Dispose();
        }

        _btf?.Dispose();
    }

    /// <summary>True for the map types whose user-side values hold every CPU's value.</summary>
    /// <param name="type">The map type.</param>
    public static bool IsPerCpu(MapType type) =>
        type is MapType.PercpuArray or MapType.PercpuHash or MapType.LruPercpuHash or MapType.PercpuCgroupStorage;

    private static int UserValueSize(MapSpec spec) =>
        IsPerCpu(spec.Type) ? (int)((spec.ValueSize + 7) & ~7u) * PossibleCpus
        : spec.Type is MapType.ProgArray or MapType.ArrayOfMaps or MapType.HashOfMaps ? 4
        : (int)spec.ValueSize;

    private (ProgramSpec Spec, BpfFd Fd, string Log) Program(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _programs.TryGetValue(name, out var p)
            ? p
            : throw new ArgumentException($"no loaded program \"{name}\" (loaded: {string.Join(", ", _programs.Keys)})", nameof(name));
    }

    private int IndexOf(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _mapIndex.TryGetValue(name, out int i)
            ? i
            : throw new ArgumentException($"no map \"{name}\" (maps: {string.Join(", ", _mapIndex.Keys)})", nameof(name));
    }

    private void CreateMap(MapSpec spec, KernelLoadOptions options)
    {
        if (spec.Type is MapType.StructOps or MapType.Arena or MapType.CgroupStorage or MapType.PercpuCgroupStorage)
        {
            throw new NotSupportedException(
                $"map \"{spec.Name}\": {spec.Type} maps need an attach target or a struct_ops/arena setup, which the kernel bridge does not give");
        }

        bool localStorage = IsLocalStorage(spec.Type);
        if (localStorage && (_btf is null || spec.BtfKeyTypeId == 0 || spec.BtfValueTypeId == 0))
        {
            // kernel: bpf_local_storage_map_alloc_check() wants the value's BTF (map_check_btf)
            throw new NotSupportedException(
                $"map \"{spec.Name}\": {MapTypeNames.ToName(spec.Type)} maps need the object's BTF key and value types ({(_btf is null ? BtfError ?? "the object has no BTF" : "the definition names none")})");
        }

        uint maxEntries = options.MapSizes.TryGetValue(spec.Name, out uint size) ? size : spec.MaxEntries;
        if (localStorage)
        {
            maxEntries = 0;   // local storages must be created with max_entries 0
        }
        else if (maxEntries == 0 && spec.Type == MapType.PerfEventArray)
        {
            maxEntries = (uint)PossibleCpus;   // as libbpf sizes it
        }
        else if (maxEntries == 0)
        {
            throw new NotSupportedException($"map \"{spec.Name}\": max_entries is 0 (left for user space to size); give it a size");
        }

        BpfFd? template = null;
        try
        {
            if (spec.Type is MapType.ArrayOfMaps or MapType.HashOfMaps)
            {
                var inner = spec.InnerMap
                    ?? throw new NotSupportedException($"map \"{spec.Name}\": a map of maps needs its inner map's definition");
                template = BpfSyscall.MapCreate(Request(inner, inner.MaxEntries == 0 ? 1 : inner.MaxEntries, null, inner.Name));
            }

            BpfFd fd;
            if (_btf is not null && (spec.BtfKeyTypeId | spec.BtfValueTypeId) != 0 && TakesBtf(spec.Type))
            {
                var request = Request(spec, maxEntries, template, spec.Name) with
                {
                    Btf = _btf,
                    BtfKeyTypeId = spec.BtfKeyTypeId,
                    BtfValueTypeId = spec.BtfValueTypeId,
                };
                try
                {
                    fd = BpfSyscall.MapCreate(request);
                }
                catch (KernelBpfException) when (!localStorage)
                {
                    fd = BpfSyscall.MapCreate(Request(spec, maxEntries, template, spec.Name));   // as libbpf: retry without BTF
                }
            }
            else
            {
                fd = BpfSyscall.MapCreate(Request(spec, maxEntries, template, spec.Name));
            }

            _mapIndex[spec.Name] = _specs.Count;
            _specs.Add(spec with { MaxEntries = maxEntries });
            _mapFds.Add(fd);
        }
        finally
        {
            template?.Dispose();   // the outer map keeps what it needs of the template
        }

        if (spec.IsGlobalData)
        {
            var value = new byte[spec.ValueSize];
            spec.InitialData?.AsSpan(0, Math.Min(spec.InitialData.Length, value.Length)).CopyTo(value);
            BpfSyscall.MapUpdate(_mapFds[^1], stackalloc byte[4], value);   // key 0 of the single-entry array
        }

        if (spec.Frozen)
        {
            BpfSyscall.MapFreeze(_mapFds[^1]);
        }
    }

    private static bool IsLocalStorage(MapType type) =>
        type is MapType.TaskStorage or MapType.CgrpStorage or MapType.SkStorage or MapType.InodeStorage;

    // libbpf (bpf_object__create_map) passes no BTF key/value types for these map types.
    private static bool TakesBtf(MapType type) => type is not (MapType.PerfEventArray or MapType.CgroupArray
        or MapType.StackTrace or MapType.ArrayOfMaps or MapType.HashOfMaps or MapType.Devmap or MapType.DevmapHash
        or MapType.Cpumap or MapType.Xskmap or MapType.Sockmap or MapType.Sockhash or MapType.Queue or MapType.Stack);

    private void LoadBtf(BtfSpec btf, IReadOnlyList<ProgramSpec> programs)
    {
        var extra = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in programs)
        {
            foreach (var l in p.Lines)
            {
                extra.Add(l.File);
                extra.Add(l.Text);
            }
        }

        try
        {
            _btf = BpfSyscall.BtfLoad(KernelBtf.Encode(btf, extra, out _btfStrings));
            _btfSpec = btf;
        }
        catch (KernelBpfException e)
        {
            BtfError = e.Message;   // libbpf: BTF is optional; the object loads without it
        }
        catch (NotSupportedException e)
        {
            BtfError = e.Message;
        }
    }

    private List<(int InsnOff, uint TypeId)>? FuncInfo(ProgramSpec spec)
    {
        if (_btfSpec is null || spec.Functions.Count == 0)
        {
            return null;
        }

        var list = new List<(int, uint)>(spec.Functions.Count);
        foreach (var f in spec.Functions.OrderBy(f => f.StartSlot))
        {
            if (_btfSpec.FindByName(f.Name, BtfKind.Func) is not { } func)
            {
                return null;
            }

            list.Add((f.StartSlot, func.Id));
        }

        return list.Count > 0 && list[0].Item1 == 0 ? list : null;
    }

    // bpf_line_info for the kernel: strictly increasing slots, each function starting with one (check_btf_line).
    private List<(int, uint, uint, uint)>? LineInfo(ProgramSpec spec, bool withFuncInfo)
    {
        if (!withFuncInfo || _btfStrings is null || spec.Lines.Count == 0)
        {
            return null;
        }

        var list = new List<(int, uint, uint, uint)>(spec.Lines.Count);
        foreach (var l in spec.Lines)
        {
            if (list.Count > 0 && l.Slot <= list[^1].Item1)
            {
                return null;
            }

            uint lineCol = ((uint)l.Line << 10) | ((uint)l.Column & 0x3ff);
            list.Add((l.Slot, _btfStrings[l.File], _btfStrings[l.Text], lineCol));
        }

        var starts = list.Select(x => x.Item1).ToHashSet();
        return spec.Functions.All(f => starts.Contains(f.StartSlot)) ? list : null;
    }

    private static MapCreateRequest Request(MapSpec spec, uint maxEntries, BpfFd? inner, string name) => new()
    {
        Type = spec.Type,
        KeySize = spec.KeySize,
        ValueSize = spec.ValueSize,
        MaxEntries = maxEntries,
        Flags = spec.Flags,
        Name = name,
        InnerMap = inner,
        NumaNode = spec.NumaNode,
    };

    private void LoadProgram(ProgramSpec spec, KernelLoadOptions options)
    {
        var slots = spec.Slots.ToArray();
        var kfuncAt = spec.Kfuncs.ToDictionary(k => k.Slot);
        for (int pc = 0; pc < slots.Length; pc++)
        {
            var insn = slots[pc];
            if (insn.Opcode == Op.Call && insn.SrcReg == (int)CallKind.Kfunc)
            {
                // Our loader numbers kfuncs itself; the kernel wants the function's id in vmlinux BTF (off 0).
                if (!kfuncAt.TryGetValue(pc, out var call))
                {
                    throw new NotSupportedException($"program \"{spec.Name}\": insn {pc}: kfunc call (imm {insn.Imm}) without a name");
                }

                uint id = KernelBtf.VmlinuxFuncId(call.Name)
                    ?? throw new NotSupportedException($"program \"{spec.Name}\": insn {pc}: kfunc {call.Name} is not in the running kernel's BTF ({(KernelBtf.Vmlinux is null ? "/sys/kernel/btf/vmlinux is unreadable" : "no such FUNC")})");
                slots[pc] = new Instruction(insn.Opcode, insn.Regs, 0, (int)id);
            }

            if (insn.IsLdImm64 && insn.SrcReg == (int)PseudoSrc.BtfId)
            {
                throw new NotSupportedException($"program \"{spec.Name}\": insn {pc}: a kernel variable (ld_imm64 src=3) needs the running kernel's BTF ids");
            }

            if (insn.IsLdImm64 && insn.SrcReg is (int)PseudoSrc.MapIdx or (int)PseudoSrc.MapIdxValue && (uint)insn.Imm >= (uint)_mapFds.Count)
            {
                throw new ArgumentException($"program \"{spec.Name}\": insn {pc}: map index {insn.Imm} but the object has {_mapFds.Count} map(s)", nameof(spec));
            }

            if (insn.IsLdImm64)
            {
                pc++;
            }
        }

        var funcInfo = FuncInfo(spec);
        var request = new ProgLoadRequest
        {
            Type = spec.Type,
            Instructions = slots,
            License = spec.License,
            Btf = _btf,
            FuncInfo = funcInfo,
            LineInfo = LineInfo(spec, funcInfo is not null),
            Name = spec.Name,
            ExpectedAttachType = spec.ExpectedAttachType,
            Flags = spec.Frags ? BpfFlags.XdpHasFrags : 0,
            FdArray = _mapFds,
            LogLevel = options.LogLevel,
        };
        try
        {
            ProgLoadResult r;
            try
            {
                r = BpfSyscall.ProgLoad(request);
            }
            catch (KernelBpfException e) when (request.LineInfo is not null && e.VerifierLog?.Contains("line_info", StringComparison.Ordinal) == true)
            {
                r = BpfSyscall.ProgLoad(request with { LineInfo = null });   // line info is for logs only: load without it
            }

            _programs.Add(spec.Name, (spec, r.Fd, r.Log));
        }
        catch (KernelBpfException e) when (e.VerifierLog?.Contains("has to have BTF in order to use", StringComparison.Ordinal) == true)
        {
            throw new NotSupportedException($"program \"{spec.Name}\": {e.VerifierMessage} (the kernel bridge does not load BTF yet)", e);
        }
    }

    private void FillSlots(MapSpec spec)
    {
        if (spec.InitialSlots.Count == 0)
        {
            return;
        }

        var fd = _mapFds[IndexOf(spec.Name)];
        Span<byte> key = stackalloc byte[4];
        foreach (var slot in spec.InitialSlots)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(key, slot.Index);
            byte[] value = new byte[Math.Max(4, (int)spec.ValueSize)];
            switch (spec.Type)
            {
                case MapType.ProgArray:
                    BinaryPrimitives.WriteInt32LittleEndian(value, Program(slot.Target).Fd.Value);
                    break;
                case MapType.ArrayOfMaps or MapType.HashOfMaps:
                    BinaryPrimitives.WriteInt32LittleEndian(value, MapFd(slot.Target).Value);
                    break;
                case MapType.Devmap or MapType.DevmapHash when uint.TryParse(slot.Target, NumberStyles.None, CultureInfo.InvariantCulture, out uint ifindex):
                    BinaryPrimitives.WriteUInt32LittleEndian(value, ifindex);
                    break;
                default:
                    throw new NotSupportedException($"map \"{spec.Name}\": initial slot [{slot.Index}] = {slot.Target} of a {spec.Type} map");
            }

            try
            {
                BpfSyscall.MapUpdate(fd, key, value.AsSpan(0, spec.Type is MapType.ProgArray or MapType.ArrayOfMaps or MapType.HashOfMaps ? 4 : (int)spec.ValueSize));
            }
            catch (KernelBpfException e)
            {
                throw new KernelBpfException(e.Command, e.Errno, null, $"map \"{spec.Name}\": slot [{slot.Index}] = {slot.Target}");
            }
        }
    }
}
