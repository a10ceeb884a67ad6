using VethXdp.Vm.Elf;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Maps;
using VethXdp.Vm.Programs;

namespace VethXdp.Vm.Runtime;

/// <summary>An object loaded for running: its maps created, its programs linked to them, its program arrays and maps
/// of maps filled (what libbpf's bpf_object__load does, without a kernel).</summary>
/// <remarks>Every XDP program that loads by default is prepared when the object is created, so a program that calls a
/// helper that does not exist refuses the whole object, as the kernel refuses it at load. Others are prepared when
/// first asked for. Dispose frees the maps' memory.</remarks>
public sealed class LoadedObject : IDisposable
{
    private readonly Dictionary<ProgramSpec, ExecutableProgram> _prepared = new(ReferenceEqualityComparer.Instance);
    private bool _disposed;

    private LoadedObject(BpfObject? obj, IReadOnlyList<ProgramSpec> programs, MapSet maps, HelperTable helpers, LoadOptions options)
    {
        Object = obj;
        Programs = programs;
        Maps = maps;
        Helpers = helpers;
        Options = options;
    }

    /// <summary>The object file this was loaded from, when it came from one.</summary>
    public BpfObject? Object { get; }

    /// <summary>The programs, in the object's order.</summary>
    public IReadOnlyList<ProgramSpec> Programs { get; }

    /// <summary>The maps, by index and by name.</summary>
    public MapSet Maps { get; }

    /// <summary>The helpers the programs call.</summary>
    public HelperTable Helpers { get; }

    /// <summary>The options the object was loaded with.</summary>
    public LoadOptions Options { get; }

    /// <summary>The number of possible CPUs the maps were created for.</summary>
    public int PossibleCpus => Maps.PossibleCpus;

    /// <summary>Loads the object in the ELF file at <paramref name="path"/>.</summary>
    /// <exception cref="ElfLoadException">The file is not a BPF object the loader accepts.</exception>
    /// <exception cref="RuntimeLoadException">A map or program is refused.</exception>
    public static LoadedObject Open(string path, LoadOptions? options = null) => Create(ElfObjectReader.Load(path), options);

    /// <summary>Loads <paramref name="obj"/>: creates its maps and prepares its programs.</summary>
    /// <exception cref="RuntimeLoadException">A map or program is refused.</exception>
    public static LoadedObject Create(BpfObject obj, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return Create(obj.Maps, obj.Programs, options, obj);
    }

    /// <summary>Loads programs and map definitions that do not come from an object file (hand-assembled programs, tests).</summary>
    /// <exception cref="RuntimeLoadException">A map or program is refused.</exception>
    public static LoadedObject Create(IReadOnlyList<MapSpec> maps, IReadOnlyList<ProgramSpec> programs, LoadOptions? options = null) =>
        Create(maps, programs, options, null);

    private static LoadedObject Create(IReadOnlyList<MapSpec> maps, IReadOnlyList<ProgramSpec> programs, LoadOptions? options, BpfObject? obj)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(programs);
        options ??= LoadOptions.Default;
        int cpus = options.PossibleCpus ?? LoadOptions.MachinePossibleCpus();
        if (cpus <= 0)
        {
            throw new RuntimeLoadException($"the number of possible CPUs must be positive, not {cpus}");
        }

        var set = new MapSet(maps, cpus, options.MapSizes, options.MapFactory);
        var loaded = new LoadedObject(obj, programs, set, options.Helpers ?? HelperTable.CreateDefault(), options);
        try
        {
            // User-space "fds" of programs (program array, devmap and cpumap updates) are their ids: index + 1.
            foreach (var map in set)
            {
                switch (map)
                {
                    case ProgArrayMap p:
                        p.ProgramResolver = loaded.ResolveProgramFd;
                        break;
                    case DevMap d:
                        d.ProgramResolver = loaded.ResolveProgramFd;
                        break;
                    case DevMapHash h:
                        h.ProgramResolver = loaded.ResolveProgramFd;
                        break;
                    case CpuMap c:
                        c.ProgramResolver = loaded.ResolveProgramFd;
                        break;
                }
            }

            foreach (var spec in programs)
            {
                if (spec.AutoLoad && spec.Type == ProgramType.Xdp)
                {
                    loaded.Prepare(spec);
                }
            }

            set.FillInitialSlots(name => loaded.FindProgram(name) is { } p ? (loaded.Prepare(p), loaded.ProgramId(p)) : null);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }

        return loaded;
    }

    /// <summary>The program named <paramref name="name"/> (its function symbol); with null, the object's only program.</summary>
    /// <exception cref="RuntimeLoadException">There is no such program, or name is null and the object has several
    /// (the message lists them) or none.</exception>
    public ProgramSpec GetProgram(string? name)
    {
        if (name is null)
        {
            return Programs.Count switch
            {
                1 => Programs[0],
                0 => throw new RuntimeLoadException("the object has no programs"),
                _ => throw new RuntimeLoadException($"the object has {Programs.Count} programs ({ProgramNames()}): choose one"),
            };
        }

        return FindProgram(name)
            ?? throw new RuntimeLoadException($"the object has no program named \"{name}\" (its programs: {ProgramNames()})");
    }

    /// <summary>The program named <paramref name="name"/>, or null.</summary>
    public ProgramSpec? FindProgram(string name)
    {
        foreach (var p in Programs)
        {
            if (p.Name == name)
            {
                return p;
            }
        }

        return null;
    }

    /// <summary>The program ready to run: map references resolved, calls checked (prepared once, then cached).</summary>
    /// <exception cref="RuntimeLoadException">The program refers to something that does not exist.</exception>
    public ExecutableProgram Prepare(ProgramSpec program)
    {
        ArgumentNullException.ThrowIfNull(program);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_prepared.TryGetValue(program, out var prepared))
        {
            prepared = ProgramPreparer.Prepare(program, Maps, Helpers, Options.DeviceBound);
            _prepared[program] = prepared;
        }

        return prepared;
    }

    /// <summary>Frees the maps.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Maps.Dispose();
    }

    private string ProgramNames() => string.Join(", ", Programs.Select(p => p.Name));

    /// <summary>The id of <paramref name="program"/>: its index in <see cref="Programs"/> + 1 (0 when it is not one of
    /// them). Program arrays, devmaps and cpumaps give it on their user side; updates take it as the program's fd.</summary>
    public uint ProgramId(ProgramSpec program)
    {
        for (int i = 0; i < Programs.Count; i++)
        {
            if (ReferenceEquals(Programs[i], program))
            {
                return (uint)(i + 1);
            }
        }

        return 0;
    }

    /// <summary>Names for the program and map ids the maps hold on their user side, for <see cref="MapsJson"/>.</summary>
    public IMapsJsonNames Names => new MapsJsonNames(
        id => id - 1 < (uint)Programs.Count ? Programs[(int)(id - 1)].Name : null,
        name => FindProgram(name) is { } p ? ProgramId(p) : null,
        id => id - 1 < (uint)Maps.Count ? Maps[(int)(id - 1)].Name : null,
        name => Maps.IndexOf(name) is int i and >= 0 ? (uint)(i + 1) : null);

    private ExecutableProgram? ResolveProgramFd(uint fd)
    {
        if (fd - 1 >= (uint)Programs.Count)
        {
            return null;
        }

        try
        {
            return Prepare(Programs[(int)(fd - 1)]);
        }
        catch (RuntimeLoadException)
        {
            return null;
        }
    }
}
