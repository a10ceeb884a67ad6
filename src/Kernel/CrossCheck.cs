using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text.RegularExpressions;
using VethXdp.Vm.Elf;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Pcap;
using VethXdp.Vm.Programs;
using VethXdp.Vm.Runtime;

namespace VethXdp.Kernel;

/// <summary>The kernel cross-check: runs one XDP program of an object on the same frames in our VM and in the running
/// kernel (BPF_PROG_TEST_RUN), with the same initial maps, and reports every packet and map where they disagree.</summary>
/// <remarks>
/// <para>Both sides load the object as it is: our VM through <see cref="LoadedObject"/> with the kernel's number of
/// possible CPUs, the kernel through <see cref="KernelObject"/>. The whole run happens on a thread of its own, pinned
/// to <see cref="CrossCheckOptions.Cpu"/> (map updates included, so that per-CPU values and LRU lists land where the
/// VM puts them) and, when an environment is given, inside a fresh network namespace made for the run.</para>
/// <para>Per packet: the retval, a refusal on one side (frames shorter than 14 bytes or too long must be refused by
/// both, with the same errno), and the bytes from data_meta to the end of the frame (the kernel's data_out against
/// our metadata then data). XDP_REDIRECT is compared as a retval and bytes only: BPF_PROG_TEST_RUN does not send the
/// frame, so our redirect target has no counterpart (it is kept in <see cref="CrossCheckPacket.Redirect"/>). Ring
/// buffer records are read from the kernel's ring (mmap, as libbpf consumes it) after every packet and compared with
/// ours. After the run (and after each packet on request) every map is dumped on both sides in one canonical form
/// (<see cref="CrossCheckMapDump"/>) and compared. What cannot be compared is listed with its reason.</para>
/// </remarks>
public static partial class CrossCheck
{
    /// <summary>Cross-checks <paramref name="obj"/> on <paramref name="frames"/>.</summary>
    /// <param name="obj">The object, as our ELF loader read it.</param>
    /// <param name="frames">The frames, in order.</param>
    /// <param name="options">The program, maps, run controls and environment; null for the defaults.</param>
    /// <exception cref="InvalidOperationException">bpf() is not permitted here (the message says why), or the
    /// environment could not be made.</exception>
    /// <exception cref="ArgumentException">No such program, or several and none chosen; or initial maps JSON that is
    /// malformed or names a map the object does not have.</exception>
    public static CrossCheckReport Run(BpfObject obj, IEnumerable<ReadOnlyMemory<byte>> frames, CrossCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return Run(obj.Maps, obj.Programs, obj.Btf, frames, options, obj);
    }

    /// <summary>Cross-checks programs and maps that do not come from an object file (hand-assembled programs, tests),
    /// on <paramref name="frames"/>. Programs refer to maps by index (64-bit loads with src BPF_PSEUDO_MAP_IDX or
    /// BPF_PSEUDO_MAP_IDX_VALUE).</summary>
    /// <param name="maps">The maps.</param>
    /// <param name="programs">The programs.</param>
    /// <param name="btf">Their BTF, or null.</param>
    /// <param name="frames">The frames, in order.</param>
    /// <param name="options">The program, maps, run controls and environment; null for the defaults.</param>
    /// <exception cref="InvalidOperationException">bpf() is not permitted here (the message says why), or the
    /// environment could not be made.</exception>
    /// <exception cref="ArgumentException">No such program, or several and none chosen; or initial maps JSON that is
    /// malformed or names a map the object does not have.</exception>
    public static CrossCheckReport Run(IReadOnlyList<MapSpec> maps, IReadOnlyList<ProgramSpec> programs, VethXdp.Vm.Btf.BtfSpec? btf,
        IEnumerable<ReadOnlyMemory<byte>> frames, CrossCheckOptions? options = null) =>
        Run(maps, programs, btf, frames, options, null);

    private static CrossCheckReport Run(IReadOnlyList<MapSpec> maps, IReadOnlyList<ProgramSpec> programs, VethXdp.Vm.Btf.BtfSpec? btf,
        IEnumerable<ReadOnlyMemory<byte>> frames, CrossCheckOptions? options, BpfObject? obj)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(programs);
        ArgumentNullException.ThrowIfNull(frames);
        options ??= new CrossCheckOptions();
        if (!KernelProbe.IsBpfPermitted(out string reason))
        {
            throw new InvalidOperationException($"the kernel cross-check needs bpf(): {reason}");
        }

        var list = new List<byte[]>();
        foreach (var f in frames)
        {
            list.Add(f.ToArray());
        }

