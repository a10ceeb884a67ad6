using System.Collections;
using System.Runtime.InteropServices;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Memory;

namespace VethXdp.Vm.Runtime;

/// <summary>The created maps of a loaded object, by index (the index programs' map references use) and by name.</summary>
/// <remarks>
/// <para>Every map gets a <see cref="BpfMap.Handle"/>: an address inside a block of native memory that is reserved but
/// never registered as a region, <c>handle = base + 64 * index</c>. A program holds the handle where Linux gives it a
/// <c>struct bpf_map *</c>: it cannot read or write through it (any access faults), and helpers turn it back into the map
/// in O(1). Ids (<see cref="BpfMap.Id"/>) are index + 1, and are also the "fds" user-side updates of maps of maps
/// take.</para>
/// <para>The maps are created as bpf(BPF_MAP_CREATE) would create them (<see cref="MapFactory"/>): global-data maps
/// get their initial contents and .rodata is frozen. Program arrays and maps of maps are filled from their
/// definitions' initial slots when the object's programs are ready.</para>
/// </remarks>
public sealed unsafe class MapSet : IReadOnlyList<BpfMap>, IMapResolver, IDisposable
{
    /// <summary>Bytes between two handles.</summary>
    public const int HandleStride = 64;

    private readonly BpfMap[] _maps;
    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);
    private readonly RingBufMap[] _rings;
    private void* _handles;

    /// <summary>Creates every map of <paramref name="specs"/> with <paramref name="possibleCpus"/> CPUs.</summary>
    /// <param name="specs">The definitions, in the object's order.</param>
    /// <param name="possibleCpus">The number of possible CPUs.</param>
    /// <param name="sizes">max_entries overrides by name.</param>
    /// <param name="factory">Creates one map; <see cref="MapFactory.Create"/> when null.</param>
    /// <exception cref="RuntimeLoadException">A map is refused (bad definition, no size, unknown name in <paramref name="sizes"/>).</exception>
    public MapSet(IReadOnlyList<MapSpec> specs, int possibleCpus, IReadOnlyDictionary<string, uint>? sizes = null, Func<MapSpec, int, BpfMap>? factory = null)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(possibleCpus);
        factory ??= MapFactory.Create;
        sizes ??= new Dictionary<string, uint>();
        PossibleCpus = possibleCpus;
        foreach (var name in sizes.Keys)
        {
            bool found = false;
            foreach (var s in specs)
            {
                found |= s.Name == name;
            }

            if (!found)
            {
                throw new RuntimeLoadException($"--map-size {name}: the object has no map named \"{name}\"");
            }
        }

        _maps = new BpfMap[specs.Count];
        _handles = NativeMemory.AllocZeroed((nuint)(Math.Max(specs.Count, 1) * HandleStride));
        var rings = new List<RingBufMap>();
        try
        {
            for (int i = 0; i < specs.Count; i++)
            {
                var spec = specs[i];
                if (sizes.TryGetValue(spec.Name, out uint size))
                {
                    spec = spec with { MaxEntries = size };
                }

                BpfMap map;
                try
                {
                    map = factory(spec, possibleCpus);
                }
                catch (MapCreateException e)
                {
                    throw new RuntimeLoadException(e.Message, e);
                }

                map.Handle = HandleBase + (ulong)(i * HandleStride);
                map.Id = (uint)(i + 1);
                _maps[i] = map;
                _byName.TryAdd(map.Name, i);
                if (map is RingBufMap ring)
                {
                    rings.Add(ring);
                }

                // User-space "fds" in map updates are indexes into this set.
                switch (map)
                {
                    case ArrayOfMapsMap a:
                        a.MapResolver = Resolve;
                        break;
                    case HashOfMapsMap h:
                        h.MapResolver = Resolve;
                        break;
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        _rings = [.. rings];
    }

    /// <summary>The first handle: map i has handle <c>HandleBase + 64 * i</c>.</summary>
    public ulong HandleBase => (ulong)_handles;

    /// <summary>The number of possible CPUs the maps were created for.</summary>
    public int PossibleCpus { get; }

    /// <summary>Number of maps.</summary>
    public int Count => _maps.Length;

    /// <summary>The map at <paramref name="index"/> (its index in the object).</summary>
    public BpfMap this[int index] => _maps[index];

    /// <summary>The map named <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming the maps when there is none.</summary>
    public BpfMap this[string name] => TryGet(name, out var map)
        ? map
        : throw new KeyNotFoundException($"no map named \"{name}\" (the maps are: {string.Join(", ", Names())})");

    /// <summary>The map named <paramref name="name"/>, if any.</summary>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BpfMap? map)
    {
        if (_byName.TryGetValue(name, out int i))
        {
            map = _maps[i];
            return true;
        }

        map = null;
        return false;
    }

    /// <summary>The index of the map named <paramref name="name"/>, or -1.</summary>
    public int IndexOf(string name) => _byName.TryGetValue(name, out int i) ? i : -1;

    /// <summary>The ring buffers.</summary>
    public IReadOnlyList<RingBufMap> RingBuffers => _rings;

    /// <inheritdoc/>
    public BpfMap? ResolveMap(ulong handle)
    {
        ulong offset = handle - HandleBase;
        if (offset % HandleStride != 0)
        {
            return null;
        }

        ulong index = offset / HandleStride;
        return index < (ulong)_maps.Length ? _maps[index] : null;
    }

    /// <inheritdoc/>
    public RingBufMap? FindRingBuffer(ulong sample)
    {
        foreach (var ring in _rings)
        {
            foreach (var r in ring.ValueRegions)
            {
                if (sample - r.Start < r.Length)
                {
                    return ring;
                }
            }
        }

        return null;
    }

    /// <summary>Registers every map's value regions (read-only for maps programs may not write).</summary>
    public void RegisterRegions(RegionTable regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        foreach (var map in _maps)
        {
            bool readOnly = (map.Spec.Flags & MapFlags.RdonlyProg) != 0 || map.Spec.Frozen;
            foreach (var r in map.ValueRegions)
            {
                if (r.Length != 0)
                {
                    regions.Add(readOnly ? r with { Writable = false } : r);
                }
            }
        }
    }

    /// <summary>The total number of value regions (to notice maps that grew new ones).</summary>
    public int RegionCount
    {
        get
        {
            int n = 0;
            foreach (var map in _maps)
            {
                n += map.ValueRegions.Count;
            }

            return n;
        }
    }

    /// <summary>Sends every ring buffer and perf event array record to <paramref name="sink"/> as it is committed (null:
    /// records stay in the maps).</summary>
    public void SetEventSink(IMapEventSink? sink)
    {
        foreach (var map in _maps)
        {
            switch (map)
            {
                case RingBufMap ring:
                    ring.Sink = sink;
                    break;
                case PerfEventArrayMap perf:
                    perf.Sink = sink;
                    break;
            }
        }
    }

    /// <summary>Fills program arrays and maps of maps from their definitions' initial slots (libbpf takes
    /// <c>__array(values, ...)</c> for these two kinds only).</summary>
    /// <param name="programs">Finds a program by function name: the object to store and the id user-side lookups give
    /// (null when there is none).</param>
    /// <exception cref="RuntimeLoadException">A slot names a program or map that does not exist, or does not fit.</exception>
    public void FillInitialSlots(Func<string, (object Program, uint Id)?> programs)
    {
        ArgumentNullException.ThrowIfNull(programs);
        foreach (var map in _maps)
        {
            foreach (var slot in map.Spec.InitialSlots)
            {
                int err;
                switch (map)
                {
                    case ProgArrayMap progArray:
                    {
                        var (prog, id) = programs(slot.Target)
                            ?? throw new RuntimeLoadException($"map \"{map.Name}\": slot {slot.Index}: no program named \"{slot.Target}\"");
                        if (slot.Index >= map.Spec.MaxEntries)
                        {
                            throw new RuntimeLoadException($"map \"{map.Name}\": slot {slot.Index} is past max_entries {map.Spec.MaxEntries}");
                        }

                        progArray.SetProgram(slot.Index, prog, id);
                        err = 0;
                        break;
                    }

                    case ArrayOfMapsMap outer:
                        err = outer.SetInnerMap(slot.Index, InnerMap(map, slot));
                        break;
                    case HashOfMapsMap outer:
                    {
                        Span<byte> key = stackalloc byte[4];
                        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(key, slot.Index);
                        err = map.Spec.KeySize == 4 ? outer.SetInnerMap(key, InnerMap(map, slot)) : -Errno.EINVAL;
                        break;
                    }

                    default:
                        throw new RuntimeLoadException($"map \"{map.Name}\": {MapTypeNames.ToName(map.Type)} maps take no initial slots");
                }

                if (err < 0)
                {
                    throw new RuntimeLoadException($"map \"{map.Name}\": slot {slot.Index} = {slot.Target}: the update fails with -{ErrnoName(-err)}");
                }
            }
        }
    }

    /// <summary>The maps' names, in order.</summary>
    public IEnumerable<string> Names()
    {
        foreach (var map in _maps)
        {
            yield return map.Name;
        }
    }

    /// <inheritdoc/>
    public IEnumerator<BpfMap> GetEnumerator() => ((IEnumerable<BpfMap>)_maps).GetEnumerator();

    /// <inheritdoc/>
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Frees every map and the handle block.</summary>
    public void Dispose()
    {
        foreach (var map in _maps)
        {
            map?.Dispose();
        }

        if (_handles != null)
        {
            NativeMemory.Free(_handles);
            _handles = null;
        }
    }

    // A user-side "fd" of a map: its id, index + 1.
    private BpfMap? Resolve(uint fd) => fd - 1 < (uint)_maps.Length ? _maps[fd - 1] : null;

    private BpfMap InnerMap(BpfMap outer, MapSlotInit slot) =>
        TryGet(slot.Target, out var inner)
            ? inner
            : throw new RuntimeLoadException($"map \"{outer.Name}\": slot {slot.Index}: no map named \"{slot.Target}\"");

    private static string ErrnoName(int errno) => errno switch
    {
        Errno.EINVAL => "EINVAL",
        Errno.E2BIG => "E2BIG",
        Errno.EEXIST => "EEXIST",
        Errno.ENODEV => "ENODEV",
        Errno.EBADF => "EBADF",
        _ => errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