        string program = ChooseProgram(programs, options.Program);
        IReadOnlyList<MapsJsonMap>? initial = null;
        if (options.InitialMapsJson is { } json)
        {
            try
            {
                initial = MapsJson.Parse(CrossCheckMaps.WithTypes(json, maps), "initial maps");
            }
            catch (MapsJsonException e)
            {
                throw new ArgumentException($"the initial maps: {e.Message}", nameof(options), e);
            }
        }

        return OnOwnThread(() => new CrossCheckSession(obj, maps, programs, btf, program, list, initial, options).Run());
    }

    /// <summary>Cross-checks <paramref name="obj"/> on every frame of a pcap or pcapng file.</summary>
    /// <param name="obj">The object.</param>
    /// <param name="pcapPath">The capture.</param>
    /// <param name="options">The program, maps, run controls and environment; null for the defaults.</param>
    /// <exception cref="PcapFormatException">The capture is malformed.</exception>
    /// <exception cref="InvalidOperationException">bpf() is not permitted here.</exception>
    public static CrossCheckReport Run(BpfObject obj, string pcapPath, CrossCheckOptions? options = null) =>
        Run(obj, ReadFrames(pcapPath), options);

    /// <summary>Every frame of a pcap or pcapng file (the captured bytes), in order.</summary>
    /// <param name="pcapPath">The capture.</param>
    /// <exception cref="PcapFormatException">The capture is malformed.</exception>
    public static IReadOnlyList<ReadOnlyMemory<byte>> ReadFrames(string pcapPath)
    {
        using var reader = PcapReader.Open(pcapPath);
        var list = new List<ReadOnlyMemory<byte>>();
        foreach (var r in reader.ReadAll())
        {
            list.Add(r.Data.ToArray());
        }

        return list;
    }

    /// <summary>The program a cross-check runs: <paramref name="name"/>, or the object's only XDP program that
    /// BPF_PROG_TEST_RUN can run (not a devmap or cpumap entry program).</summary>
    /// <param name="programs">The object's programs.</param>
    /// <param name="name">The program's function name, or null.</param>
    /// <exception cref="ArgumentException">No such program, or several and none chosen.</exception>
    public static string ChooseProgram(IReadOnlyList<ProgramSpec> programs, string? name)
    {
        ArgumentNullException.ThrowIfNull(programs);
        if (name is not null)
        {
            return programs.Any(p => p.Name == name)
                ? name
                : throw new ArgumentException($"the object has no program \"{name}\" (its programs: {string.Join(", ", programs.Select(p => p.Name))})", nameof(name));
        }

        var runnable = programs
            .Where(p => p.Type == ProgramType.Xdp && p.ExpectedAttachType is not (BpfFlags.AttachXdpDevmap or BpfFlags.AttachXdpCpumap))
            .ToList();
        return runnable.Count == 1
            ? runnable[0].Name
            : throw new ArgumentException(runnable.Count == 0
                ? "the object has no XDP program that BPF_PROG_TEST_RUN can run"
                : $"the object has {runnable.Count} XDP programs ({string.Join(", ", runnable.Select(p => p.Name))}): choose one", nameof(name));
    }

    /// <summary>The errno name in an error message of ours ("... (-EINVAL)" gives "EINVAL"), or null.</summary>
    /// <param name="message">The message.</param>
    public static string? ErrnoOf(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var m = ErrnoPattern().Match(message);
        return m.Success ? m.Groups[1].Value : null;
    }

    [GeneratedRegex(@"\(-(E[A-Z0-9]+)\)")]
    private static partial Regex ErrnoPattern();

    private static T OnOwnThread<T>(Func<T> body)
    {
        T result = default!;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    result = body();
                }
#pragma warning disable CA1031 // rethrown on the calling thread
                catch (Exception e)
#pragma warning restore CA1031
                {
                    error = ExceptionDispatchInfo.Capture(e);
                }
            },
            16 << 20)
        {
            IsBackground = true,
            Name = "vethxdp cross-check",
        };
        thread.Start();
        thread.Join();
        error?.Throw();
        return result;
    }

    // One run: both sides loaded, filled, run and compared, on the calling (dedicated) thread.
    private sealed class CrossCheckSession(BpfObject? obj, IReadOnlyList<MapSpec> maps, IReadOnlyList<ProgramSpec> programs, VethXdp.Vm.Btf.BtfSpec? btf, string program, List<byte[]> frames, IReadOnlyList<MapsJsonMap>? initial, CrossCheckOptions options)
    {
        private readonly List<PacketDisagreement> _packetDisagreements = [];
        private readonly List<MapDisagreement> _mapDisagreements = [];
        private readonly HashSet<string> _mapSeen = new(StringComparer.Ordinal);
        private Dictionary<string, Dictionary<string, string>> _kernelBefore = new(StringComparer.Ordinal);
        private Dictionary<string, Dictionary<string, string>> _oursBefore = new(StringComparer.Ordinal);
        private readonly List<string> _notCompared = [];
        private readonly List<CrossCheckPacket> _packets = [];
        private readonly Dictionary<string, CrossCheckRingBuffer> _rings = new(StringComparer.Ordinal);
        private IReadOnlyList<MapSpec> _comparable = [];

        public CrossCheckReport Run()
        {
            LoadedObject? vm = null;
            XdpRunner? runner = null;
            KernelObject? kernel = null;
            CrossCheckNamespace? ns = null;
            NetEnvironment? net = null;
            string? vmRefusal = null, kernelRefusal = null;
            try
            {
                try
                {
                    var load = new LoadOptions { PossibleCpus = KernelObject.PossibleCpus, MapSizes = options.MapSizes };
                    vm = obj is not null ? LoadedObject.Create(obj, load) : LoadedObject.Create(maps, programs, load);
                    net = options.VmNetwork ?? (options.Environment is { } e ? CrossCheckVmNetwork.Build(e) : null);
                    foreach (var map in vm.Maps)
                    {
                        map.UserCpu = options.Cpu;
                        switch (map)
                        {
                            case DevMap d when net is not null:
                                d.DeviceResolver = net;
                                break;
                            case DevMapHash h when net is not null:
                                h.DeviceResolver = net;
                                break;
                        }
                    }
                }
                catch (RuntimeLoadException e)
                {
                    vmRefusal = e.Message;
                }

                if (options.Environment is { } env)
                {
                    ns = CrossCheckNamespace.Create(env);
                }

                using var pin = CpuTopology.PinCurrentThread(options.Cpu);
                try
                {
                    kernel = KernelObject.Load(maps, programs, btf, new KernelLoadOptions
                    {
                        MapSizes = options.MapSizes,
                        Cpu = options.Cpu,
                        Programs = ProgramsToLoad(),
                    });
                }
                catch (KernelBpfException e)
                {
                    kernelRefusal = e.Message;
                }
                catch (NotSupportedException e)
                {
                    kernelRefusal = $"the kernel bridge cannot load it: {e.Message}";
                }

                if (vm is not null && kernel is not null)
                {
                    InitializeMaps(vm, kernel);
                    try
                    {
                        runner = new XdpRunner(vm, program, (options.VmRunOptions ?? RunOptions.Default) with
                        {
                            Ifindex = options.Ifindex,
                            RxQueue = options.RxQueue,
                            Cpu = options.Cpu,
                        });
                    }
                    catch (RuntimeLoadException e)
                    {
                        vmRefusal = e.Message;
                    }

                    if (runner is not null)
                    {
                        if (net is not null)
                        {
                            NetRunState.For(runner.Env).Environment = net;
                        }

                        options.ConfigureVm?.Invoke(runner);
                    }
                }

                if (kernel is null)
                {
                    return Report(kernelRefusal, vmRefusal);
                }

                if (runner is null)
                {
                    // We refused it: the kernel's outcomes are still worth having (the refusal is the disagreement).
                    var ours = CrossCheckOutcome.Refused($"we refused the program: {vmRefusal}", null);
                    for (int i = 0; i < frames.Count; i++)
                    {
                        _packets.Add(new CrossCheckPacket(i, frames[i].Length, RunKernel(kernel, frames[i]), ours, null));
                    }

                    return Report(null, vmRefusal);
                }

                foreach (var skip in options.Skips)
                {
                    if (skip.Field == CrossCheckSkipField.Data)
                    {
                        _notCompared.Add(skip.ToString());
                    }
                }

                OpenRings(kernel);
                _comparable = CrossCheckMaps.Comparable(kernel.Maps, options.Skips, _notCompared);
                if (options.CompareMapsAfterEachPacket)
                {
                    SnapshotMaps(vm!, kernel);
                }

                int traced = 0;
                for (int i = 0; i < frames.Count; i++)
                {
                    traced += RunPacket(i, runner, kernel);
                }

                CompareMaps(vm!, kernel, null);
                ListTrace(traced);
                return Report(null, null);
            }
            finally
            {
                foreach (var ring in _rings.Values)
                {
                    ring.Dispose();
                }

                runner?.Dispose();
                kernel?.Dispose();
                vm?.Dispose();
                ns?.Dispose();
            }
        }

        private CrossCheckReport Report(string? kernelRefusal, string? vmRefusal) =>
            new(program, _packets, _packetDisagreements, _mapDisagreements, _notCompared, kernelRefusal, vmRefusal);

        private string[]? ProgramsToLoad()
        {
            var spec = programs.First(p => p.Name == program);
            return spec.AutoLoad ? null : [.. programs.Where(p => p.AutoLoad).Select(p => p.Name), program];
        }

        private void InitializeMaps(LoadedObject vm, KernelObject kernel)
        {
            if (initial is { } parsed)
            {
                var byName = new Dictionary<string, BpfMap>(StringComparer.Ordinal);
                foreach (var map in vm.Maps)
                {
                    byName.TryAdd(map.Name, map);
                }

                try
                {
                    MapsJson.Apply(parsed, "initial maps", byName, vm.Names);
                }
                catch (MapsJsonException e)
                {
                    _mapDisagreements.Add(new(null, e.MapName ?? "(initial maps)", null, $"setting the initial contents: we refused them: {e.Message}"));
                }

                try
                {
                    CrossCheckMaps.ApplyToKernel(parsed, kernel);
                }
                catch (MapsJsonException e)
                {
                    _mapDisagreements.Add(new(null, e.MapName ?? "(initial maps)", null, $"setting the initial contents: the kernel refused them: {e.Message}"));
                }
            }

            options.InitializeMaps?.Invoke(vm, kernel);
        }

        private void OpenRings(KernelObject kernel)
        {
            var eventSkip = options.Skips.FirstOrDefault(s => s.Field == CrossCheckSkipField.Events);
            foreach (var spec in kernel.Maps)
            {
                if (spec.Type != MapType.Ringbuf)
                {
                    continue;
                }

                if (eventSkip is not null)
                {
                    _notCompared.Add($"ring buffer \"{spec.Name}\" records: {eventSkip.Reason}");
                    continue;
                }

                try
                {
                    _rings[spec.Name] = CrossCheckRingBuffer.Open(kernel.MapFd(spec.Name), spec.MaxEntries);
                }
                catch (InvalidOperationException e)
                {
                    _notCompared.Add($"ring buffer \"{spec.Name}\" records: the kernel's ring could not be read ({e.Message})");
                }
            }

            if (eventSkip is not null && !kernel.Maps.Any(m => m.Type == MapType.Ringbuf))
            {
                _notCompared.Add(eventSkip.ToString());
            }
        }

        private int RunPacket(int index, XdpRunner runner, KernelObject kernel)
        {
            byte[] frame = frames[index];
            var r = runner.Run(frame);
            CrossCheckOutcome ours;
            if (r.Error is { } err)
            {
                ours = CrossCheckOutcome.Refused(err.ToString(), ErrnoOf(err.Message));
            }
            else
            {
                var output = new byte[r.Meta.Length + r.Data.Length];
                r.Meta.Span.CopyTo(output);
                r.Data.Span.CopyTo(output.AsSpan(r.Meta.Length));
                ours = CrossCheckOutcome.Verdict(r.Retval, output, r.Meta.Length);
            }

            string? redirect = r.Redirect is { } ri
                ? $"{ri.KindName}{(ri.Ifindex is { } ifx ? $" ifindex {ifx}" : "")}{(ri.Map is { } m ? $" map {m} key {ri.Key}" : "")}{(ri.Broadcast ? " broadcast" : "")}"
                : null;
            var ourRecords = new Dictionary<string, List<byte[]>>(StringComparer.Ordinal);
            foreach (var e in r.Events)
            {
                if (e.Source == EventSource.Ringbuf)
                {
                    if (!ourRecords.TryGetValue(e.Map, out var l))
                    {
                        ourRecords[e.Map] = l = [];
                    }

                    l.Add(e.Data.ToArray());
                }
            }

            int traced = r.Trace.Count;

            var theirs = RunKernel(kernel, frame);

            _packetDisagreements.AddRange(CrossCheckComparer.ComparePacket(index, theirs, ours, options.Skips));
            int records = 0;
            foreach (var (name, ring) in _rings)
            {
                var kernelRecords = ring.Drain();
                records += kernelRecords.Count;
                ourRecords.TryGetValue(name, out var mine);
                CompareRecords(index, name, kernelRecords, mine ?? []);
            }

            _packets.Add(new CrossCheckPacket(index, frame.Length, theirs, ours, redirect, records));

            if (options.CompareMapsAfterEachPacket)
            {
                CompareMaps(runner.Object, kernel, index);
            }

            return traced;
        }

        private CrossCheckOutcome RunKernel(KernelObject kernel, byte[] frame)
        {
            try
            {
                var k = kernel.TestRun(program, frame, options.Ifindex, options.RxQueue);
                return CrossCheckOutcome.Verdict(k.Retval, k.DataOut, k.MetaLength);
            }
            catch (KernelBpfException e)
            {
                return CrossCheckOutcome.Refused($"{e.ErrnoName} ({ErrnoNames.Describe(e.Errno)})", e.ErrnoName);
            }
        }

        private void CompareRecords(int index, string ring, List<byte[]> kernel, List<byte[]> ours)
        {
            if (kernel.Count != ours.Count)
            {
                _packetDisagreements.Add(new(index, PacketField.Events, string.Create(CultureInfo.InvariantCulture,
                    $"ring buffer \"{ring}\": the kernel's ring got {kernel.Count} record(s), ours {ours.Count}")));
            }

            for (int i = 0; i < Math.Min(kernel.Count, ours.Count); i++)
            {
                if (!kernel[i].AsSpan().SequenceEqual(ours[i]))
                {
                    _packetDisagreements.Add(new(index, PacketField.Events, string.Create(CultureInfo.InvariantCulture,
                        $"ring buffer \"{ring}\" record {i}: {CrossCheckComparer.HexDiff(kernel[i], ours[i]).Replace("output bytes differ", "record bytes differ", StringComparison.Ordinal)}")));
                }
            }
        }

        private void CompareMaps(LoadedObject vm, KernelObject kernel, int? packet)
        {
            var k = CrossCheckMaps.DumpKernel(kernel, _comparable, options.Skips);
            var o = CrossCheckMaps.DumpVm(vm, _comparable, options.Skips);
            if (packet is null)
            {
                _mapDisagreements.AddRange(CrossCheckComparer.CompareMaps(k, o, null, options.MaxDifferencesPerMap));
                return;
            }

            // After a packet, an entry is reported when this packet made it differ: it was the same on both sides
            // before, or only one side changed it. (Two counters that both move, having differed before, are the
            // earlier packet's fault.)
            var kNow = Values(k);
            var oNow = Values(o);
            var perMap = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var d in CrossCheckComparer.CompareMaps(k, o, packet, int.MaxValue))
            {
                bool report;
                if (d.Key is null)
                {
                    report = _mapSeen.Add($"{d.Map}\n{d.Description}");
                }
                else
                {
                    string? kp = Value(_kernelBefore, d.Map, d.Key), op = Value(_oursBefore, d.Map, d.Key);
                    string? kn = Value(kNow, d.Map, d.Key), on = Value(oNow, d.Map, d.Key);
                    report = kp == op || (kp != kn) != (op != on);
                }

                int n = perMap.GetValueOrDefault(d.Map);
                if (report && n < options.MaxDifferencesPerMap)
                {
                    perMap[d.Map] = n + 1;
                    _mapDisagreements.Add(d);
                }
            }

            _kernelBefore = kNow;
            _oursBefore = oNow;
        }

        // The maps as they are before the first packet, for the after-each-packet comparison.
        // What differs already then is reported as packet -1.
        private void SnapshotMaps(LoadedObject vm, KernelObject kernel)
        {
            var k = CrossCheckMaps.DumpKernel(kernel, _comparable, options.Skips);
            var o = CrossCheckMaps.DumpVm(vm, _comparable, options.Skips);
            _mapDisagreements.AddRange(CrossCheckComparer.CompareMaps(k, o, -1, options.MaxDifferencesPerMap));
            _kernelBefore = Values(k);
            _oursBefore = Values(o);
        }

        private static Dictionary<string, Dictionary<string, string>> Values(IReadOnlyList<CrossCheckMapDump> dumps)
        {
            var all = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
            foreach (var m in dumps)
            {
                var entries = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var e in m.Entries)
                {
                    entries[e.Key] = e.ValueText;
                }

                all[m.Name] = entries;
            }

            return all;
        }

        private static string? Value(Dictionary<string, Dictionary<string, string>> dumps, string map, string key) =>
            dumps.TryGetValue(map, out var entries) && entries.TryGetValue(key, out string? v) ? v : null;

        private void ListTrace(int traced)
        {
            var skip = options.Skips.FirstOrDefault(s => s.Field == CrossCheckSkipField.Trace);
            if (skip is not null)
            {
                _notCompared.Add(skip.ToString());
            }
            else if (traced > 0)
            {
                _notCompared.Add(string.Create(CultureInfo.InvariantCulture,
                    $"trace: {traced} trace_printk line(s) of ours: the kernel writes its lines to the machine-wide trace_pipe, which BPF_PROG_TEST_RUN does not return"));
            }
        }
    }
}
